"""Figure helpers: readable axes."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.report import plots, results  # noqa: E402


def _sweep(levels):
    rows = []
    for level in levels:
        for model, target, metric in plots.ROBUSTNESS_PANELS:
            rows += results.rows(
                "VI",
                "waxs",
                model,
                "simple_prediction",
                "random",
                target,
                {metric: 0.5},
                level=level,
            )
    return pd.DataFrame(rows, columns=results.COLUMNS)


def _labels(fig):
    fig.canvas.draw()
    ax = fig.axes[3]  # a bottom panel (the x axis is shared)
    major = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    minor = [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    return major, minor


def test_log_axis_of_less_than_two_decades_labels_every_measured_level_plainly():
    fig = plots.robustness_curves(_sweep([0.6, 1.0, 2.0, 4.0, 8.0]), "q", log_x=True)
    major, minor = _labels(fig)
    plt.close(fig)
    assert minor == []
    assert major == ["0.6", "1", "2", "4", "8"]


def test_log_axis_of_many_decades_keeps_powers_of_ten():
    fig = plots.robustness_curves(_sweep([1e3, 1e5, 1e7, 1e9]), "photons", log_x=True)
    major, _ = _labels(fig)
    plt.close(fig)
    assert any("10^" in m for m in major)


def test_bounds_figure_marks_the_named_bragg_peak_not_the_max_of_i_q2():
    """The landmark is the (111) reflection where the lattice puts it (2.67 Å⁻¹ for Au), not the
    maximum of I·q², which on a slowly decaying curve sits at the top of the grid."""
    from helpers.simulation import structures

    q = np.arange(1, 2000) / 100
    peak = structures.bragg_positions("Au", "fcc")["111"]
    assert peak == pytest.approx(2 * np.pi * np.sqrt(3) / (np.sqrt(2) * structures.rnn("Au")))
    curve = 1 / q + 5 * np.exp(-0.5 * ((q - peak) / 0.03) ** 2)  # I·q² grows to q_max
    fig = plots.bounds_explained(q, curve, 0.1, 15.0, peak_q=peak, peak_label="Au (111)")
    title = fig.axes[1].get_title()
    assert f"index {np.searchsorted(q, peak)} in training" in title and "2.67" in title
    assert abs(fig.axes[1].lines[-2].get_xdata()[0] - np.searchsorted(q, peak)) < 1
    with pytest.raises(ValueError, match="outside the window"):
        plots.bounds_explained(q, curve, 3.0, 15.0, peak_q=peak, peak_label="Au (111)")


def _labelled(fig):
    """Every axis has a y label, and every axis that owns its x axis (not a twin) an x label."""
    twins = {twin for ax in fig.axes for twin in ax.get_shared_x_axes().get_siblings(ax)}
    owners = [
        ax
        for ax in fig.axes
        if ax is min(ax.get_shared_x_axes().get_siblings(ax), key=fig.axes.index)
    ]
    return (
        bool(twins)
        and all(ax.get_ylabel() for ax in fig.axes)
        and all(ax.get_xlabel() for ax in owners)
    )


def test_reliability_diagrams_draw_one_panel_per_table():
    table = pd.DataFrame(
        {"confidence": [0.35, 0.65, 0.95], "accuracy": [0.3, 0.6, 0.97], "count": [5, 0, 40]}
    )
    fig = plots.reliability_diagrams({"a": table, "b": table})
    assert len(fig.axes) == 4 and _labelled(fig)  # each panel has its share-of-curves twin
    plt.close(fig)


def test_parity_with_intervals_and_accuracy_by_label_their_axes():
    true = np.array([10.0, 20.0, 30.0])
    fig = plots.parity_with_intervals(
        {
            "clean": (
                true,
                true * 1.1,
                true * 0.9,
                true * 1.3,
                ["cubefcc", "icosahedron", "cubefcc"],
            )
        }
    )
    assert _labelled(fig) and fig.axes[0].get_xscale() == "log"
    plt.close(fig)
    table = pd.DataFrame(
        {"model": ["a", "a", "b"], "shape": ["x", "y", "x"], "accuracy": [1, 0.5, 0.7]}
    )
    fig = plots.accuracy_by(table, "shape", "shape of the held-out particle")
    assert _labelled(fig) and len(fig.axes[0].get_lines()) == 2
    plt.close(fig)


def test_curves_over_sizes_draws_every_chosen_size(small_library):
    fig = plots.curves_over_sizes(small_library, "cubefcc", "Au", 0.1, n_shown=3)
    assert _labelled(fig) and len(fig.axes[0].get_lines()) == 3
    assert fig.axes[0].get_xscale() == "log" and fig.axes[1].get_xscale() == "linear"
    plt.close(fig)
    with pytest.raises(ValueError, match="no cubefcc of Pb"):
        plots.curves_over_sizes(small_library, "cubefcc", "Pb", 0.1)


def test_engine_scaling_reads_the_benchmark_table():
    table = pd.DataFrame(
        {
            "shape": ["cubefcc"] * 4,
            "n_atoms": [1e3, 1e4, 1e3, 1e4],
            "seconds": [0.01, 0.05, 0.02, 2.0],
            "engine": [
                "new (lattice)",
                "new (lattice)",
                "binned (measured)",
                "binned (EXTRAPOLATED N^2)",
            ],
        }
    )
    fig = plots.engine_scaling(table)
    assert _labelled(fig) and fig.axes[0].get_yscale() == "log"
    plt.close(fig)
    with pytest.raises(ValueError, match="columns"):
        plots.engine_scaling(table.drop(columns="engine"))


def _vertical_lines(ax, style=":"):
    """x of the vertical lines of ``style`` drawn on ``ax`` (axvline: two equal x)."""
    return sorted(
        float(line.get_xdata()[0])
        for line in ax.lines
        if line.get_linestyle() == style
        and len(line.get_xdata()) == 2
        and line.get_xdata()[0] == line.get_xdata()[1]
    )


def _fit_figure(q, **changes):
    intensity = 1e3 / (1 + (q * 20) ** 4) + 0.5
    values = dict(
        sigma=0.05 * intensity,
        shape="icosahedron",
        probability=0.93,
        radius_A=12.0,
        radius_A_low=10.0,
        radius_A_high=14.5,
        fit_q=q[::2],
        fitted=1.01 * intensity[::2],
        residuals=np.full(q[::2].size, -0.2),
        residuals_per_sigma=True,
        chi2_red=1.31,
        fit_label="fit: icosahedron, Au",
        bragg={"111": 2.67, "200": 3.08, "400": 6.17},
        bragg_label="fcc reflections of Au",
        source="gold.dat",
    )
    values.update(changes)
    return plots.characterisation_fit(q, intensity, **values)


def test_characterisation_fit_has_its_panels_labels_and_the_bragg_positions_in_range():
    q = np.linspace(0.02, 6.0, 300)
    fig = _fit_figure(q)
    axes = {ax.get_label(): ax for ax in fig.axes}
    assert set(axes) == {"saxs", "saxs_residuals", "waxs", "waxs_residuals"}
    assert axes["saxs"].get_xscale() == axes["saxs"].get_yscale() == "log"
    assert axes["waxs"].get_xscale() == axes["waxs"].get_yscale() == "linear"
    for name in ("saxs", "waxs"):
        assert axes[name].get_ylabel() == "I(q) (measured units)"
        assert axes[f"{name}_residuals"].get_xlabel() == "q (Å⁻¹)"
        assert axes[f"{name}_residuals"].get_ylabel() == "(I − fit) / σ"
        assert len(axes[f"{name}_residuals"].lines) >= 2  # the residuals and the zero line
        assert axes[name].containers  # the error bars
    # the reflections inside the measured wide-angle range, not (400) at 6.17 Å⁻¹
    assert _vertical_lines(axes["waxs"]) == [2.67, 3.08]
    assert _vertical_lines(axes["saxs"]) == []
    legend = [t.get_text() for t in axes["waxs"].get_legend().get_texts()]
    assert "fcc reflections of Au" in legend and "fit: icosahedron, Au" in legend
    title = fig.get_suptitle()
    assert title.startswith("gold.dat\n")
    assert "icosahedron (p = 0.93)" in title and "R_eq = 12 Å (90 % interval 10–14.5 Å)" in title
    assert "χ²_red = 1.31" in title
    plt.close(fig)
    # a shape set of more than one label: the others follow the probability
    fig = _fit_figure(q, probability=0.6, also=["cuboctahedron", "octahedron"])
    assert "icosahedron (p = 0.60; 90 % set adds cuboctahedron, octahedron)" in fig.get_suptitle()
    assert fig._suptitle.get_fontsize() == 10.0
    plt.close(fig)
    many = ["dihedral_rhombic_dodecahedron", "rhombic_dodecahedron", "pentagonal_bipyramid"]
    fig = _fit_figure(q, probability=0.3, also=[*many, "cube"])
    title = fig.get_suptitle()
    assert "set adds dihedral_rhombic_dodecahedron, rhombic_dodecahedron and 2 more)" in title
    assert 7.0 <= fig._suptitle.get_fontsize() < 10.0  # a longer line, set smaller
    plt.close(fig)


def test_characterisation_fit_keeps_its_titles_clear_of_the_reflection_labels():
    q = np.linspace(0.02, 20.0, 600)  # a long wide-angle range: the peaks sit under the title
    fig = _fit_figure(q)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    waxs = next(ax for ax in fig.axes if ax.get_label() == "waxs")
    title = waxs.title if waxs.get_title() else waxs._left_title
    labels = [t for t in waxs.texts if t.get_text() in ("111", "200")]
    assert len(labels) == 2  # both rows of the alternating labels
    box = title.get_window_extent(renderer)
    for label in labels:
        assert not box.overlaps(label.get_window_extent(renderer)), label.get_text()
    suptitle = fig._suptitle.get_window_extent(renderer)
    assert not suptitle.overlaps(box)
    plt.close(fig)


def test_characterisation_fit_without_wide_angles_or_fit_says_so():
    q = np.linspace(0.02, 0.9, 100)
    fig = _fit_figure(
        q,
        shape="not determinable from this q range",
        probability=None,
        sigma=None,
        fit_q=None,
        fitted=None,
        residuals=None,
        residuals_per_sigma=False,
        chi2_red=None,
    )
    axes = {ax.get_label(): ax for ax in fig.axes}
    texts = {name: [t.get_text() for t in ax.texts] for name, ax in axes.items()}
    assert "not measured" in texts["waxs"] and "no fit" in texts["saxs_residuals"]
    assert _vertical_lines(axes["waxs"]) == []
    assert axes["saxs_residuals"].get_ylabel() == "(I − fit) / σ̂"  # σ̂ estimated from the scatter
    title = fig.get_suptitle()
    assert "shape not determinable from this q range   |" in title and "no fit" in title
    plt.close(fig)


def test_characterisation_fit_draws_a_small_angle_fit_in_the_small_angle_panel():
    q = np.linspace(0.02, 6.0, 300)
    small = q < 1.0
    size_fit = (q[small], np.ones(small.sum()), np.zeros(small.sum()), "size fit: R_0 = 11 Å")
    fig = _fit_figure(q, small_fit=size_fit)
    axes = {ax.get_label(): ax for ax in fig.axes}
    saxs = [t.get_text() for t in axes["saxs"].get_legend().get_texts()]
    waxs = [t.get_text() for t in axes["waxs"].get_legend().get_texts()]
    assert "size fit: R_0 = 11 Å" in saxs and not any(t.startswith("fit:") for t in saxs)
    assert (
        any(t.startswith("fit: icosahedron") for t in waxs) and "size fit: R_0 = 11 Å" not in waxs
    )
    drawn = [line for line in axes["saxs"].lines if line.get_label() == "size fit: R_0 = 11 Å"]
    np.testing.assert_array_equal(drawn[0].get_ydata(), np.ones(small.sum()))
    plt.close(fig)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=60, format="png")
    return buffer.getvalue()


def test_a_canvas_drawn_again_draws_each_curve_as_a_new_figure_would():
    # a batch draws every file on one canvas: a figure must not depend on the ones before it
    wide = np.linspace(0.02, 6.0, 300)
    saxs_only = np.linspace(0.02, 0.9, 100)
    curves = [
        (wide, {}),
        (saxs_only, dict(sigma=None, fit_q=None, fitted=None, residuals=None, chi2_red=None)),
        (wide[wide > 1.5], dict(bragg={"220": 4.36}, source="waxs.dat")),
    ]
    canvas = plots.CharacterisationCanvas(pyplot=False)
    for q, changes in curves + curves[:1]:
        again = _png(_fit_figure(q, canvas=canvas, **changes))
        fresh_fig = _fit_figure(q, **changes)
        assert again == _png(fresh_fig)
        plt.close(fresh_fig)
    assert canvas.figure.canvas.manager is None  # not pyplot's: nothing to close, nothing shown
    with pytest.raises(ValueError, match=r"make a CharacterisationCanvas\(q_split\)"):
        _fit_figure(wide, canvas=canvas, q_split=0.5)
