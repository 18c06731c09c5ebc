"""Ensembles on the digits: k independent networks cut the error; MC-dropout as an approximate ensemble.

The notes' claim (000, 001): averaging k models trained independently lowers
the error, the more so the less correlated their errors. Ten MLPs (64 → 64
→ 10) differing only in their seed (initial weights and batch order) are
trained on the same images; ``nndl.train.Ensemble`` averages the
probabilities of the first 1, 3, 5, 10. Printed: the test error of each
ensemble, the mean error of the members alone, and the mean correlation
between two members' error indicators (1 where a member is wrong).

Dropout trains a different thinned network at every step (an exponential
ensemble sharing weights): averaging T stochastic forward passes at test
time (MC-dropout) approximates that ensemble; the usual deterministic pass
(dropout off, the weight-scaling rule) approximates it with one pass.

Full size (``python examples/ensembles.py``, 600 training images)::

    members' mean error          0.028
    ensemble of  1: error 0.023
    ensemble of  3: error 0.024
    ensemble of  5: error 0.021
    ensemble of 10: error 0.023
    members' error correlation   0.70
    dropout, deterministic pass  0.038
    dropout, MC average of 50    0.038

Measured: members trained on the same images differ only by their seed,
their errors are strongly correlated (0.70), so by ``v (c + (1 − c)/k)``
the ensemble can remove at most about a third of the error variance; the
ensembles end a little below the mean member error. MC-dropout and the
deterministic pass agree.
"""

from __future__ import annotations

import itertools

import numpy as np

from nndl import nn, optim
from nndl.data import load_digits
from nndl.train import Ensemble, Trainer, fit_members


def mlp(seed: int, drop_prob: float = 0.0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    layers = [nn.Linear(64, 64, rng=rng), nn.ReLU()]
    if drop_prob:
        layers.append(nn.Dropout(drop_prob, rng=rng))
    return nn.Sequential(*layers, nn.Linear(64, 10, rng=rng))


def trainer_for(model) -> Trainer:
    return Trainer(model, nn.SoftmaxCrossEntropy(), optim.Adam(model.parameters(), lr=0.005), metrics=[],
                   warn_input_range=False)


def error_correlation(wrong: np.ndarray) -> float:
    """Mean Pearson correlation between the error indicators (rows of ``wrong``) of every pair of members."""
    pairs = [np.corrcoef(wrong[i], wrong[j])[0, 1] for i, j in itertools.combinations(range(len(wrong)), 2)
             if wrong[i].std() > 0 and wrong[j].std() > 0]
    return float(np.mean(pairs)) if pairs else float("nan")


def main(n_train: int = 600, members: int = 10, sizes=(1, 3, 5, 10), epochs: int = 40, mc_passes: int = 50,
         drop_prob: float = 0.3, seed: int = 0, verbose: bool = True) -> dict:
    """The figures above as a dict: ``member_error``, ``ensemble_error`` {k: error}, ``correlation``, ``dropout_*``."""
    x, y = load_digits(flatten=True)
    order = np.random.default_rng(seed).permutation(len(x))
    train, test = order[:n_train], order[n_train:]
    ensemble = Ensemble([mlp(seed + 1 + i) for i in range(members)])
    fit_members(ensemble, trainer_for, x[train], y[train], rng=seed, epochs=epochs, batch_size=32, verbose=0)
    ensemble.eval()
    wrong = np.array([m(x[test]).argmax(axis=1) != y[test] for m in ensemble.members])
    result = {"member_error": float(wrong.mean()), "correlation": error_correlation(wrong), "ensemble_error": {}}
    for k in sizes:
        if k <= members:
            first = Ensemble(ensemble.members[:k]).eval()
            result["ensemble_error"][k] = float(np.mean(first(x[test]).argmax(axis=1) != y[test]))

    dropped = mlp(seed + 100, drop_prob)
    trainer_for(dropped).fit(x[train], y[train], epochs=epochs, batch_size=32, rng=seed, verbose=0)
    deterministic = dropped.eval()(x[test])
    dropped.train()  # dropout on: each pass samples a thinned network
    mean_probabilities = np.mean([np.exp(nn.functional.log_softmax_forward(dropped(x[test]))[0])
                                  for _ in range(mc_passes)], axis=0)
    dropped.eval()
    result["dropout_deterministic_error"] = float(np.mean(deterministic.argmax(axis=1) != y[test]))
    result["dropout_mc_error"] = float(np.mean(mean_probabilities.argmax(axis=1) != y[test]))
    if verbose:
        print(f"members' mean error          {result['member_error']:.3f}")
        for k, error in result["ensemble_error"].items():
            print(f"ensemble of {k:2d}: error {error:.3f}")
        print(f"members' error correlation   {result['correlation']:.2f}")
        print(f"dropout, deterministic pass  {result['dropout_deterministic_error']:.3f}")
        print(f"dropout, MC average of {mc_passes:<5d} {result['dropout_mc_error']:.3f}")
    return result


if __name__ == "__main__":
    main()
