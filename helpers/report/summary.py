"""``results/summary.md``: every table of the study next to this repo's numbers, with links to
figures.

Written from the tidy ``results/<notebook>.csv`` files (whatever notebooks have been run; the
structure-grouped K-fold table first), by the notebooks that close a study (10 and 11), or by
``python -m helpers.report.summary``. Smoke runs write
``results/smoke/summary.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..learning import targets
from . import results

TITLES = {
    "02_linear_models": "Ridge and logistic regression (study §III.1)",
    "03_cnn1d": "CNN1D (study §III.2)",
    "04_noise": "Noise (study §IV.1)",
    "05_missing_values": "Missing values (study §IV.2)",
    "06_step_increase": "Coarser q step (study §IV.3)",
    "07_saxs_vs_waxs": "SAXS only or WAXS only (study §V)",
    "08_bounds": "Changed q bounds (study §VI)",
    "09_explainability": "Explainability (beyond the study)",
    "10_realistic_data": "Realistic data (beyond the study)",
    "12_measured_curves": "Characterise a measured curve: blind files through the command line",
}
#: chapters whose numbers are many scores of a few test inputs: tabled one row per input
BY_INPUT = {"12_measured_curves"}


def markdown_table(df: pd.DataFrame, digits: int = 5) -> str:
    """A pipe table (no extra dependency); numbers to ``digits`` significant digits, so that an MSE
    of 0.00015 or a Q² of 0.99998 stays comparable with the study's."""

    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else f"{v:.{digits}g}"
        return str(v)

    df = (
        df.reset_index()
        if any(n is not None for n in df.index.names)
        else df.reset_index(drop=True)
    )
    header = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in df.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _headline(table: pd.DataFrame) -> pd.DataFrame:
    """Q2 (Ridge) or accuracy (classifiers) per level, one row per (input, model, target, protocol,
    split)."""
    keep = results.headline(table)
    keep = keep[keep["level"].notna()]
    if keep.empty:
        return keep
    wide = keep.pivot_table(
        index=["input", "model", "target", "protocol", "split"], columns="level", values="value"
    )
    wide.columns = [f"{c:g}" for c in wide.columns]
    return wide


#: the generalisation chapters' tables, summarised first: the headline for a particle no model
#: saw, on the study's library and on the library of realistic sizes (stem -> heading)
KFOLD_STEMS = {
    "11_generalisation": "A particle no model has seen (structure-grouped K-fold)",
    "13_sizes_generalisation": "A particle no model has seen, realistic sizes (the sizes library)",
}
KFOLD_SPLIT, EXTRAPOLATION_SPLIT = "grouped_kfold", "extrapolation"
KFOLD_METRICS = ("accuracy", "ECE", "RMSE", "coverage_90")
#: the test inputs of the headline: clean curves, the changed bounds, every effect at once
KFOLD_INPUTS = ("clean", "bounds", "all together")


def _kfold_lines(table: pd.DataFrame, relative: str, stem: str) -> list[str]:
    """Mean ± sd over the structure-grouped folds (and the extrapolation fold) of the headline
    metrics, per test input and model."""
    folds = results.fold_summary(table, KFOLD_SPLIT)
    ridge_q2 = (folds["model"] == "ridge") & (folds["metric"] == "Q2")
    ln_n = folds["target"] == targets.LOG_N
    folds = folds[(folds["metric"].isin(KFOLD_METRICS) | (ridge_q2 & ln_n))]
    folds = folds[folds["target"].isin(["shape", targets.LOG_N, "log_eq_radius"])]
    folds = folds[folds["input"].str.startswith(KFOLD_INPUTS)]
    if folds.empty:
        return []
    extra = table[table["split"] == EXTRAPOLATION_SPLIT].set_index(
        ["input", "model", "protocol", "target", "metric"]
    )["value"]
    keys = list(
        zip(
            folds["input"],
            folds["model"],
            folds["protocol"],
            folds["target"],
            folds["metric"],
            strict=True,
        )
    )
    view = folds[["input", "model", "protocol", "target", "metric"]].copy()
    view["mean ± sd over folds"] = [
        f"{m:.4g} ± {s:.2g}" for m, s in zip(folds["mean"], folds["std"], strict=True)
    ]
    view["range over folds"] = [
        f"{lo:.4g}–{hi:.4g}" for lo, hi in zip(folds["min"], folds["max"], strict=True)
    ]
    view["folds"] = folds["count"].to_numpy()
    view["extrapolation fold"] = [extra.get(k, np.nan) for k in keys]
    return [
        f"## {KFOLD_STEMS[stem]}",
        "",
        f"Notebook: [`notebooks/{stem}.ipynb`]({relative}notebooks/{stem}.ipynb). "
        "Every structure is in exactly one test fold; validation structures come from the "
        "training folds only. The headline for a particle the model has not seen.",
        "",
        markdown_table(view),
        "",
    ]


def write_summary() -> Path:
    out_dir = paths.results_dir()
    figures = paths.figures_dir()
    relative = "../" if out_dir.parent == paths.ROOT else "../../"
    lines = [
        "# Results: this repo next to the study",
        "",
        "Generated by `helpers.summary` from the tidy `results/*.csv` tables; "
        "`study` is the number the study "
        "published, `ours_random` is ours on the study's random split, "
        "`ours_grouped` on the split that holds "
        "whole particles out. Robustness tables give Q² (Ridge) or accuracy (classifiers) "
        "per degradation level.",
        "",
    ]
    for stem in KFOLD_STEMS:
        kfold_path = out_dir / f"{stem}.csv"
        if kfold_path.exists():
            lines += _kfold_lines(pd.read_csv(kfold_path), relative, stem)
    for stem, title in TITLES.items():
        path = out_dir / f"{stem}.csv"
        if not path.exists():
            continue
        table = pd.read_csv(path)
        lines += [
            f"## {title}",
            "",
            f"Notebook: [`notebooks/{stem}.ipynb`]({relative}notebooks/{stem}.ipynb)",
            "",
        ]
        side = results.side_by_side(table)
        if not side.empty:
            lines += ["Side by side with the study:", "", markdown_table(side), ""]
        clean = table[
            table["level"].isna()
            & ~table.set_index(
                ["section", "input", "model", "protocol", "target", "metric"]
            ).index.isin(
                side.set_index(["section", "input", "model", "protocol", "target", "metric"]).index
            )
        ]
        clean = clean[clean["metric"] != "test_variance"]
        if stem in BY_INPUT and not clean.empty:  # one row per test input, one column per score
            wide = clean.pivot_table(
                index=["section", "input"],
                columns=["target", "metric"],
                values="value",
                aggfunc="first",
            ).reindex(pd.MultiIndex.from_frame(clean[["section", "input"]].drop_duplicates()))
            wide.columns = [f"{target}: {metric}" for target, metric in wide.columns]
            lines += [f"Split `{'`, `'.join(clean['split'].unique())}`:", "", markdown_table(wide)]
            lines += [""]
        elif not clean.empty:
            wide = clean.pivot_table(
                index=["section", "input", "model", "protocol", "target", "metric"],
                columns="split",
                values="value",
                aggfunc="first",
            )
            wide.columns = [f"ours_{c}" for c in wide.columns]
            lines += ["Further numbers (no study counterpart):", "", markdown_table(wide), ""]
        for input_name, part in table[table["level"].notna()].groupby("input", sort=False):
            headline = _headline(part)
            if not headline.empty:
                lines += [
                    f"Metric against level, `{input_name}`:",
                    "",
                    markdown_table(headline.droplevel("input")),
                    "",
                ]
        pictures = sorted(figures.glob(f"{stem[:2]}_*.png"))
        if pictures:
            lines += [
                "Figures: "
                + ", ".join(
                    f"[{p.stem}]({relative}figures/"
                    f"{'smoke/' if paths.smoke_mode() else ''}{p.name})"
                    for p in pictures
                ),
                "",
            ]
    target = out_dir / "summary.md"
    return paths.write_atomically(target, lambda tmp: tmp.write_text("\n".join(lines)))


if __name__ == "__main__":
    print("wrote", write_summary().relative_to(paths.ROOT))
