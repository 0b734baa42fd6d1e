"""fdiff.fields.scales and the plot options built on it: colour levels, arrows, aspect, layout."""

import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from support import assert_close

from fdiff.fields.field import descent_paths, gradient_field
from fdiff.fields.plot import new_figure, plot_comparison, plot_field, plot_losses
from fdiff.fields.scales import arrow_vectors, choose_aspect, choose_color_scale, color_levels

BOWL = lambda a, b: a**2 + 2 * b**2  # noqa: E731
EXP = lambda a, b: np.e ** (a**2 + b**2)  # noqa: E731


@pytest.mark.parametrize(
    ("values", "scale"),
    [
        (np.geomspace(1.0, 999.0, 20), "quantile"),  # just under 3 decades
        (np.geomspace(1.0, 1000.0, 20), "log"),  # 3 decades: log
        (np.linspace(0.0, 1e6, 20), "quantile"),  # reaches 0, but spread evenly
        (np.concatenate([[-5e4], np.linspace(-1, 1, 50)]), "symlog"),  # a spike far out
        (np.linspace(-4.0, 4.0, 50), "quantile"),
    ],
)
def test_log_scale_is_chosen_when_f_spans_three_decades(values, scale):
    assert choose_color_scale(values) == scale


def test_levels_on_each_scale():
    values = np.geomspace(1.0, 1e6, 100)
    assert_close(color_levels(values, 6, "log").bounds, 10.0 ** np.arange(7))
    assert_close(color_levels(values, 4, "linear").bounds, np.linspace(1, 1e6, 5))
    assert color_levels(-values, 6, "log").scale == "symlog"  # log of f <= 0: symlog
    symlog = color_levels(np.linspace(-1e4, 1e4, 101), 4, "symlog")
    assert_close(symlog.bounds[[0, 2, -1]], [-1e4, 0, 1e4])  # symmetric, exactly the range
    assert symlog.label.startswith("f (symlog levels, linear within ±")
    assert color_levels(np.ones(5), 4) is None  # a flat f has no levels
    with pytest.raises(ValueError, match="`color_scale` must be one of auto"):
        color_levels(values, 4, "cubic")


def _filled_contours(ax):
    (filled,) = [c for c in ax.collections if c.get_array() is not None and c.filled]
    return filled


def test_colours_follow_the_contour_levels_and_the_bar_says_log():
    field = gradient_field(EXP, (-3, 3), (-3, 3), 41)  # exp(0) .. exp(18): 7.8 decades
    ax = plot_field(field, levels=12)
    filled = _filled_contours(ax)
    assert isinstance(filled.norm, BoundaryNorm)
    assert_close(filled.norm.boundaries, filled.levels)  # one colour step per band
    assert_close(filled.levels, np.geomspace(1.0, float(field.values.max()), 13), rtol=1e-6)
    bar = filled.colorbar
    assert bar.ax.get_ylabel() == "f (log levels)"
    assert bar.ax in ax.child_axes  # attached to its Axes: it moves with them
    linear = _filled_contours(plot_field(field, levels=12, color_scale="linear"))
    assert_close(linear.levels, np.linspace(1.0, float(field.values.max()), 13), rtol=1e-6)


def test_aspect_is_auto_for_a_stretched_window_and_can_be_forced():
    assert choose_aspect((-100, 100), (-1, 1)) == "auto"
    assert choose_aspect((-1, 1), (-100, 100)) == "auto"
    assert choose_aspect((0, 3), (0, 1)) == "equal"  # 3:1 is still equal
    wide = gradient_field(BOWL, (-100, 100), (-1, 1), 9)
    assert plot_field(wide).get_aspect() == "auto"
    assert plot_field(wide, aspect="equal").get_aspect() == 1.0
    with pytest.raises(ValueError, match="`aspect` must be"):
        plot_field(wide, aspect="square")


def test_arrows_never_reach_the_next_one_on_a_stretched_window():
    u = np.ma.array([[100.0, 0.0], [3.0, 0.0]])
    v = np.ma.array([[0.0, 1.0], [0.0, 0.02]])
    du, dv = arrow_vectors(u, v, (10.0, 0.1), "linear")
    # lengths in cells: 10 and 10 along each axis; the longest are 0.9 cells
    assert_close(np.hypot(du / 10.0, dv / 0.1).max(), 0.9)
    assert_close(du[0, 0], 9.0) and assert_close(dv[0, 1], 0.09)


def test_log_arrows_keep_small_gradients_visible():
    u = np.ma.array([np.geomspace(1e-3, 1e3, 13)])
    v = np.ma.zeros((1, 13))
    linear, _ = arrow_vectors(u, v, (1.0, 1.0), "linear")
    logarithmic, _ = arrow_vectors(u, v, (1.0, 1.0), "log")
    assert_close(linear.max(), 0.9) and assert_close(logarithmic.max(), 0.9)
    assert linear[0, 6] < 1e-3 < 0.1 < logarithmic[0, 6]  # |g| = 1 next to 1000
    assert np.all(np.diff(logarithmic) > 0)  # still ordered by magnitude
    with pytest.raises(ValueError, match="one of `normalize` and `log_arrows`"):
        plot_field(gradient_field(BOWL, (-1, 1), (-1, 1), 5), normalize=True, log_arrows=True)


@pytest.mark.slow  # draws the figure
def test_paths_differ_in_colour_style_and_marker_and_the_legend_is_off_the_data():
    field = gradient_field(BOWL, (-2, 2), (-2, 2), 9)
    paths = descent_paths(BOWL, [(1, 1), (-1, 1), (1, -1)], steps=10)
    ax = plot_field(field, paths)
    ax.figure.set_dpi(30)  # a small canvas to draw
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    for attribute in ("get_color", "get_linestyle", "get_marker"):
        assert len({getattr(line, attribute)() for line in lines}) == 3, attribute
    assert all(line.get_alpha() < 1 for line in lines)
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.y1 < ax.get_window_extent().y0  # entirely below the Axes


def test_given_axes_get_constrained_layout():
    figure = Figure()
    left, right = figure.subplots(1, 2)
    plot_field(gradient_field(BOWL, (-1, 1), (-1, 1), 5), ax=right)
    assert not left.collections
    assert type(figure.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"


def test_losses_panel_and_comparison():
    field = gradient_field(BOWL, (-2, 2), (-2, 2), 9)
    runs = {
        "lr 0.1": descent_paths(BOWL, [(1.5, 1.0), (-1.0, 0.5)], learning_rate=0.1, steps=30),
        "lr 0.8": descent_paths(BOWL, [(1.5, 1.0), (-1.0, 0.5)], learning_rate=0.8, steps=30),
    }
    figure = plot_comparison(field, runs)
    field_ax, loss_ax = figure.axes[:2]
    texts = [t.get_text() for t in figure.legends[0].get_texts()]
    assert texts[0] == "lr 0.1 from (1.5, 1): 30 steps" and texts[2].startswith("lr 0.8")
    assert "diverged" in texts[2]  # |1 - 0.8 * 4| = 2.2 on b: diverges
    (line,) = [line for line in loss_ax.get_lines() if line.get_label() == texts[0]]
    assert_close(line.get_ydata(), runs["lr 0.1"][0].values)
    assert loss_ax.get_yscale() == "log" and field_ax.get_legend() is None
    assert plot_losses(runs["lr 0.1"][:1]).get_yscale() == "log"


def test_figures_are_registered_with_pyplot_only_where_they_can_be_shown(monkeypatch):
    from matplotlib import pyplot

    before = set(pyplot.get_fignums())
    new_figure((2, 2))  # Agg: a file-only backend, pyplot does not keep it
    assert set(pyplot.get_fignums()) == before
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "module://matplotlib_inline.x")
    figure = new_figure((2, 2))
    try:
        assert pyplot.fignum_exists(figure.number)  # plt.show() / Jupyter displays it
    finally:
        pyplot.close(figure)


def test_repr_is_short():
    field = gradient_field(lambda a, b: jnp.log(a) + b, (-1, 1), (0, 2), 5)
    assert (
        repr(field) == "GradientField(5x5, x in [-1, 1], y in [0, 2], f in [-0.6931, 2], 15 masked)"
    )
    grads = gradient_field(BOWL, (-1, 1), (0, 2), 5, values=False)
    assert repr(grads) == "GradientField(5x5, x in [-1, 1], y in [0, 2], gradient only, 0 masked)"


@pytest.mark.slow  # draws the figure
def test_surface_is_coloured_by_the_contour_levels_and_needs_values():
    from fdiff.fields.views import plot_surface

    field = gradient_field(EXP, (-3, 3), (-3, 3), 9)
    ax = plot_surface(field, descent_paths(EXP, [(1.0, 0.5)], steps=3, learning_rate=0.01))
    assert ax.get_zlabel() == "f (log levels)"
    (surface,) = ax.collections[:1]
    assert len(np.unique(surface.get_facecolor().round(3), axis=0)) > 4  # not one flat colour
    with pytest.raises(ValueError, match="needs a field with values"):
        plot_surface(gradient_field(EXP, (-1, 1), (-1, 1), 5, values=False))


@pytest.mark.slow  # renders a GIF frame by frame; the doctest of animate_paths writes one too
def test_animation_moves_each_head_and_refuses_other_formats(tmp_path):
    from PIL import Image

    from fdiff.fields.views import animate_paths

    field = gradient_field(BOWL, (-2, 2), (-2, 2), 9)
    paths = descent_paths(BOWL, [(1.5, 1.5), (-1.5, 1.0)], steps=5, learning_rate=0.1)
    out = animate_paths(field, paths, tmp_path / "p.gif", dpi=15, fps=5)
    with Image.open(out) as gif:
        assert gif.n_frames == 6  # one per point of the longest path
    with pytest.raises(ValueError, match=r"written as \.gif"):
        animate_paths(field, paths, tmp_path / "p.png")
