"""Figures of the data chapter. Each function returns a matplotlib Figure; save it with
paths.save_figure."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..measurement import degrade
from ..simulation import debye, library, structures

SAXS_WAXS_SPLIT = (
    degrade.Q_SPLIT
)  # 1/Å, where the figures separate the small- and wide-angle parts


#: colour-blind-safe palettes: Paul Tol's "muted" (9 colours) for the shapes, Okabe-Ito for
#: the rest
SHAPE_PALETTE = (
    "#CC6677",
    "#332288",
    "#DDCC77",
    "#117733",
    "#88CCEE",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
)
BLUE, VERMILLION, GREEN, ORANGE, SKY, GREY = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#E69F00",
    "#56B4E9",
    "#7F7F7F",
)


def shape_colours() -> dict[str, str]:
    return {shape: SHAPE_PALETTE[i] for i, shape in enumerate(structures.SHAPES)}


def particle_gallery(shapes=structures.SHAPES, size: int = 4) -> plt.Figure:
    """One particle of each shape as a 3-D picture (atoms shaded by depth), all on one common scale
    in units of Rnn, so that a 20-atom particle looks smaller than a 365-atom one."""
    n = len(shapes)
    chosen = {}
    for shape in shapes:
        sizes = structures.SHAPE_SPECS[shape].sizes
        chosen[shape] = size if size in sizes else sizes[0]
    lim = max(np.abs(structures.unit_positions(sh, s)).max() for sh, s in chosen.items()) + 0.5
    ncols = 3
    nrows = int(np.ceil(n / ncols))
    fig = plt.figure(figsize=(3.3 * ncols, 3.3 * nrows))
    colours = shape_colours()
    for i, shape in enumerate(shapes):
        s = chosen[shape]
        pos = structures.unit_positions(shape, s)
        ax = fig.add_subplot(nrows, ncols, i + 1, projection="3d")
        view = np.array([1.0, 0.6, 0.45])
        depth = pos @ (view / np.linalg.norm(view))
        order = np.argsort(depth)
        shade = 0.35 + 0.65 * (depth[order] - depth.min()) / (np.ptp(depth) + 1e-12)
        base = np.array(matplotlib.colors.to_rgb(colours[shape]))
        diameter_pt = (
            0.8 * (3.3 * 72) / (2 * lim * 1.7)
        )  # an atom of diameter Rnn in points, at this zoom
        ax.scatter(
            *pos[order].T,
            s=diameter_pt**2,
            c=shade[:, None] * base,
            depthshade=False,
            edgecolors="k",
            linewidths=0.2,
        )
        ax.view_init(elev=25, azim=30)
        ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_zlim(-lim, lim)
        ax.set_box_aspect((1, 1, 1))
        ax.set_axis_off()
        ax.set_title(
            f"{shape}\n{structures.SHAPE_SPECS[shape].size_argument}={s}, N={len(pos)}", fontsize=9
        )
    fig.suptitle(f"one common scale: each box is {2 * lim:.1f} Rnn wide", fontsize=9)
    fig.tight_layout()
    return fig


def example_curves(lib, element: str, b_iso: float, size: int) -> plt.Figure:
    """Left: the SAXS part, log-log. Right: the WAXS part as I / (N f^2), offset per shape, Bragg
    peaks marked."""
    q, meta = lib.q, lib.metadata
    colours = shape_colours()
    fig, (ax_s, ax_w) = plt.subplots(1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [1, 1.4]})
    saxs = q < SAXS_WAXS_SPLIT
    waxs = ~saxs
    f2 = debye.form_factor(element, q) ** 2
    shapes = [s for s in structures.SHAPES if s in set(meta["shape"])]
    for k, shape in enumerate(shapes):
        s = (
            size
            if size in set(meta.loc[meta["shape"] == shape, "size_parameter_1"])
            else int(meta.loc[meta["shape"] == shape, "size_parameter_1"].min())
        )
        i = library.example_row(
            meta, shape=shape, element=element, b_iso=b_iso, size_parameter_1=s
        )
        n = meta.loc[i, "n_atoms"]
        label = f"{shape} ({structures.SHAPE_SPECS[shape].size_argument}={s}, N={n})"
        ax_s.loglog(q[saxs], lib.intensities[i, saxs], color=colours[shape], label=label, lw=1.3)
        ax_w.plot(
            q[waxs],
            lib.intensities[i, waxs] / (n * f2[waxs]) + 1.2 * k,
            color=colours[shape],
            lw=1.0,
        )
        ax_w.text(
            19.9, 1.2 * k + 1.05, shape, ha="right", va="bottom", fontsize=7, color=colours[shape]
        )
    top = 1.2 * len(shapes) + 1.0
    for lattice, style, ypos, colour in (("fcc", "--", top, BLUE), ("bcc", ":", top + 1.1, GREY)):
        for hkl, qb in list(structures.bragg_positions(element, lattice).items())[:4]:
            ax_w.axvline(qb, color=colour, ls=style, lw=0.8, alpha=0.8)
            ax_w.text(
                qb + (0.12 if lattice == "fcc" else -0.12),
                ypos,
                hkl,
                fontsize=7,
                va="bottom",
                ha="left" if lattice == "fcc" else "right",
                color=colour,
                rotation=90,
            )
        ax_w.plot([], [], color=colour, ls=style, label=f"{lattice} reflections of {element}")
    ax_w.set_ylim(0, top + 2.4)
    ax_w.legend(fontsize=7, loc="upper right")
    ax_s.set(
        xlabel="q (1/Å)",
        ylabel="I(q) (electrons²)",
        title=f"SAXS part (q < {SAXS_WAXS_SPLIT:g} 1/Å), {element}, B={b_iso} Å²",
    )
    ax_w.set(
        xlabel="q (1/Å)",
        ylabel="I(q) / (N f(q)²) + offset",
        title=f"WAXS part: lattice reflections ({element} fcc and bcc positions)",
    )
    ax_s.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def size_and_biso_effect(lib, shape: str, element: str, b_iso: float, size: int) -> plt.Figure:
    """Left: all sizes of one shape (fringes move to lower q as the particle grows). Right: B_iso
    damping."""
    q, meta = lib.q, lib.metadata
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(13, 4.8))
    sizes = sorted(meta.loc[(meta["shape"] == shape), "size_parameter_1"].unique())
    cmap = plt.get_cmap("viridis")
    for j, s in enumerate(sizes):
        i = library.example_row(
            meta, shape=shape, element=element, b_iso=b_iso, size_parameter_1=s
        )
        ax_a.loglog(
            q,
            lib.intensities[i],
            color=cmap(j / max(1, len(sizes) - 1)),
            lw=1.0,
            label=(
                f"{structures.SHAPE_SPECS[shape].size_argument}={s} (N={meta.loc[i, 'n_atoms']})"
            ),
        )
    ax_a.set(
        xlabel="q (1/Å)",
        ylabel="I(q) (electrons²)",
        title=f"{shape}, {element}, B={b_iso} Å²: effect of size",
    )
    ax_a.legend(fontsize=7, ncol=2, loc="lower left")
    b_values = sorted(meta["b_iso"].unique())
    cmap_b = plt.get_cmap("plasma")
    for j, b in enumerate(b_values):
        i = library.example_row(meta, shape=shape, element=element, b_iso=b, size_parameter_1=size)
        waxs = q >= SAXS_WAXS_SPLIT
        reduced = lib.intensities[i, waxs] / (
            meta.loc[i, "n_atoms"] * debye.form_factor(element, q[waxs]) ** 2
        )
        ax_b.plot(
            q[waxs], reduced, color=cmap_b(j / max(1, len(b_values))), lw=1.0, label=f"B = {b} Å²"
        )
    ax_b.axhline(1.0, color="0.5", lw=0.6)
    ax_b.set(
        xlabel="q (1/Å)",
        ylabel="I(q) / (N f(q)²)",
        title=f"{shape} size {size}: Debye-Waller damping of the pair terms → 1 at high q",
    )
    ax_b.legend(fontsize=8)
    fig.tight_layout()
    return fig


def curves_over_sizes(lib, shape: str, element: str, b_iso: float, n_shown: int = 7):
    """One shape at ``n_shown`` sizes spread over the library's range (log-spaced in N). Left: the
    SAXS part, log-log, I / N² (the fringes move in as 1/R). Right: the WAXS part as I / (N f²),
    offset per size, with the element's fcc or bcc reflections (the peaks sharpen as 1/R)."""
    q, meta = lib.q, lib.metadata
    part = meta[(meta["shape"] == shape) & (meta["element"] == element)]
    part = part[np.isclose(part["b_iso"], b_iso)].sort_values("n_atoms")
    if part.empty:
        raise ValueError(
            f"the library has no {shape} of {element} at B = {b_iso}: load one that has."
        )
    pick = np.unique(np.geomspace(1, len(part), min(n_shown, len(part))).round().astype(int) - 1)
    rows = part.iloc[pick]
    fig, (ax_s, ax_w) = plt.subplots(
        1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1, 1.3]}
    )
    cmap = plt.get_cmap("viridis")
    saxs, waxs = q < SAXS_WAXS_SPLIT, q >= SAXS_WAXS_SPLIT
    f2 = debye.form_factor(element, q) ** 2
    for k, (i, row) in enumerate(rows.iterrows()):
        colour = cmap(k / max(1, len(rows) - 1))
        curve = lib.intensities[meta.index.get_loc(i)]
        label = f"2R_eq = {2 * row['eq_radius'] / 10:.1f} nm (N = {row['n_atoms']:,})"
        ax_s.loglog(q[saxs], curve[saxs] / row["n_atoms"] ** 2, color=colour, lw=1.1, label=label)
        ax_w.plot(
            q[waxs], curve[waxs] / (row["n_atoms"] * f2[waxs]) + 1.5 * k, color=colour, lw=0.9
        )
    lattice = "bcc" if structures.SHAPE_SPECS[shape].lattice == "bcc" else "fcc"
    for hkl, qb in list(structures.bragg_positions(element, lattice).items())[:5]:
        ax_w.axvline(qb, color=GREY, ls="--", lw=0.7)
        ax_w.text(qb + 0.1, 1.5 * len(rows) + 0.6, hkl, fontsize=7, rotation=90, color=GREY)
    ax_s.set(
        xlabel="q (1/Å)",
        ylabel="I(q) / N² (electrons²)",
        title=f"{shape}, {element}, B = {b_iso} Å²: SAXS part",
    )
    ax_s.legend(fontsize=7, loc="lower left")
    ax_w.set(
        xlabel="q (1/Å)",
        ylabel="I(q) / (N f(q)²) + offset",
        title=f"WAXS part, {lattice} reflections of {element} (dashed)",
    )
    fig.tight_layout()
    return fig


def engine_scaling(table: pd.DataFrame) -> plt.Figure:
    """Time of one Debye curve against the number of atoms, log-log: the exact pair engine per
    shape (solid), the study-size binned pass (measured: open squares; extrapolated as N²: dotted)
    and debyecalculator on the CPU (crosses), from ``benchmarks/bench_engine.py``'s table."""
    needed = {"shape", "n_atoms", "seconds", "engine"}
    if not needed <= set(table.columns):
        raise ValueError(f"the benchmark table needs the columns {sorted(needed)}.")
    colours = shape_colours()
    fig, ax = plt.subplots(figsize=(8.5, 5.5))
    done = table[np.isfinite(table["seconds"])]
    for shape, rows in done.groupby("shape", sort=False):
        colour = colours.get(shape, GREY)
        new = rows[rows["engine"].str.startswith("new")].sort_values("n_atoms")
        ax.loglog(new["n_atoms"], new["seconds"], "o-", color=colour, lw=1.3, ms=4, label=shape)
        binned = rows[rows["engine"].str.startswith("binned")].sort_values("n_atoms")
        measured = binned["engine"].str.contains("measured")
        ax.loglog(binned["n_atoms"], binned["seconds"], ":", color=colour, lw=0.9)
        ax.loglog(
            binned.loc[measured, "n_atoms"],
            binned.loc[measured, "seconds"],
            "s",
            mfc="none",
            color=colour,
            ms=5,
        )
        dc = rows[rows["engine"].str.startswith("debyecalculator")]
        ax.loglog(dc["n_atoms"], dc["seconds"], "x", color=colour, ms=6)
    n = np.geomspace(done["n_atoms"].min(), done["n_atoms"].max(), 10)
    t0 = done.loc[done["engine"].str.startswith("new"), "seconds"].min()
    for power, style in ((1, "-"), (2, "--")):
        ax.loglog(n, t0 * (n / n[0]) ** power, color="k", ls=style, lw=0.6, alpha=0.5)
        ax.text(
            n[-1],
            t0 * (n[-1] / n[0]) ** power,
            f" ∝ N{'²' if power == 2 else ''}",
            fontsize=8,
            va="center",
        )
    ax.plot([], [], "s", mfc="none", color=GREY, label="binned pass, measured (dotted: ∝ N²)")
    ax.plot([], [], "x", color=GREY, label="debyecalculator, CPU")
    ax.set(
        xlabel="number of atoms N",
        ylabel="time for one curve, 1999 q points (s)",
        title="Exact Debye curve: time against particle size (2 cores)",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    fig.tight_layout()
    return fig


def target_distributions(meta: pd.DataFrame) -> plt.Figure:
    """Histograms of the size targets over the library's curves, stacked by shape."""
    targets = ["log_n_atoms", "size_parameter_1", "eq_radius", "sqrt_log_eq_radius"]
    colours = shape_colours()
    fig, axes = plt.subplots(1, len(targets), figsize=(16, 3.8))
    shapes = [s for s in structures.SHAPES if s in set(meta["shape"])]
    for ax, target in zip(axes, targets):
        data = [meta.loc[meta["shape"] == s, target].to_numpy() for s in shapes]
        bins = np.arange(1.5, 11.5) if target == "size_parameter_1" else 20
        ax.hist(data, bins=bins, stacked=True, color=[colours[s] for s in shapes], label=shapes)
        ax.set(xlabel=target + (" (Å)" if target == "eq_radius" else ""), ylabel="curves")
    axes[0].legend(fontsize=6.5)
    fig.tight_layout()
    return fig


def count_table(meta: pd.DataFrame) -> pd.DataFrame:
    """Number of atoms of every (shape, size) and the number of curves per shape."""
    table = meta.drop_duplicates("structure_id").pivot(
        index="shape", columns="size_parameter_1", values="n_atoms"
    )
    table = table.reindex([s for s in structures.SHAPES if s in table.index])
    table.columns = [f"size {c}" for c in table.columns]
    table = table.astype("Int64")
    table["curves"] = meta.groupby("shape").size().reindex(table.index)
    return table


def parity_plots(runs, targets) -> plt.Figure:
    """Predicted vs true value per size target (columns) and run (rows), Q2 in each panel."""
    fig, axes = plt.subplots(
        len(runs), len(targets), figsize=(4.2 * len(targets), 3.8 * len(runs)), squeeze=False
    )
    for r, run in enumerate(runs):
        for c, target in enumerate(targets):
            ax = axes[r, c]
            y, p = run.y_true[target], run.y_pred[target]
            ax.scatter(y, p, s=4, alpha=0.35, color=BLUE)
            lo, hi = min(y.min(), p.min()), max(y.max(), p.max())
            ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
            q2 = 1 - np.mean((y - p) ** 2) / np.var(y)
            ax.set_title(
                f"{target} | {run.protocol}{', normalised' if run.normalise else ''}"
                f"\nQ² = {q2:.3f}",
                fontsize=9,
            )
            ax.set(xlabel="true", ylabel="predicted")
    fig.tight_layout()
    return fig


def confusion_matrices(tables: dict) -> plt.Figure:
    """Row-normalised confusion matrices side by side; ``tables`` maps a title to a confusion
    table."""
    import seaborn as sns

    ncols = min(2, len(tables))
    nrows = int(np.ceil(len(tables) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.0 * ncols, 6.0 * nrows), squeeze=False)
    for ax in axes.flat[len(tables) :]:
        ax.set_axis_off()
    for ax, (title, table) in zip(axes.flat, tables.items()):
        share = table.div(table.sum(axis=1).replace(0, 1), axis=0)
        acc = np.trace(table.to_numpy()) / table.to_numpy().sum()
        sns.heatmap(
            share,
            annot=table,
            fmt="d",
            cmap="Blues",
            vmin=0,
            vmax=1,
            cbar=False,
            ax=ax,
            annot_kws={"fontsize": 7},
        )
        ax.set_title(f"{title}: accuracy {acc:.3f}", fontsize=10)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def learning_curves(runs) -> plt.Figure:
    """Training and validation accuracy per epoch of each CNN run (objects with ``history``,
    ``target`` and ``protocol``), or of each keras history of a {title: history} dict."""
    panels = (
        list(runs.items())
        if isinstance(runs, dict)
        else [(f"{run.target}, {run.protocol} split", run.history) for run in runs]
    )
    ncols = min(3, len(panels))
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_axis_off()
    for ax, (title, history) in zip(axes.flat, panels):
        ax.plot(history["accuracy"], label="training")
        if "val_accuracy" in history:
            ax.plot(history["val_accuracy"], label="validation")
        ax.set(xlabel="epoch", ylabel="accuracy", title=title, ylim=(0, 1.02))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


#: the headline metric of each (model, target) in the robustness figures, in panel order
ROBUSTNESS_PANELS = (
    ("ridge", "log_n_Atoms", "Q2"),
    ("ridge", "Size_parameter_1", "Q2"),
    ("ridge", "sqrt_log_eq_radius", "Q2"),
    ("logistic", "shape", "accuracy"),
    ("cnn1d", "shape", "accuracy"),
    ("cnn1d", "size_class", "accuracy"),
)
PROTOCOL_STYLE = {"simple_prediction": "-", "training_and_prediction": "--"}
SPLIT_COLOUR = {"random": BLUE, "grouped": VERMILLION}
EXTRA_COLOURS = (GREEN, ORANGE, SKY, "#CC79A7", "#000000")


def robustness_curves(
    table: pd.DataFrame,
    xlabel: str,
    log_x: bool = False,
    invert_x: bool = False,
    title: str | None = None,
    q2_floor: float = -1.0,
    study: dict | None = None,
    hue: str = "split",
) -> plt.Figure:
    """Metric against degradation level: one panel per (model, target), solid lines for simple
    prediction, dashed for training and prediction, one colour per value of column ``hue`` (the
    split by default). Q2 below ``q2_floor`` is drawn at the floor (marked ▼). ``study``: optional
    {(model, target): value} drawn as a grey line."""
    values = sorted(table[hue].unique())
    palette = {
        v: SPLIT_COLOUR.get(v, EXTRA_COLOURS[i % len(EXTRA_COLOURS)]) for i, v in enumerate(values)
    }
    fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.0), sharex=True)
    for ax, (model, target, metric) in zip(axes.flat, ROBUSTNESS_PANELS):
        part = table[
            (table["model"] == model) & (table["target"] == target) & (table["metric"] == metric)
        ]
        for (protocol, split), line in part.groupby(["protocol", hue]):
            line = line.sort_values("level")
            y = line["value"].to_numpy(float)
            clipped = y < q2_floor
            lone = len(line) == 1  # one level: a large open marker, so that it is not hidden
            ax.plot(
                line["level"],
                np.maximum(y, q2_floor),
                PROTOCOL_STYLE.get(protocol, ":"),
                marker="D" if lone else "o",
                ms=8 if lone else 3.5,
                mfc="none" if lone else None,
                mew=1.6 if lone else None,
                zorder=3 if lone else 2,
                color=palette[split],
                label=f"{protocol.replace('_', ' ')}, {split}",
            )
            if clipped.any():
                ax.plot(
                    line["level"].to_numpy()[clipped],
                    np.full(clipped.sum(), q2_floor),
                    "v",
                    color=palette[split],
                    ms=7,
                )
        if study and (model, target) in study:
            ax.axhline(study[(model, target)], color="0.5", lw=1, label="study")
        ax.set_title(f"{model}: {target}", fontsize=10)
        ax.set_ylabel("Q²" if metric == "Q2" else "accuracy")
        ax.set_ylim(q2_floor - 0.05 if metric == "Q2" else 0, 1.03)
        if metric == "accuracy":
            ax.axhline(1 / 9, color="0.7", lw=0.8, ls=":")  # chance for 9 balanced classes
        if log_x:
            _log_axis(ax, table["level"])
        ax.grid(alpha=0.3)
    if invert_x:  # the panels share x: invert once
        axes.flat[0].invert_xaxis()
    for ax in axes[1]:
        ax.set_xlabel(xlabel)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in axes.flat[1:]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(
        handles, labels, loc="lower center", ncol=min(5, len(labels)), fontsize=8, frameon=False
    )
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def _log_axis(ax, levels) -> None:
    """Log x axis. Spanning less than two decades, matplotlib labels minor ticks too ("2×10⁰",
    "3×10⁰"), which overlap: put one plain label at every measured level instead."""
    from matplotlib import ticker

    ax.set_xscale("log")
    levels = np.asarray(levels, dtype=float)
    levels = levels[np.isfinite(levels) & (levels > 0)]
    if levels.size and levels.max() / levels.min() < 100:
        ax.xaxis.set_major_locator(ticker.FixedLocator(np.unique(levels)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(ticker.NullLocator())


def bounds_explained(
    q, curve, q_min: float, q_max: float, peak_q: float, peak_label: str, label: str = ""
) -> plt.Figure:
    """Why a full-grid model fails on another q window: left, the curve and the measured window in
    q; right, what the model receives at each input index for both presentations. With ``resample``
    the Bragg peaks and the SAXS fringes land on other input indices than in training. ``peak_q``:
    a landmark drawn on both presentations (e.g. the lattice's strongest reflection, from
    :func:`helpers.simulation.structures.bragg_positions`), named ``peak_label``."""
    _, measured = degrade.window(q, curve, q_min, q_max)
    q_w = q[(q >= q_min) & (q <= q_max)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.5, 3.8))
    left.loglog(q, curve, color="0.6", lw=1, label="full grid (training)")
    left.loglog(
        q_w, measured, color=BLUE, lw=1.2, label=f"measured window [{q_min:g}, {q_max:g}] Å⁻¹"
    )
    left.set(xlabel="q (Å⁻¹)", ylabel="I(q)", title=label)
    left.legend(fontsize=8)
    index = np.arange(q.size)
    right.plot(index, np.log10(curve), color="0.6", lw=1, label="training input (full grid)")
    for how, colour in (("interpolate", GREEN), ("resample", VERMILLION)):
        right.plot(
            index,
            np.log10(degrade.present(q_w, measured, q, how)[1]),
            color=colour,
            lw=1,
            label=f"shown as '{how}'",
        )
    if not q_min <= peak_q <= q_max:
        raise ValueError(
            f"the landmark peak at {peak_q:g} Å⁻¹ lies outside the window: choose another."
        )
    right.axvline(np.searchsorted(q, peak_q), color="0.3", ls=":", lw=1)
    resampled_q = np.linspace(q_w[0], q_w[-1], q.size)
    right.axvline(np.searchsorted(resampled_q, peak_q), color=VERMILLION, ls=":", lw=1)
    right.set(
        xlabel="model input index",
        ylabel="log10 I",
        xscale="log",
        title=f"{peak_label} at {peak_q:.2f} Å⁻¹: input index {np.searchsorted(q, peak_q)} "
        f"in training, {np.searchsorted(resampled_q, peak_q)} when resampled",
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def degraded_curves(q, curves: dict, title: str = "", q_range=None) -> plt.Figure:
    """A few versions of one curve (``{label: (q, I)}``), log-log, offset by decades for
    legibility."""
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    for k, (label, (qk, Ik)) in enumerate(curves.items()):
        shown = np.where(Ik > 0, Ik, np.nan) / 10 ** (
            1.5 * k
        )  # zero counts cannot be drawn on a log axis
        ax.loglog(qk, shown, lw=0.9, label=label)
    ax.set(xlabel="q (Å⁻¹)", ylabel="I(q), shifted by 10^-1.5 per curve", title=title)
    if q_range:
        ax.set_xlim(*q_range)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _mark_q_landmarks(ax, bragg: dict | None, q_split: float | None):
    if q_split is not None:
        ax.axvline(q_split, color="k", lw=1, ls="--")
    for k, (label, qb) in enumerate(sorted((bragg or {}).items(), key=lambda kv: kv[1])):
        ax.axvline(qb, color="0.6", lw=0.7, ls=":")
        ax.text(
            qb,
            1.0 + 0.07 * (k % 2),
            label,
            transform=ax.get_xaxis_transform(),
            fontsize=6,
            ha="center",
            va="bottom",
            color="0.4",
        )  # alternate heights: neighbours do not collide


def profiles_over_q(
    q,
    rows: dict,
    title: str = "",
    bragg: dict | None = None,
    q_split: float = degrade.Q_SPLIT,
    log_x: bool = True,
    ylabel: str = "importance",
    twin: str | None = None,
    twin_label: str = "",
    xlabel: str = "q (Å⁻¹)",
) -> plt.Figure:
    """Stacked panels, one per entry of ``rows`` ({panel title: {curve label: profile over q}}),
    with the SAXS/WAXS split (dashed) and the Bragg peaks of ``bragg`` (dotted) marked. Curves
    whose label contains ``twin`` are drawn on their own right-hand axis (``twin_label``): a
    quantity in other units would otherwise be a flat line on the left axis."""
    fig, axes = plt.subplots(
        len(rows), 1, figsize=(11, 2.6 * len(rows)), sharex=True, squeeze=False
    )
    colours = (BLUE, VERMILLION, GREEN, ORANGE, SKY)
    for ax, (panel, curves) in zip(axes[:, 0], rows.items()):
        right = None
        for k, (label, profile) in enumerate(curves.items()):
            target = ax
            if twin and twin in label:
                right = right or ax.twinx()
                target = right
                right.set_ylabel(twin_label, fontsize=8)
            target.plot(q, profile, lw=1, label=label, color=colours[k % len(colours)])
        if right is not None:
            handles, labels = ax.get_legend_handles_labels()
            more = right.get_legend_handles_labels()
            ax.legend(handles + more[0], labels + more[1], fontsize=7, ncol=3, loc="upper right")
        _mark_q_landmarks(ax, bragg, q_split)
        ax.axhline(0, color="0.8", lw=0.6)
        ax.set_title(panel, fontsize=10, loc="left")
        ax.set_ylabel(ylabel)
        if right is None:
            ax.legend(fontsize=7, ncol=3, loc="upper right")
        if log_x:
            ax.set_xscale("log")
    axes[-1, 0].set_xlabel(xlabel)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_heatmap(
    q, per_class_profiles, class_names, title: str, q_split: float = degrade.Q_SPLIT
) -> plt.Figure:
    """Importance over q (columns) for each class (rows), colour-coded, q on a log axis."""
    fig, ax = plt.subplots(figsize=(11, 0.35 * len(class_names) + 1.4))
    edges = np.concatenate(
        [[q[0] - (q[1] - q[0]) / 2], (q[1:] + q[:-1]) / 2, [q[-1] + (q[-1] - q[-2]) / 2]]
    )
    limit = np.nanmax(np.abs(per_class_profiles)) or 1.0
    mesh = ax.pcolormesh(
        edges,
        np.arange(len(class_names) + 1),
        per_class_profiles,
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        shading="flat",
    )
    ax.set_xscale("log")
    ax.set_yticks(np.arange(len(class_names)) + 0.5, class_names, fontsize=7)
    ax.axvline(q_split, color="k", lw=1, ls="--")
    ax.set(xlabel="q (Å⁻¹)", title=title)
    fig.colorbar(mesh, ax=ax, pad=0.01)
    fig.tight_layout()
    return fig


def gain_bars(
    table: pd.DataFrame,
    panels=(
        ("cnn1d", "shape", "accuracy"),
        ("logq_realistic", "shape", "accuracy"),
        ("logistic", "shape", "accuracy"),
        ("cnn1d", "size_class", "accuracy"),
        ("ridge", "log_n_Atoms", "Q2"),
    ),
    goal: float | None = None,
) -> plt.Figure:
    """Per measurement condition (``input``), the study's clean models (simple prediction) next to
    models trained on realistic curves (training and prediction), for each split; one panel per
    (model, target) (a family with realistic models only, such as ``logq_realistic``, shows those).
    Q² below -1 is drawn at -1."""
    conditions = list(dict.fromkeys(table["input"]))
    series = [
        (p, s)
        for p in ("simple_prediction", "training_and_prediction")
        for s in ("random", "grouped")
    ]
    colours = {
        ("simple_prediction", "random"): SKY,
        ("simple_prediction", "grouped"): ORANGE,
        ("training_and_prediction", "random"): BLUE,
        ("training_and_prediction", "grouped"): VERMILLION,
    }
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(12, 2.9 * len(panels)), sharex=True, squeeze=False
    )
    x = np.arange(len(conditions))
    width = 0.8 / len(series)
    for ax, (model, target, metric) in zip(axes[:, 0], panels):
        part = table[
            (table["model"] == model) & (table["target"] == target) & (table["metric"] == metric)
        ]
        for k, (protocol, split) in enumerate(series):
            values = part[(part["protocol"] == protocol) & (part["split"] == split)].set_index(
                "input"
            )["value"]
            if values.empty:
                continue
            y = values.reindex(conditions).to_numpy(float)
            label = (
                "study's clean model"
                if protocol == "simple_prediction"
                else "trained on realistic curves"
            ) + f", {split}"
            ax.bar(
                x + (k - 1.5) * width,
                np.maximum(y, -1.0),
                width,
                color=colours[(protocol, split)],
                label=label,
            )
        if goal is not None and target == "shape":
            ax.axhline(goal, color="k", lw=0.8, ls="--")
        ax.set_ylabel("Q²" if metric == "Q2" else "accuracy")
        ax.set_ylim(-1.02 if metric == "Q2" else 0, 1.02)
        ax.set_title(f"{model}: {target}", fontsize=10, loc="left")
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, ncol=4, loc="upper center", frameon=False)
    axes[-1, 0].set_xticks(x, conditions, rotation=20, ha="right", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def reliability_diagrams(tables: dict) -> plt.Figure:
    """Reliability diagrams side by side: ``tables`` maps a title to a table with the columns
    ``confidence``, ``accuracy`` and ``count`` per confidence bin
    (:func:`helpers.learning.metrics.reliability_table`). Bars: accuracy per bin; the diagonal is
    perfect calibration; the grey line (right axis) the share of curves per bin."""
    fig, axes = plt.subplots(1, len(tables), figsize=(3.6 * len(tables), 3.5), squeeze=False)
    for ax, (title, table) in zip(axes[0], tables.items()):
        table = table[table["count"] > 0]
        ax.plot([0, 1], [0, 1], color="k", lw=0.8, label="perfect calibration")
        ax.bar(
            table["confidence"],
            table["accuracy"],
            width=0.05,
            color=BLUE,
            alpha=0.8,
            label="accuracy in bin",
        )
        share = ax.twinx()
        share.plot(
            table["confidence"],
            table["count"] / table["count"].sum(),
            "o-",
            color=GREY,
            ms=3,
            lw=0.8,
        )
        share.set_ylabel("share of test curves", color=GREY)
        share.set_ylim(0, 1)
        ax.set(
            xlim=(0, 1.02),
            ylim=(0, 1.02),
            xlabel="predicted probability of the label",
            ylabel="accuracy",
            title=title,
        )
        ax.title.set_fontsize(9)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def parity_with_intervals(panels: dict, unit: str = "Å") -> plt.Figure:
    """Predicted against true value with the predicted interval as an error bar, one panel per
    ``panels`` item: title -> (true, predicted, low, high, shapes), values on a log axis in
    ``unit``; points coloured by shape."""
    colours = shape_colours()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.0), squeeze=False)
    for ax, (title, (true, pred, low, high, shapes)) in zip(axes[0], panels.items()):
        for shape in structures.SHAPES:
            sel = np.asarray(shapes) == shape
            if not sel.any():
                continue
            ax.errorbar(
                true[sel],
                pred[sel],
                yerr=[pred[sel] - low[sel], high[sel] - pred[sel]],
                fmt="o",
                ms=2,
                lw=0.5,
                alpha=0.5,
                color=colours[shape],
                label=shape,
            )
        lo, hi = np.min([true.min(), low.min()]), np.max([true.max(), high.max()])
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel=f"true equivalent radius ({unit})",
            ylabel=f"predicted equivalent radius ({unit})",
            title=title,
        )
        ax.title.set_fontsize(9)
        for axis in (ax.xaxis, ax.yaxis):  # plain labels at 1, 2, 5 x 10^k; no minor labels
            axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[0, -1].legend(fontsize=6, loc="upper left", markerscale=2)
    fig.tight_layout()
    return fig


def accuracy_by(table: pd.DataFrame, x: str, xlabel: str, title: str = "") -> plt.Figure:
    """Accuracy against ``x`` (a column of ``table``), one line per ``model`` column value;
    ``table`` has the columns ``model``, ``x`` and ``accuracy``."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    palette = (BLUE, VERMILLION, GREEN, ORANGE, SKY, GREY)
    for colour, (model, part) in zip(palette, table.groupby("model", sort=False)):
        # display labels: shape keys read with spaces
        shown = part[x].astype(str).str.replace("_", " ")
        ax.plot(shown, part["accuracy"], "o-", color=colour, label=model, ms=4)
    ax.set(xlabel=xlabel, ylabel="shape accuracy (fraction)", ylim=(0, 1.02), title=title)
    # anchored at their right end, long rotated labels sit under their own tick, not a neighbour's
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right", rotation_mode="anchor")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the data
    fig.tight_layout()
    return fig


def _plain(value, _position=None) -> str:
    """A tick label without mathtext: 0.01, 2, 1e+05."""
    return f"{value:g}"


def _answer_title(
    shape,
    probability,
    radius_A,
    radius_A_low,
    radius_A_high,
    level,
    chi2_red,
    size_source="",
    also=(),
):
    """One line: the shape (with its probability and the ``also`` labels of its ``level`` shape
    set), R_eq with its interval (and where it comes from), the fit's chi²_red."""
    shape_text = f"shape {shape}"
    if probability is not None:
        named = ", ".join(also[:2]) + (f" and {len(also) - 2} more" if len(also) > 2 else "")
        extra = f"; {100 * level:.0f} % set adds {named}" if also else ""
        shape_text += f" (p = {probability:.2f}{extra})"
    radius = (
        f"R_eq = {radius_A:.3g} Å ({100 * level:.0f} % interval {radius_A_low:.3g}–"
        f"{radius_A_high:.3g} Å{', ' + size_source if size_source else ''})"
    )
    fit = "no fit" if chi2_red is None else f"fit χ²_red = {chi2_red:.3g}"
    return f"{shape_text}   |   {radius}   |   {fit}"


def characterisation_fit(
    q,
    intensity,
    *,
    shape: str,
    probability: float | None,
    radius_A: float,
    radius_A_low: float,
    radius_A_high: float,
    level: float = 0.9,
    size_source: str = "",
    sigma=None,
    fit_q=None,
    fitted=None,
    residuals=None,
    residuals_per_sigma: bool = False,
    chi2_red: float | None = None,
    fit_label: str = "fit",
    small_fit: tuple | None = None,
    bragg: dict | None = None,
    bragg_label: str = "Bragg positions",
    source: str = "",
    q_split: float = SAXS_WAXS_SPLIT,
    canvas: CharacterisationCanvas | None = None,
    also=(),
) -> plt.Figure:
    """The characterisation of one measured curve, drawn from the values given (nothing is computed
    here but the panels).

    Left: the small-angle part (q < ``q_split``) on log-log axes; right: the wide-angle part on
    linear axes with the ``bragg`` positions ({label: q}, Å⁻¹) marked (``bragg_label`` in the
    legend). Each has the residuals of the fit in a small panel below. ``q``, ``intensity`` and
    ``sigma`` (error bars; None: no bars) are the measured curve (q in Å⁻¹, intensity in the
    measurement's units, NaN where not measured); ``fit_q``, ``fitted`` and ``residuals`` the fit
    at the points it used (None: no fit), the residuals (I - fit) / σ if ``residuals_per_sigma``
    else (I - fit) / σ̂, σ̂ estimated from the curve itself; ``small_fit``: (q, fitted, residuals,
    label) of a fit of the small angles alone, drawn in the small-angle panel instead of the full
    fit (None: the full fit there too). The title gives the answer: ``shape`` with its
    ``probability`` (None: not shown, e.g. when the shape is not determinable) and ``also``, the
    other labels of its ``level`` shape set, the equivalent radius ``radius_A`` with its ``level``
    interval and ``size_source`` (where the size comes from, e.g. "physics fit"; "": not said), and
    ``chi2_red`` (None: no fit); ``source`` (a file name) heads it. ``canvas``: a
    :class:`CharacterisationCanvas` (of this ``q_split``) to draw on again instead of a new pyplot
    figure."""
    canvas = CharacterisationCanvas(q_split) if canvas is None else canvas
    if canvas.q_split != q_split:
        raise ValueError(
            f"the canvas splits the curve at q = {canvas.q_split:g} Å⁻¹, not {q_split:g}: "
            "make a CharacterisationCanvas(q_split) for this split."
        )
    return canvas.draw(
        q,
        intensity,
        sigma=sigma,
        fit=(fit_q, fitted, residuals, fit_label),
        small_fit=small_fit,
        residuals_per_sigma=residuals_per_sigma,
        bragg=bragg,
        bragg_label=bragg_label,
        title=_answer_title(
            shape,
            probability,
            radius_A,
            radius_A_low,
            radius_A_high,
            level,
            chi2_red,
            size_source,
            also,
        ),
        source=source,
    )


#: the characters of a 10-point title line across the characterisation figure (12.5 in wide)
TITLE_CHARACTERS = 160


class CharacterisationCanvas:
    """The figure of :func:`characterisation_fit`, made once and drawn again for each curve of
    a batch. Its axes, scales, tick formatters and the tick objects they grow persist; each
    :meth:`draw` removes the curves, fits and labels of the last one and draws the new ones, so
    that a figure does not depend on what was drawn before it (a new figure per file spent
    most of its time making axes and ticks). ``pyplot``: a figure pyplot knows (shown by
    ``plt.show()``, closed by ``plt.close``) or, for a batch, one of its own that is drawn only
    when saved."""

    def __init__(self, q_split: float = SAXS_WAXS_SPLIT, pyplot: bool = True):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.q_split = float(q_split)
        if pyplot:
            fig = plt.figure(figsize=(12.5, 6.0))
        else:
            fig = Figure(figsize=(12.5, 6.0))
            FigureCanvasAgg(fig)
        grid = fig.add_gridspec(2, 2, height_ratios=(3, 1), hspace=0.06, wspace=0.22)
        self.panels = []
        parts = (
            ("saxs", f"small angles (q < {q_split:g} Å⁻¹), log-log", True),
            ("waxs", f"wide angles (q ≥ {q_split:g} Å⁻¹), linear", False),
        )
        for column, (name, title, log) in enumerate(parts):
            ax = fig.add_subplot(grid[0, column])
            ax_r = fig.add_subplot(grid[1, column], sharex=ax)
            ax.set_label(name)
            ax_r.set_label(f"{name}_residuals")
            if log:
                ax.set_xscale("log")
                ax.set_yscale("log")
                for axis in (
                    ax.xaxis,
                    ax.yaxis,
                ):  # plain labels: mathtext ones cost most of a draw
                    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_plain))
                    # no minor ticks: the ticks of many decades cost more than the data
                    axis.set_minor_locator(matplotlib.ticker.NullLocator())
            # above the reflections' labels (their upper row sits 0.07 of this axes' height, about
            # 16 points, above it); a fixed y: no search of the other axes for room
            ax.set_title(title, fontsize=9, loc="left", pad=26, y=1.0)
            ax.set_ylabel("I(q) (measured units)")
            ax_r.set_xlabel("q (Å⁻¹)")
            ax.tick_params(labelbottom=False)
            # a few ticks on the linear axes: each tick (two lines, a label, in both panels of a
            # shared axis) costs more than the data
            for axis in (ax_r.yaxis,) + (() if log else (ax.xaxis, ax.yaxis)):
                axis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
            self.panels.append((ax, ax_r, log))
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.09, top=0.83)  # room for both titles
        self.figure = fig
        # each axes' limits before its first curve, restored before every curve (:meth:`draw`)
        self._empty_limits = [(axes, axes.viewLim.frozen()) for axes in fig.axes]

    def draw(
        self,
        q,
        intensity,
        *,
        sigma=None,
        fit=(None, None, None, ""),
        small_fit=None,
        residuals_per_sigma: bool = False,
        bragg=None,
        bragg_label: str = "",
        title: str = "",
        source: str = "",
    ):
        """Draw one curve (the arguments of :func:`characterisation_fit`; ``fit``: (q, fitted,
        residuals, label), any of the first three None for no fit; ``title``: the answer's
        line) and return the figure."""
        q = np.asarray(q, dtype=float)
        intensity = np.asarray(intensity, dtype=float)
        sigma = None if sigma is None else np.asarray(sigma, dtype=float)
        q_split = self.q_split
        has_fit = all(part is not None for part in fit[:3])
        residual_label = "(I − fit) / σ" if residuals_per_sigma else "(I − fit) / σ̂"
        # the last curve's artists out, each axes as it was before its first curve: no data
        # limits, the first view limits, autoscaling on (set_xlim turns it off)
        for axes, limits in self._empty_limits:
            for container in list(axes.containers):
                container.remove()
            for artist in list(axes.lines) + list(axes.texts) + list(axes.collections):
                artist.remove()
            if axes.get_legend() is not None:
                axes.get_legend().remove()
            axes.dataLim.set_points(matplotlib.transforms.Bbox.null().get_points().copy())
            axes.ignore_existing_data_limits = True
            axes.viewLim.set_points(limits.get_points().copy())  # set_points keeps the array
            axes.set_autoscale_on(True)
        for ax, ax_r, log in self.panels:
            part = (q < q_split) if log else (q >= q_split)
            shown = part & np.isfinite(intensity)
            if shown.any():
                if sigma is None:  # a plain line of markers: an error-bar container costs more
                    ax.plot(q[shown], intensity[shown], "o", ms=2.2, color=BLUE, label="measured")
                else:
                    ax.errorbar(
                        q[shown],
                        intensity[shown],
                        yerr=sigma[shown],
                        fmt="o",
                        ms=2.2,
                        lw=0.6,
                        color=BLUE,
                        ecolor=SKY,
                        label="measured ± σ",
                        zorder=2,
                    )
            else:
                ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center", color=GREY)
                ax_r.text(
                    0.5, 0.5, "not measured", transform=ax_r.transAxes, ha="center", color=GREY
                )
            drawn = fit if has_fit else None
            if log and small_fit is not None:
                drawn = small_fit
            if drawn is not None:
                fq, fy, fr, label = drawn
                fq = np.asarray(fq, dtype=float)
                in_part = (fq < q_split) if log else (fq >= q_split)
                if in_part.any():
                    ax.plot(
                        fq[in_part],
                        np.asarray(fy)[in_part],
                        color=VERMILLION,
                        lw=1.2,
                        label=label,
                        zorder=3,
                    )
                    ax_r.plot(fq[in_part], np.asarray(fr)[in_part], "o", ms=1.8, color=VERMILLION)
            ax_r.axhline(0.0, color="k", lw=0.7)
            if shown.any() and not log:
                lo, hi = q[shown].min(), q[shown].max()
                inside = {k: v for k, v in (bragg or {}).items() if lo <= v <= hi}
                if inside:
                    _mark_q_landmarks(ax, inside, None)
                    ax.plot([], [], color="0.6", lw=0.7, ls=":", label=bragg_label)
                pad = 0.01 * (hi - lo)
                ax.set_xlim(lo - pad, hi + pad)
            ax_r.set_ylabel(residual_label, fontsize=8)
            if drawn is None:
                ax_r.text(0.5, 0.5, "no fit", transform=ax_r.transAxes, ha="center", color=GREY)
            if ax.get_legend_handles_labels()[0]:  # a fixed corner: "best" scans every point
                ax.legend(fontsize=7, loc="upper right")
        # 10 pt holds about TITLE_CHARACTERS characters across the figure; a longer line (a long
        # shape set) is set smaller rather than cut at the figure's edges
        size = max(7.0, min(10.0, 10.0 * TITLE_CHARACTERS / max(len(title), 1)))
        self.figure.suptitle(f"{source}\n{title}" if source else title, fontsize=size, y=0.99)
        return self.figure
