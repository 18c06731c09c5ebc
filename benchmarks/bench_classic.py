"""Classical models side by side with scikit-learn, in one process.

    python benchmarks/bench_classic.py [--repeats 9] [--threads 2] [--dtype float64] [--only knn|pca]

Workloads (from the classical-models issue):
- k-NN prediction of 2,000 test points against 10,000 training points of
  dimension 784 (k = 5, L2): ``nndl.classic.KNeighborsClassifier`` against
  ``sklearn.neighbors.KNeighborsClassifier(algorithm='brute')``.
- PCA fit of 10,000 x 784: ``nndl.classic.PCA`` against
  ``sklearn.decomposition.PCA(svd_solver='full')``.

Method: both sides run in this process under the same thread limit
(threadpoolctl caps BLAS and OpenMP alike), in pairs whose order alternates
(AB, BA, ...); the script reports each side's median time and the median of
the per-pair ratios nndl/sklearn, which is robust to the machine's speed
drifting between pairs. The two sides are first checked to compute the same
thing. The 1-minute load average is printed before and after: timings taken
while other processes use the cores are slower and noisier.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits


def load_average() -> float:
    return os.getloadavg()[0]


def alternate(run_a, run_b, repeats: int):
    """Times of ``run_a`` and ``run_b`` over ``repeats`` pairs, order alternating per pair."""
    times_a, times_b = [], []
    for pair in range(repeats):
        for which in ((0, 1) if pair % 2 == 0 else (1, 0)):
            start = time.perf_counter()
            (run_a if which == 0 else run_b)()
            (times_a if which == 0 else times_b).append(time.perf_counter() - start)
    return np.array(times_a), np.array(times_b)


def report(name: str, times_nndl, times_sklearn):
    ratios = times_nndl / times_sklearn
    print(f"{name:<34} nndl {np.median(times_nndl):7.3f} s   sklearn {np.median(times_sklearn):7.3f} s   "
          f"ratio (median of pairs) {np.median(ratios):.2f}x  [min {ratios.min():.2f}, max {ratios.max():.2f}]")


def bench_knn(dtype, repeats: int):
    import sklearn.neighbors

    from nndl.classic import KNeighborsClassifier

    rng = np.random.default_rng(0)
    X_train = rng.random((10_000, 784)).astype(dtype)
    y_train = rng.integers(0, 10, 10_000)
    X_test = rng.random((2_000, 784)).astype(dtype)
    ours = KNeighborsClassifier(n_neighbors=5).fit(X_train, y_train)
    theirs = sklearn.neighbors.KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(X_train, y_train)
    agreement = np.mean(ours.predict(X_test) == theirs.predict(X_test))
    print(f"k-NN {np.dtype(dtype).name}: predictions agree on {agreement:.2%} of the test points "
          "(float32 distances differ in the last bits, which can swap near-tied neighbours)")
    times = alternate(lambda: ours.predict(X_test), lambda: theirs.predict(X_test), repeats)
    report(f"k-NN predict 2000x10000x784 {np.dtype(dtype).name}", *times)


def bench_pca(dtype, repeats: int):
    import sklearn.decomposition

    from nndl.classic import PCA

    rng = np.random.default_rng(0)
    # Correlated features with a decaying spectrum, like images.
    X = (rng.standard_normal((10_000, 64)) @ rng.standard_normal((64, 784))
         + 0.1 * rng.standard_normal((10_000, 784))).astype(dtype)
    ours = PCA(n_components=50).fit(X)
    theirs = sklearn.decomposition.PCA(n_components=50, svd_solver="full").fit(X)
    difference = np.max(np.abs(ours.explained_variance_ - theirs.explained_variance_) / theirs.explained_variance_)
    print(f"PCA {np.dtype(dtype).name}: explained variances agree to a relative {difference:.1e}")
    times = alternate(lambda: PCA(n_components=50).fit(X),
                      lambda: sklearn.decomposition.PCA(n_components=50, svd_solver="full").fit(X), repeats)
    report(f"PCA fit 10000x784 {np.dtype(dtype).name}", *times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=["float32", "float64"], nargs="+", default=["float64", "float32"])
    parser.add_argument("--only", choices=["knn", "pca"], nargs="+", default=["knn", "pca"])
    args = parser.parse_args()
    import sklearn

    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, threads {args.threads}, "
          f"repeats {args.repeats}, load average before {load_average():.2f}")
    with threadpool_limits(limits=args.threads):
        for dtype in args.dtype:
            if "knn" in args.only:
                bench_knn(np.dtype(dtype), args.repeats)
            if "pca" in args.only:
                bench_pca(np.dtype(dtype), args.repeats)
    print(f"load average after {load_average():.2f}")


if __name__ == "__main__":
    main()
