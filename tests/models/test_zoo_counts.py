"""Parameter counts and operation counts of the zoo against the published figures.

Source of the torchvision figures: the model builders' documentation, e.g.
https://pytorch.org/vision/stable/models/generated/torchvision.models.vgg16.html
("num_params" and "GFLOPS" of each ``*_Weights.IMAGENET1K_V1``). torchvision's
GFLOPS are multiply-accumulates of the conv and linear layers at 224×224
(for the batch-norm VGGs they also count the normalization, hence those
figures are not compared here). Models are built with ``init="zeros"``:
``np.zeros`` does not touch its memory, so even VGG-19 builds instantly.
"""

import pytest

from nndl.models import MODEL_ZOO, ZOO_INPUT_SHAPES
from nndl.summary import summary

PUBLISHED = {
    # name: (num_params, GFLOPS) from torchvision's docs; None = no published operation count compared
    "alexnet": (61_100_840, 0.71),
    "vgg11": (132_863_336, 7.61), "vgg11_bn": (132_868_840, None),
    "vgg13": (133_047_848, 11.31), "vgg13_bn": (133_053_736, None),
    "vgg16": (138_357_544, 15.47), "vgg16_bn": (138_365_992, None),
    "vgg19": (143_667_240, 19.63), "vgg19_bn": (143_678_248, None),
    "googlenet": (6_624_904, 1.50),
    "resnet18": (11_689_512, 1.81), "resnet34": (21_797_672, 3.66), "resnet50": (25_557_032, 4.09),
    "densenet121": (7_978_856, 2.83),
}

DERIVED = {
    "lenet5": 61_706,             # 156 + 2,416 + 48,120 + 10,164 + 850 (LeCun et al. 1998, 32×32 variant)
    "alexnet_original": 60_965_224,  # derivation in AlexNetOriginal's docstring (the paper's "60 million")
    "zfnet": 62_357_608,          # derivation in ZFNet's docstring
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_parameter_counts_and_macs(name):
    params, gflops = PUBLISHED[name]
    model = MODEL_ZOO[name](init="zeros")
    result = summary(model, (3, 224, 224))
    assert result.total_params == params == model.num_parameters()
    assert result.trainable_params == params
    assert result.output_shape == (1, 1000)
    if gflops is not None:
        assert round(result.total_macs / 1e9, 2) == gflops


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_derived_parameter_counts(name):
    result = summary(MODEL_ZOO[name](init="zeros"), ZOO_INPUT_SHAPES[name])
    assert result.total_params == DERIVED[name]


def test_exact_macs_of_alexnet_and_the_batch_norm_vgg_adds_no_macs():
    # conv1 64·55·55·3·121 + conv2 192·27·27·64·25 + conv3..5 at 13×13 + fc 9216·4096 + 4096·4096 + 4096·1000
    expected = (64 * 55 * 55 * 363 + 192 * 27 * 27 * 1600 + 169 * 9 * (384 * 192 + 256 * 384 + 256 * 256)
                + 9216 * 4096 + 4096 * 4096 + 4096 * 1000)
    assert summary(MODEL_ZOO["alexnet"](init="zeros"), (3, 224, 224)).total_macs == expected == 714_188_480
    plain = summary(MODEL_ZOO["vgg11"](init="zeros"), (3, 224, 224)).total_macs
    assert summary(MODEL_ZOO["vgg11_bn"](init="zeros"), (3, 224, 224)).total_macs == plain


def test_lenet5_layers_match_the_classic_table():
    rows = summary(MODEL_ZOO["lenet5"](init="zeros"), (1, 32, 32)).notes_rows()
    assert [(r["activation_shape"], r["parameters"]) for r in rows] == [
        ((32, 32, 1), 0), ((28, 28, 6), 156), ((14, 14, 6), 0), ((10, 10, 16), 2416), ((5, 5, 16), 0),
        ((120, 1), 48120), ((84, 1), 10164), ((10, 1), 850)]
