"""Layers, containers, activations, losses, regularization and initializers."""

from nndl.nn.core import init
from nndl.nn.core.config import ConfigError, from_config, to_config
from nndl.nn.core.kernels import kernel_set_name, set_kernels, use_kernels
from nndl.nn.activations.activation import Sigmoid, Softplus, Step, Tanh
from nndl.nn.functional.activations import (elu_backward, elu_forward, leaky_relu_backward, leaky_relu_forward,
                                            prelu_backward, prelu_forward, relu_backward, relu_forward,
                                            sigmoid_backward, sigmoid_forward, softplus_backward, softplus_forward,
                                            step_backward, step_forward, tanh_backward, tanh_forward)
from nndl.nn.layers.batchnorm import BatchNorm1d, BatchNorm2d
from nndl.nn.functional.normalization import (batch_norm_backward as batchnorm_backward,
                                              batch_norm_forward as batchnorm_forward,
                                              layer_norm_backward as layernorm_backward,
                                              layer_norm_forward as layernorm_forward,
                                              local_response_norm_backward as lrn_backward,
                                              local_response_norm_forward as lrn_forward)
from nndl.nn.core.containers import Concat, Parallel, Residual
from nndl.nn.layers.conv import Conv2d
from nndl.nn.functional.conv import conv2d_backward, conv2d_forward, conv_transpose2d_backward, conv_transpose2d_forward
from nndl.nn.layers.conv_transpose import ConvTranspose2d
from nndl.nn.layers.dropout import Dropout, Dropout2d
from nndl.nn.functional.dropout import dropout_backward, dropout_forward, dropout_mask
from nndl.nn.layers.layernorm import LayerNorm
from nndl.nn.layers.lrn import LocalResponseNorm
from nndl.nn.layers.linear import Linear
from nndl.nn.functional.linear import linear_backward, linear_forward, maxout_backward, maxout_forward
from nndl.nn.losses.loss import Loss
from nndl.nn.losses.binary import BCELoss, BCEWithLogitsLoss
from nndl.nn.losses.hinge import MulticlassHingeLoss
from nndl.nn.losses.regression import L1Loss, MSELoss
from nndl.nn.losses.softmax_cross_entropy import NLLLoss, SoftmaxCrossEntropy
from nndl.nn.layers.maxout import Maxout
from nndl.nn.layers.noise import GaussianNoise
from nndl.nn.core.hooks import RemovableHandle, backward, backward_parameters
from nndl.nn.core.shapes import output_shape
from nndl.nn.core.module import Module, StateDictError
from nndl.nn.core.parameter import Parameter
from nndl.nn.layers.adaptive_pool import AdaptiveAvgPool2d, GlobalAvgPool2d
from nndl.nn.layers.avg_pool import AvgPool2d
from nndl.nn.layers.max_pool import MaxPool2d
from nndl.nn.functional.pooling import (avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
                                        max_pool2d_indices)
from nndl.nn.activations.prelu import PReLU
from nndl.nn.activations.rectifier import ELU, LeakyReLU, ReLU
from nndl.nn.losses.penalties import ElasticNetPenalty, L1Penalty, L2Penalty, Penalty, make_penalty
from nndl.nn.layers.reshape import Flatten, Identity
from nndl.nn.core.sequential import Sequential
from nndl.nn.activations.softmax import LogSoftmax, Softmax
from nndl.nn.functional.softmax_kernels import (log_softmax, log_softmax_backward, log_softmax_forward, logsumexp,
                                                softmax, softmax_backward, softmax_forward)
from nndl.nn.layers.unpool import MaxUnpool2d, Upsample

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "ConfigError", "RemovableHandle", "backward", "output_shape", "from_config", "to_config",
    "kernel_set_name", "set_kernels", "use_kernels", "BatchNorm1d", "BatchNorm2d", "BCELoss", "BCEWithLogitsLoss", "Concat",
    "Conv2d", "ConvTranspose2d", "Dropout", "Dropout2d", "ElasticNetPenalty", "ELU", "Flatten", "GaussianNoise", "GlobalAvgPool2d",
    "Identity", "L1Loss", "L1Penalty", "L2Penalty", "LayerNorm", "LeakyReLU", "Linear", "LocalResponseNorm",
    "LogSoftmax", "Loss", "Maxout", "MaxPool2d", "MaxUnpool2d", "Module", "MSELoss", "MulticlassHingeLoss",
    "NLLLoss", "Parallel", "Parameter", "Penalty", "PReLU", "ReLU", "Residual", "Sequential", "Sigmoid", "Softmax",
    "SoftmaxCrossEntropy", "Softplus", "StateDictError", "Step", "Tanh", "Upsample", "avg_pool2d_backward",
    "avg_pool2d_forward", "backward_parameters", "batchnorm_backward", "batchnorm_forward", "conv2d_backward",
    "conv2d_forward", "conv_transpose2d_backward", "conv_transpose2d_forward", "dropout_backward",
    "dropout_forward", "dropout_mask", "elu_backward", "elu_forward", "init", "layernorm_backward",
    "layernorm_forward", "leaky_relu_backward", "leaky_relu_forward", "linear_backward", "linear_forward",
    "log_softmax", "log_softmax_backward", "log_softmax_forward", "logsumexp", "lrn_backward", "lrn_forward", "make_penalty",
    "max_pool2d_backward", "max_pool2d_forward", "max_pool2d_indices", "maxout_backward", "maxout_forward",
    "prelu_backward", "prelu_forward", "relu_backward", "relu_forward", "sigmoid_backward", "sigmoid_forward",
    "softmax", "softmax_backward", "softmax_forward", "softplus_backward", "softplus_forward", "step_backward",
    "step_forward", "tanh_backward", "tanh_forward",
]
