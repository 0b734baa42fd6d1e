"""fdiff.fields.plot: real files are rendered and their pixels checked."""

import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.quiver import Quiver
from support import assert_close

from fdiff.fields.field import descent_paths, gradient_field
from fdiff.fields.plot import PATH_COLORS, plot_field, save_figure

BOWL = lambda a, b: a**2 + 2 * b**2  # noqa: E731
DPI = 50  # the default 6.4 x 5.6 inch figure is 320 x 280 pixels


def _bowl_field(n=41):
    return gradient_field(BOWL, (-2, 2), (-2, 2), n)


def _red_pixels(image: np.ndarray) -> int:
    """Pixels close to the first path colour (nothing else is red; paths are 85% opaque)."""
    red = np.array([int(PATH_COLORS[0][i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(image[..., :3] - red).max(axis=-1) < 0.2).sum())


def _render(tmp_path, ax, name="field.png"):
    path = save_figure(ax.figure, tmp_path / name, dpi=DPI)
    return imread(path)


@pytest.mark.slow
def test_png_has_the_right_size_is_not_blank_and_shows_the_path(tmp_path):
    field = _bowl_field()
    paths = descent_paths(BOWL, [(-1.8, 1.5)], steps=15)
    with_path = _render(tmp_path, plot_field(field, paths, title="bowl"), "with.png")
    without = _render(tmp_path, plot_field(field, title="bowl"), "without.png")
    assert with_path.shape == (280, 320, 4)
    pixels = with_path[..., :3].reshape(-1, 3)
    assert pixels.std(axis=0).min() > 0.05  # not blank
    assert len(np.unique(pixels.round(2), axis=0)) > 50  # contours, arrows, text
    assert _red_pixels(with_path) > 100
    assert _red_pixels(without) == 0


@pytest.mark.parametrize(
    "options",
    [
        {"stream": True},
        {"stream": True, "color_by": "log-magnitude"},
        {"normalize": True, "color_by": "magnitude"},
        {"color_by": "log-magnitude", "direction": "ascent"},
    ],
)
def test_options_render_without_warnings(tmp_path, options):
    field = _bowl_field()
    paths = descent_paths(BOWL, [(1.5, -1.5), (-1, -1)], steps=10)
    image = _render(tmp_path, plot_field(field, paths, **options))
    assert image.shape == (280, 320, 4)
    assert _red_pixels(image) > 50


def _quiver(ax) -> Quiver:
    (quiver,) = [c for c in ax.collections if isinstance(c, Quiver)]
    return quiver


def test_direction_switches_the_arrows_sign():
    field = _bowl_field(n=9)
    descent = _quiver(plot_field(field, arrows=9))
    ascent = _quiver(plot_field(field, arrows=9, direction="ascent"))
    a, b = np.meshgrid(field.x, field.y)
    # -grad f of a^2 + 2b^2 = (-2a, -4b), scaled so the longest arrow (at a corner, length
    # sqrt(4^2 + 8^2)) spans 0.9 of the 0.5 grid spacing
    scale = 0.9 * 0.5 / np.hypot(4.0, 8.0)
    assert_close(descent.U.ravel(), (-2 * a * scale).ravel())
    assert_close(descent.V.ravel(), (-4 * b * scale).ravel())
    assert_close(ascent.U, -descent.U)


def test_normalized_arrows_have_unit_length_and_dense_grids_are_subsampled():
    field = _bowl_field(n=201)
    quiver = _quiver(plot_field(field, normalize=True, arrows=20))
    assert quiver.N <= 20 * 20
    length = np.hypot(quiver.U, quiver.V)
    spacing = float(field.x[11] - field.x[0])  # every 11th point is drawn
    assert_close(length[length > 0], 0.9 * spacing)


def test_non_finite_points_are_masked_and_noted(tmp_path):
    field = gradient_field(lambda a, b: jnp.log(a) + b, (-1, 1), (-1, 1), 21)
    ax = plot_field(field, stream=True)
    assert any(f"{field.nonfinite} non-finite points masked" in t.get_text() for t in ax.texts)
    _render(tmp_path, ax)


def test_a_field_with_no_finite_point_is_refused():
    field = gradient_field(lambda a, b: jnp.log(-(a**2) - 1) * b, (-1, 1), (-1, 1), 5)
    with pytest.raises(ValueError, match="not finite anywhere"):
        plot_field(field)


def test_constant_function_draws_no_contours(tmp_path):
    field = gradient_field(lambda a, b: 0 * a + 1.0, (0, 1), (0, 1), 5)
    ax = plot_field(field)
    (arrows,) = ax.collections  # the arrows only: no contour set
    assert isinstance(arrows, Quiver) and not ax.child_axes  # and no colour bar for f
    assert not np.any(arrows.U) and not np.any(arrows.V)  # a constant has zero gradient
    assert _render(tmp_path, ax).shape == (280, 320, 4)


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True])
def test_a_gradient_only_field_draws_no_contours(tmp_path, stream):
    field = gradient_field(BOWL, (-2, 2), (-2, 2), 41, values=False)
    paths = descent_paths(BOWL, [(-1.8, 1.5)], steps=15)
    ax = plot_field(field, paths, stream=stream)
    assert not ax.child_axes  # no colour bar for f (colour bars are inset Axes)
    full = plot_field(_bowl_field(), paths, stream=stream)
    assert len(full.child_axes) == 1 and len(full.collections) == len(ax.collections) + 2
    if not stream:
        (arrows,) = [c for c in ax.collections if isinstance(c, Quiver)]
        longest = np.hypot(field.grad_x, field.grad_y)[::2, ::2].max()  # 0.9 of the spacing 0.2
        assert_close(arrows.U, -field.grad_x[::2, ::2].ravel() * 0.9 * 0.2 / longest)
    image = _render(tmp_path, ax)
    assert _red_pixels(image) > 20  # the path is drawn
    assert (image[..., :3] < 0.2).all(axis=-1).sum() > 100  # and the black arrows/lines


def test_contours_can_be_turned_off_and_are_refused_without_values():
    assert not plot_field(_bowl_field(), contours=False).child_axes  # no colour bar
    assert len(plot_field(_bowl_field(), contours=True).child_axes) == 1
    grads = gradient_field(BOWL, (-2, 2), (-2, 2), 9, values=False)
    assert not plot_field(grads, contours=False).child_axes
    with pytest.raises(ValueError, match="cannot draw contours: the field has no values"):
        plot_field(grads, contours=True)


def test_a_gradient_only_field_with_no_finite_gradient_is_refused():
    field = gradient_field(lambda a, b: jnp.sqrt(a - 5), (-1, 1), (-1, 1), 5, values=False)
    with pytest.raises(ValueError, match="not finite anywhere"):
        plot_field(field)


def test_legend_names_each_path():
    paths = descent_paths(BOWL, [(1, 1), (3, 3)], steps=30, max_norm=4)  # |(3, 3)| > 4
    ax = plot_field(_bowl_field(n=9), paths)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["path 1 from (1, 1): 30 steps", "path 2 from (3, 3): diverged"]
    ax = plot_field(_bowl_field(n=9), paths, path_labels=["plain", "too fast"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plain", "too fast"]


def test_title_labels_limits_and_aspect():
    field = gradient_field(BOWL, (-1, 3), (0, 2), 11)
    ax = plot_field(field, title="f(p0, p1) = bowl", labels=("p0", "p1"))
    assert ax.get_title().startswith("f(p0, p1) = bowl\narrows: ")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("p0", "p1")
    assert ax.get_xlim() == (-1, 3) and ax.get_ylim() == (0, 2)
    assert ax.get_aspect() == 1.0


def test_draws_on_a_given_axes_so_figures_compose():
    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert plot_field(_bowl_field(n=9), ax=right) is right
    assert not left.collections


def test_svg_and_pdf_follow_the_extension(tmp_path):
    ax = plot_field(_bowl_field(n=9))
    assert b"<svg" in save_figure(ax.figure, tmp_path / "f.svg").read_bytes()[:1000]
    assert save_figure(ax.figure, tmp_path / "f.PDF").read_bytes().startswith(b"%PDF")


def test_dpi_sets_the_png_size(tmp_path):
    ax = plot_field(_bowl_field(n=9))
    assert imread(save_figure(ax.figure, tmp_path / "f.png", dpi=20)).shape[:2] == (112, 128)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ax, tmp: save_figure(ax.figure, tmp / "f.jpg"), "must be one of .png"),
        (lambda ax, tmp: save_figure(ax.figure, tmp / "f.png", dpi=0), "dpi"),
        (lambda ax, tmp: plot_field(_bowl_field(5), direction="up"), "direction"),
        (lambda ax, tmp: plot_field(_bowl_field(5), color_by="hue"), "color_by"),
        (lambda ax, tmp: plot_field(_bowl_field(5), arrows=1), "arrows"),
        (lambda ax, tmp: plot_field(_bowl_field(5), path_labels=["x"]), "1 `path_labels` for 0"),
    ],
)
def test_bad_options_are_refused(tmp_path, call, message):
    with pytest.raises(ValueError, match=message):
        call(plot_field(_bowl_field(n=5)), tmp_path)


@pytest.mark.slow
def test_headless_without_pyplot_even_with_an_interactive_backend_set(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from fdiff.fields.field import gradient_field
        from fdiff.fields.plot import plot_field, save_figure
        field = gradient_field(lambda a, b: a * b, (-1, 1), (-1, 1), 9)
        save_figure(plot_field(field).figure, {str(tmp_path / "f.png")!r})
        assert "matplotlib.pyplot" not in sys.modules
        """
    )
    env = os.environ | {"MPLBACKEND": "TkAgg", "DISPLAY": ""}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert imread(tmp_path / "f.png").shape[:2] == (840, 960)
