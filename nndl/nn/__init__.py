"""Layers, containers, activations, losses, regularization and initializers."""

from nndl.nn import init
from nndl.nn.activation import (Sigmoid, Softplus, Step, Tanh, sigmoid_backward, sigmoid_forward, softplus_backward,
                                softplus_forward, step_backward, step_forward, tanh_backward, tanh_forward)
from nndl.nn.batchnorm import BatchNorm1d, BatchNorm2d, batchnorm_backward, batchnorm_forward
from nndl.nn.containers import Concat, Parallel, Residual
from nndl.nn.conv import Conv2d, conv2d_backward, conv2d_forward
from nndl.nn.conv_transpose import ConvTranspose2d, conv_transpose2d_backward, conv_transpose2d_forward
from nndl.nn.dropout import Dropout, Dropout2d, dropout_backward, dropout_forward, dropout_mask
from nndl.nn.layernorm import LayerNorm, layernorm_backward, layernorm_forward
from nndl.nn.lrn import LocalResponseNorm, lrn_backward, lrn_forward
from nndl.nn.linear import Linear, linear_backward, linear_forward
from nndl.nn.loss import Loss
from nndl.nn.loss_binary import BCELoss, BCEWithLogitsLoss
from nndl.nn.loss_hinge import MulticlassHingeLoss
from nndl.nn.loss_regression import L1Loss, MSELoss
from nndl.nn.loss_softmax import NLLLoss, SoftmaxCrossEntropy
from nndl.nn.maxout import Maxout, maxout_backward, maxout_forward
from nndl.nn.module import Module, StateDictError, backward_parameters
from nndl.nn.parameter import Parameter
from nndl.nn.pool import (AdaptiveAvgPool2d, AvgPool2d, GlobalAvgPool2d, MaxPool2d, avg_pool2d_backward,
                          avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward, max_pool2d_indices)
from nndl.nn.prelu import PReLU, prelu_backward, prelu_forward
from nndl.nn.rectifier import (ELU, LeakyReLU, ReLU, elu_backward, elu_forward, leaky_relu_backward,
                               leaky_relu_forward, relu_backward, relu_forward)
from nndl.nn.regularization import ElasticNetPenalty, L1Penalty, L2Penalty, Penalty, make_penalty
from nndl.nn.reshape import Flatten, Identity
from nndl.nn.sequential import Sequential
from nndl.nn.softmax import (LogSoftmax, Softmax, log_softmax, log_softmax_backward, log_softmax_forward, softmax,
                             softmax_backward, softmax_forward)
from nndl.nn.unpool import MaxUnpool2d, Upsample

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "BCELoss", "BCEWithLogitsLoss", "Concat",
    "Conv2d", "ConvTranspose2d", "Dropout", "Dropout2d", "ElasticNetPenalty", "ELU", "Flatten", "GlobalAvgPool2d",
    "Identity", "L1Loss", "L1Penalty", "L2Penalty", "LayerNorm", "LeakyReLU", "Linear", "LocalResponseNorm",
    "LogSoftmax", "Loss", "Maxout", "MaxPool2d", "MaxUnpool2d", "Module", "MSELoss", "MulticlassHingeLoss",
    "NLLLoss", "Parallel", "Parameter", "Penalty", "PReLU", "ReLU", "Residual", "Sequential", "Sigmoid", "Softmax",
    "SoftmaxCrossEntropy", "Softplus", "StateDictError", "Step", "Tanh", "Upsample", "avg_pool2d_backward",
    "avg_pool2d_forward", "backward_parameters", "batchnorm_backward", "batchnorm_forward", "conv2d_backward",
    "conv2d_forward", "conv_transpose2d_backward", "conv_transpose2d_forward", "dropout_backward",
    "dropout_forward", "dropout_mask", "elu_backward", "elu_forward", "init", "layernorm_backward",
    "layernorm_forward", "leaky_relu_backward", "leaky_relu_forward", "linear_backward", "linear_forward",
    "log_softmax", "log_softmax_backward", "log_softmax_forward", "lrn_backward", "lrn_forward", "make_penalty",
    "max_pool2d_backward", "max_pool2d_forward", "max_pool2d_indices", "maxout_backward", "maxout_forward",
    "prelu_backward", "prelu_forward", "relu_backward", "relu_forward", "sigmoid_backward", "sigmoid_forward",
    "softmax", "softmax_backward", "softmax_forward", "softplus_backward", "softplus_forward", "step_backward",
    "step_forward", "tanh_backward", "tanh_forward",
]
