"""Data augmentation with few training images: a small CNN on 8×8 digits, with and without augmentation.

The notes (000, 001: data augmentation): flips, crops, scales, rotations and
noise make new training images with the same label, which helps most when
data is scarce. This example trains the same small CNN on ``per_class``
training images per digit, once on the images as they are and once on a
random rotation (up to 8°) and translation (up to 8% of the side) of
them drawn afresh every epoch, and reports the test accuracy of both over
several seeds.

Run ``python examples/augmentation_few_images.py``. Measured (10 images per
class, 300 epochs; the other 1697 digits are the test set):

====  =====  =========
seed  plain  augmented
====  =====  =========
0     0.926  0.938
1     0.919  0.952
2     0.912  0.939
mean  0.919  0.943
====  =====  =========

Augmentation must keep the label: on 8×8 images a 12° rotation plus a
±10% zoom and a 12% shift, after 150 epochs, gave 0.905 against 0.917 —
too strong a change of so few pixels hurts.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits

from nndl import nn, optim
from nndl.data import Compose, DataLoader, RandomRotation, RandomTranslation
from nndl.train import metrics

AUGMENT = Compose([RandomRotation(8.0), RandomTranslation(0.08)])


def small_cnn(seed: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=seed), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, rng=seed + 1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10, rng=seed + 2))


def few_images(per_class: int, seed: int):
    """``per_class`` training images of each digit, the rest of the 1797 as the test set; pixels in [0, 1]."""
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)])
    test = np.setdiff1d(np.arange(len(y)), train)
    return x[train], y[train], x[test], y[test]


def train(x, y, transform, epochs: int, seed: int) -> nn.Module:
    model = small_cnn(seed)
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(x, y, batch_size=20, rng=seed, transform=transform)
    for _ in range(epochs):
        for xb, yb in loader:
            loss_fn(model(xb), yb)
            optimizer.zero_grad()
            nn.backward(model, loss_fn.backward())
            optimizer.step()
    return model.eval()


def main(per_class: int = 10, epochs: int = 300, seeds=(0, 1, 2), verbose: bool = True) -> dict:
    """``{'plain': [test accuracy per seed], 'augmented': [...]}``, printed as a table."""
    results = {"plain": [], "augmented": []}
    for seed in seeds:
        x_train, y_train, x_test, y_test = few_images(per_class, seed)
        for name, transform in (("plain", None), ("augmented", AUGMENT)):
            model = train(x_train, y_train, transform, epochs, seed)
            results[name].append(metrics.accuracy(y_test, model(x_test)))
    if verbose:
        print(f"{per_class} training images per class, test accuracy")
        print("seed   plain  augmented")
        for i, seed in enumerate(seeds):
            print(f"{seed:4d}  {results['plain'][i]:6.3f}  {results['augmented'][i]:9.3f}")
        print(f"mean  {np.mean(results['plain']):6.3f}  {np.mean(results['augmented']):9.3f}")
    return results


if __name__ == "__main__":
    main()
