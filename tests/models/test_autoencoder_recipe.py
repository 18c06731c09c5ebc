"""The autoencoder recipe: the Trainer with nn.MSELoss and targets y = x, for Autoencoder and ConvAutoencoder."""

import numpy as np
import pytest

from nndl import models, nn, optim
from nndl.train import Trainer


@pytest.mark.parametrize("build, shape", [
    (lambda: models.autoencoder([64, 16, 4], output_activation="sigmoid", rng=0), (64,)),
    (lambda: models.conv_autoencoder(channels=(4, 8), output_activation="sigmoid", rng=0), (1, 8, 8)),
    (lambda: models.conv_autoencoder(channels=(4, 8), decoder="unpool", output_activation="sigmoid", rng=0),
     (1, 8, 8)),
])
def test_reconstruction_through_the_trainer(build, shape):
    pytest.importorskip("sklearn")
    from nndl.data import load_digits

    x, _ = load_digits(flatten=len(shape) == 1)
    x = x[:300]
    model = build()
    trainer = Trainer(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01))
    start = trainer.evaluate(x, x)
    history = trainer.fit(x, x, epochs=8, batch_size=32, rng=0, verbose=0)
    assert set(history.history) >= {"loss", "mse", "mae"}     # regression metrics, not accuracy
    end = trainer.evaluate(x, x)
    assert end["loss"] < 0.7 * start["loss"]
    assert end["mse"] == pytest.approx(end["loss"], rel=1e-5)
    assert trainer.predict(x[:5]).shape == (5, *shape)
