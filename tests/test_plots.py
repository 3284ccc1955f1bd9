"""Figure helpers: readable axes."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from helpers.report import plots, results  # noqa: E402


def _sweep(levels):
    rows = []
    for level in levels:
        for model, target, metric in plots.ROBUSTNESS_PANELS:
            rows += results.rows("VI", "waxs", model, "simple_prediction", "random", target, {metric: 0.5}, level=level)
    return pd.DataFrame(rows, columns=results.COLUMNS)


def _labels(fig):
    fig.canvas.draw()
    ax = fig.axes[3]  # a bottom panel (the x axis is shared)
    major = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    minor = [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    return major, minor


def test_log_axis_of_less_than_two_decades_has_plain_labels_and_no_minor_labels():
    fig = plots.robustness_curves(_sweep([0.6, 1.0, 2.0, 4.0, 8.0]), "q", log_x=True)
    major, minor = _labels(fig)
    plt.close(fig)
    assert minor == []
    assert {"1", "2", "5"} <= set(major) and all("times" not in m and "^" not in m for m in major)


def test_log_axis_of_many_decades_keeps_powers_of_ten():
    fig = plots.robustness_curves(_sweep([1e3, 1e5, 1e7, 1e9]), "photons", log_x=True)
    major, _ = _labels(fig)
    plt.close(fig)
    assert any("10^" in m for m in major)
