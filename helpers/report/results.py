"""The tidy results table shared by every chapter, and the compact views of it that notebooks
print.

Each notebook writes ``results/<notebook-stem>.csv`` with the columns of :data:`COLUMNS`; the words
are the study's (``data/reference/study_results.csv``): model ridge / logistic / cnn1d; protocol
clean / simple_prediction / training_and_prediction; split random / grouped; target log_n_Atoms /
Size_parameter_1 / sqrt_log_eq_radius / shape / size_class; metric MSE / test_variance / Q2 /
accuracy.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd

from .. import paths

COLUMNS = ["section", "input", "model", "protocol", "split", "target", "metric", "level", "value"]
SPLIT_ORDER = ("random", "grouped")
NOT_MEASURED = "·"  # a cell of a compact table for a combination that was not run


def headline(table) -> pd.DataFrame:
    """The one metric each model is judged by: Q2 for Ridge, accuracy for the classifiers."""
    table = pd.DataFrame(table)
    ridge_q2 = (table["model"] == "ridge") & (table["metric"] == "Q2")
    return table[ridge_q2 | (table["metric"] == "accuracy")]


def rows(
    section, input, model, protocol, split, target, metrics: dict, level=np.nan
) -> list[dict]:
    """Tidy rows, one per metric."""
    return [
        dict(
            section=section,
            input=input,
            model=model,
            protocol=protocol,
            split=split,
            target=target,
            metric=m,
            level=level,
            value=v,
        )
        for m, v in metrics.items()
    ]


def by_level(table, digits: int = 3) -> pd.DataFrame:
    """One compact table of a degradation sweep: the headline metric of each (input, model, target,
    protocol) as rows, (split, level) as columns, random and grouped side by side; combinations
    that were not run show :data:`NOT_MEASURED`. Each ``input`` (degradation) keeps its own rows,
    so that different degradations are never averaged together."""
    head = headline(table)
    head = head[head["level"].notna()]
    if head.empty:
        raise ValueError("the table has no rows with a level: it is not a degradation sweep.")
    keys = ["input", "model", "target", "protocol", "split", "level"]
    if head.duplicated(keys).any():
        raise ValueError(
            "two rows share (input, model, target, protocol, split, level): "
            "give each degradation its own input name."
        )
    wide = head.pivot_table(
        index=keys[:4], columns=["split", "level"], values="value", aggfunc="first", sort=False
    )
    splits = [s for s in SPLIT_ORDER if s in wide.columns.get_level_values(0)]
    splits += [s for s in wide.columns.get_level_values(0).unique() if s not in splits]
    wide = wide.reindex(columns=sorted(wide.columns, key=lambda c: (splits.index(c[0]), c[1])))
    wide.columns = pd.MultiIndex.from_tuples(
        [(s, f"{lv:g}") for s, lv in wide.columns], names=["split", "level"]
    )
    return wide.map(lambda v: NOT_MEASURED if pd.isna(v) else f"{v:.{digits}f}")


def write_results(table, notebook_stem: str):
    """Write ``results/<notebook_stem>.csv`` (results/smoke/ in smoke mode) atomically; return the
    path."""
    df = pd.DataFrame(table)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"results table lacks columns {missing}: build it with "
            "helpers.report.results.rows(...)."
        )
    path = paths.results_dir() / f"{notebook_stem}.csv"
    return paths.write_atomically(path, lambda tmp: df[COLUMNS].to_csv(tmp, index=False))


def read_results(notebook_stem: str, full_run: bool = False) -> pd.DataFrame:
    """The table a notebook wrote (results/smoke/ in smoke mode; ``full_run``: the full run's
    table in results/ whatever the mode, e.g. another notebook's committed numbers)."""
    path = paths.results_dir(smoke=False if full_run else None) / f"{notebook_stem}.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"{path.name} not found in {path.parent.name}/: run the notebook "
            f"{notebook_stem} first."
        )
    return pd.read_csv(path)


def study_results() -> pd.DataFrame:
    """The study's published numbers (references to compare against, never outputs)."""
    return pd.read_csv(paths.REFERENCE_DIR / "study_results.csv")


def side_by_side(table) -> pd.DataFrame:
    """The study's numbers next to ours, one row per (section, input, model, protocol, target,
    metric), one column per split, for rows the study reported."""
    ours = pd.DataFrame(table)
    ours = ours[ours["level"].isna()] if "level" in ours else ours
    keys = ["section", "input", "model", "protocol", "target", "metric"]
    wide = ours.pivot_table(index=keys, columns="split", values="value", aggfunc="first")
    wide.columns = [f"ours_{c}" for c in wide.columns]
    study = study_results().rename(columns={"value": "study"}).set_index(keys)
    merged = study.join(wide, how="inner")
    return merged.reset_index()


def read_engine_benchmark() -> pd.DataFrame:
    """The table ``benchmarks/bench_engine.py`` saved (shape, size, n_atoms, seconds, engine)."""
    if not paths.ENGINE_BENCHMARK.exists():
        raise FileNotFoundError(
            f"{paths.ENGINE_BENCHMARK.relative_to(paths.ROOT)} is missing: run "
            "`.venv-bench/bin/python benchmarks/bench_engine.py` (or `make bench`) to measure it."
        )
    return pd.read_csv(paths.ENGINE_BENCHMARK)


def engine_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per shape, from the engine benchmark's table: the log-log slope of the exact pair engine's
    time against N (the fitted exponent) over all sizes and between the two largest (the growth
    where it matters: fixed costs flatten the slope at small N), its time at the largest N
    measured, and its speed-up over the binned pass and over debyecalculator where both were
    measured at the same size."""
    out = []
    for shape, rows_ in table[np.isfinite(table["seconds"])].groupby("shape", sort=False):
        new = rows_[rows_["engine"].str.startswith("new")].sort_values("n_atoms")
        if len(new) == 0:
            continue
        log_n, log_t = np.log(new["n_atoms"].to_numpy()), np.log(new["seconds"].to_numpy())
        slope = float(np.polyfit(log_n, log_t, 1)[0]) if len(new) >= 2 else np.nan
        top = (log_t[-1] - log_t[-2]) / (log_n[-1] - log_n[-2]) if len(new) >= 2 else np.nan
        line = {
            "shape": shape,
            "exponent": round(slope, 2),
            "exponent, largest two N": round(float(top), 2),
            "largest N": int(new["n_atoms"].iloc[-1]),
            "seconds at largest N": float(new["seconds"].iloc[-1]),
        }
        for peer, label in (("binned (measured)", "x binned"), ("debyecalculator", "x debyecalc")):
            theirs = rows_[rows_["engine"].str.startswith(peer)].set_index("size")["seconds"]
            ours = new.set_index("size")["seconds"]
            both = ours.index.intersection(theirs.index)
            line[f"{label} (N)"] = (
                f"{theirs[both[-1]] / ours[both[-1]]:.0f} "
                f"({int(new.set_index('size').loc[both[-1], 'n_atoms']):,})"
                if len(both)
                else NOT_MEASURED
            )
        out.append(line)
    return pd.DataFrame(out)


def fold_summary(table: pd.DataFrame, split: str = "grouped_kfold") -> pd.DataFrame:
    """Mean, standard deviation (ddof 1), minimum, maximum and number of folds (rows of ``split``,
    one per fold in ``level``) of every (input, model, protocol, target, metric)."""
    kfold = table[table["split"] == split]
    keys = ["input", "model", "protocol", "target", "metric"]
    summary = kfold.groupby(keys, sort=False)["value"].agg(["mean", "std", "min", "max", "count"])
    return summary.reset_index()


def write_predictions(predictions, name: str):
    """Write a study's per-curve predictions to ``data/generated/<name>/predictions.csv.gz``
    (``data/generated/smoke/<name>/`` in smoke mode) atomically, the same bytes for the same
    predictions; return the path. They are not committed: the notebook that made them rebuilds
    them, and they let a result be traced to its curves without training again."""
    df = pd.DataFrame(predictions)
    if df.empty:
        raise ValueError("no predictions to write: the table is empty.")
    text = df.to_csv(index=False).encode()

    def write(tmp):
        # neither a time stamp nor the temporary file's name in the gzip header: the same bytes
        with open(tmp, "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as packed:
            packed.write(text)

    return paths.write_atomically(paths.generated_dir(name) / "predictions.csv.gz", write)
