"""Train a small MLP on scikit-learn's bundled 8x8 digits and print the test accuracy.

Only nndl.nn is used: forward, loss, explicit backward, and a plain gradient
step θ ← θ − η ∂L/∂θ written out by hand.
"""

import numpy as np
from sklearn.datasets import load_digits

from nndl import nn


def epoch_batches(indices: np.ndarray, batch_size: int, rng: np.random.Generator):
    """Mini-batches of one epoch: a fresh permutation of ``indices`` cut in order, so each sample is used once."""
    order = rng.permutation(indices)
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def main(seed: int = 0, epochs: int = 40, batch_size: int = 32, lr: float = 0.1) -> float:
    rng = np.random.default_rng(seed)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = rng.permutation(len(x))
    split = int(0.8 * len(x))
    train_idx, test_idx = order[:split], order[split:]

    model = nn.Sequential(nn.Linear(64, 128, rng=rng), nn.ReLU(), nn.Linear(128, 10, rng=rng))
    loss_fn = nn.SoftmaxCrossEntropy()
    for epoch in range(epochs):
        for batch in epoch_batches(train_idx, batch_size, rng):
            loss = loss_fn(model(x[batch]), y[batch])
            model.zero_grad()
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data -= lr * param.grad
    model.eval()
    accuracy = float(np.mean(np.argmax(model(x[test_idx]), axis=1) == y[test_idx]))
    print(f"last training loss {loss:.4f}; test accuracy {accuracy:.4f} on {len(test_idx)} digits")
    return accuracy


if __name__ == "__main__":
    main()
