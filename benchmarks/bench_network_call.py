"""Benchmark: the network of ``make model`` called on one curve at a time, eagerly against as one
TensorFlow graph (``helpers.learning.logq._direct``).

A characterisation calls each member network once per curve. Called eagerly, each of the
network's layers costs more than its arithmetic on one curve; traced once as a graph, the same
operations run without that overhead. This script measures both on the same inputs in one run:

1. **eager** (the peer): ``network(x, training=False)``, as the model did before;
2. **graph**: ``logq._direct(network)(x)``, as :meth:`LogQModel._raw` does now for up to
   ``_DIRECT_CALL`` curves (traced on its first calls, which are not timed).

The outputs of the two are compared byte for byte (they must be the same), and the seconds per
call of each and their ratio are printed, per member network. TensorFlow runs on one thread, as
in the command line's worker processes and in ``make model``'s calibration.

Run from the repository root, after ``make model``::

    .venv/bin/python benchmarks/bench_network_call.py            # 200 curves of the library
    .venv/bin/python benchmarks/bench_network_call.py --curves 500 --model DIR

The script reports; it asserts nothing but the equality of the outputs.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--curves", type=int, default=200, help="curves, one call each")
    parser.add_argument("--model", default=None, help="model folder (default: make model's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from helpers.characterisation import Characteriser
    from helpers.learning import logq
    from helpers.learning.estimators import one_thread

    one_thread()
    characteriser = Characteriser.load(args.model)
    model = characteriser.model
    members = getattr(model, "members", [model])
    lib = characteriser.library
    rows = np.random.default_rng(args.seed).choice(len(lib), args.curves, replace=False)
    print(
        f"{args.curves} curves of the model's library, one call each; load average "
        f"{os.getloadavg()[0]:.2f} before the run"
    )
    for k, member in enumerate(members):
        Z = logq.prepare(lib.q, lib.intensities[rows], grid=member.grid).astype("float32")
        network, graph = member.network, logq._direct(member.network)
        for x in (Z[:1], Z[:1]):  # warm: the eager call's set-up and the graph's tracing
            network(x, training=False)
            graph(x)
        start = time.perf_counter()
        eager = [network(Z[i : i + 1], training=False) for i in range(len(Z))]
        eager_s = (time.perf_counter() - start) / len(Z)
        start = time.perf_counter()
        traced = [graph(Z[i : i + 1]) for i in range(len(Z))]
        graph_s = (time.perf_counter() - start) / len(Z)
        same = all(
            e[key].numpy().tobytes() == g[key].numpy().tobytes()
            for e, g in zip(eager, traced)
            for key in e
        )
        if not same:
            raise SystemExit(f"member {k}: the graph's outputs differ from the eager call's.")
        print(
            f"member {k}: eager {1e3 * eager_s:.1f} ms per call, graph {1e3 * graph_s:.1f} ms "
            f"per call: {eager_s / graph_s:.1f} x faster, the same outputs to the last bit"
        )


if __name__ == "__main__":
    main()
