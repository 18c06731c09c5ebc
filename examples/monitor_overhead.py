"""How much does watching a network cost? Epoch time with and without nndl.doctor.Monitor (medians of runs).

    python examples/monitor_overhead.py [--repeats 5] [--blas-threads 1]

Trains one epoch on the bundled digits (1,437 samples, batch 32) for an MLP
64-256-10 and the zoo's SmallCNN, without a Monitor, with the default
Monitor (one batch in 10 measured) and with every batch measured.
"""

from __future__ import annotations

import argparse
import statistics
import time

from nndl import nn, optim
from nndl.data.digits import load_digits
from nndl.doctor import Monitor
from nndl.models.small_cnn import SmallCNN
from nndl.train import Trainer


def epoch_seconds(build, x, y, monitor_every):
    model = build()
    callbacks = [] if monitor_every is None else [Monitor(every=monitor_every)]
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                      callbacks=callbacks)
    wall, cpu = time.perf_counter(), time.process_time()
    trainer.fit(x, y, epochs=1, batch_size=32, rng=0, verbose=0)
    return time.perf_counter() - wall, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--blas-threads", type=int, help="limit the BLAS threads (1 gives steadier numbers on a busy machine)")
    args = parser.parse_args()
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads)
    images, labels = load_digits()
    cases = {
        "MLP 64-256-10": (lambda: nn.Sequential(nn.Linear(64, 256, rng=0), nn.ReLU(), nn.Linear(256, 10, rng=0)),
                          images.reshape(len(images), -1)),
        "SmallCNN (width 32)": (lambda: SmallCNN(rng=0), images),
    }
    for name, (build, x) in cases.items():
        epoch_seconds(build, x, labels, None)  # warm up
        runs = {every: [] for every in (None, 10, 1)}
        for _ in range(args.repeats):  # interleaved, so that a busy machine slows every variant alike
            for every in runs:
                runs[every].append(epoch_seconds(build, x, labels, every))
        for index, clock in ((0, "wall"), (1, "CPU")):
            median = {every: statistics.median(t[index] for t in times) for every, times in runs.items()}
            base = median[None]
            print(f"{name} ({clock} time): epoch {1e3 * base:.1f} ms without Monitor; "
                  f"Monitor(every=10) {1e3 * median[10]:.1f} ms ({100 * (median[10] / base - 1):+.1f}%); "
                  f"Monitor(every=1) {1e3 * median[1]:.1f} ms ({100 * (median[1] / base - 1):+.1f}%)")


if __name__ == "__main__":
    main()
