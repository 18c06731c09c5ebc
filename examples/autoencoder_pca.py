"""Autoencoders against PCA on the digits, and a denoising autoencoder.

The notes' claim (003): a *linear* autoencoder ``x' = W₂(W₁x + b₁) + b₂``
trained with the squared error learns the subspace of PCA's first m
components (not the components themselves: any basis of that subspace
reconstructs as well). Measured: the principal angles between the column
space of the decoder's ``W₂`` and ``nndl.classic.PCA``'s components (all
near 0), and both reconstruction errors (equal). The recipe is the
ordinary one: the Trainer with ``nn.MSELoss()`` and targets ``y = x``.

A denoising autoencoder is trained on inputs with Gaussian noise added and
the clean images as targets (``fit(x + noise, x)``); on noisy test images
it reconstructs the clean ones better than the linear autoencoder and PCA.
``--figure PATH`` saves originals, noisy inputs and the reconstructions.

Full size (``python examples/autoencoder_pca.py``, m = 8)::

    largest principal angle (rad)      0.130
    reconstruction MSE, PCA            0.0239
    reconstruction MSE, linear AE      0.0239
    noisy test inputs, MSE to clean    0.0906
      PCA                              0.0352
      linear AE                        0.0387
      denoising AE                     0.0291

The largest angle belongs to the last direction kept: the 8th and 9th
variances are close, so gradient descent turns slowly between them while the
error is already PCA's to four digits. With m = 4 (clearer gaps) the same
100 epochs give angles below 0.02 rad (``tests/examples``).
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.linalg import subspace_angles

from nndl import models, nn, optim
from nndl.classic import PCA
from nndl.data import load_digits
from nndl.train import Trainer


def train_autoencoder(model, x_in, x_target, epochs: int, lr: float, seed: int):
    """The recipe: MSE between the reconstruction and the target, Adam, then a tenth of the rate."""
    optimizer = optim.Adam(model.parameters(), lr=lr)
    trainer = Trainer(model, nn.MSELoss(), optimizer, metrics=[], warn_input_range=False)
    trainer.fit(x_in, x_target, epochs=epochs, batch_size=64, rng=seed, verbose=0)
    optimizer.param_groups[0]["lr"] = lr / 10
    trainer.fit(x_in, x_target, epochs=max(1, epochs // 10), batch_size=64, rng=seed, verbose=0)
    return model.eval()


def linear_autoencoder_angles(code_size: int = 8, epochs: int = 100, seed: int = 0):
    """Principal angles (rad) between a trained linear autoencoder's decoder subspace and PCA's; and both models."""
    x, _ = load_digits(flatten=True, dtype=np.float64)
    pca = PCA(n_components=code_size).fit(x)
    model = models.autoencoder([64, code_size], linear=True, rng=seed, dtype=np.float64)
    train_autoencoder(model, x, x, epochs, 0.01, seed)
    return subspace_angles(model.decoder[0].weight.data, pca.components_.T), model, pca


def mse(a, b) -> float:
    return float(np.mean((a - b) ** 2))


def main(code_size: int = 8, epochs: int = 100, noise: float = 0.3, seed: int = 0, figure: str | None = None,
         verbose: bool = True) -> dict:
    """The figures above as a dict."""
    x, _ = load_digits(flatten=True, dtype=np.float64)
    angles, linear, pca = linear_autoencoder_angles(code_size, epochs, seed)
    order = np.random.default_rng(seed).permutation(len(x))
    train, test = order[: len(x) * 3 // 4], order[len(x) * 3 // 4:]
    rng = np.random.default_rng(seed + 1)
    noisy_train = x[train] + noise * rng.standard_normal(x[train].shape)
    noisy_test = x[test] + noise * rng.standard_normal(x[test].shape)
    denoising = models.autoencoder([64, 32, code_size], output_activation="sigmoid", rng=seed, dtype=np.float64)
    train_autoencoder(denoising, noisy_train, x[train], epochs, 0.005, seed)
    reconstructions = {"PCA": pca.inverse_transform(pca.transform(noisy_test)), "linear AE": linear(noisy_test),
                       "denoising AE": denoising(noisy_test)}
    result = {"max_angle": float(angles.max()),
              "mse_pca": mse(pca.inverse_transform(pca.transform(x)), x), "mse_linear_ae": mse(linear(x), x),
              "mse_noisy_input": mse(noisy_test, x[test]),
              "denoising": {name: mse(r, x[test]) for name, r in reconstructions.items()}}
    if verbose:
        print(f"largest principal angle (rad)      {result['max_angle']:.3f}")
        print(f"reconstruction MSE, PCA            {result['mse_pca']:.4f}")
        print(f"reconstruction MSE, linear AE      {result['mse_linear_ae']:.4f}")
        print(f"noisy test inputs, MSE to clean    {result['mse_noisy_input']:.4f}")
        for name, value in result["denoising"].items():
            print(f"  {name:33s}{value:.4f}")
    if figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = {"original": x[test], "noisy": noisy_test, **reconstructions}
        fig, axes = plt.subplots(len(rows), 8, figsize=(8, len(rows)))
        for r, (name, images) in enumerate(rows.items()):
            axes[r, 0].set_ylabel(name, rotation=0, ha="right", fontsize=8)
            for c in range(8):
                axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
                axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        fig.savefig(figure, dpi=100, bbox_inches="tight")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figure", help="save the reconstructions to this image file")
    main(figure=parser.parse_args().figure)
