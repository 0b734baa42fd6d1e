"""A small gallery of gradient fields: the seed presets and three pictures of the options.

Run: ``python demos/gradient_fields.py [--out docs/img]``. Writes, into ``--out``:

- ``field_000_1.png``: seed 000.1's loss over ``(params[0], params[1])`` with its SGD steps;
- ``field_002_1.png``: seed 002.1's ``3a^3 + 2b^4``, where SGD at lr 0.1 diverges;
- ``field_masked.png``: a log and a division by zero, masked, drawn with streamlines;
- ``field_momentum.png``: plain SGD next to SGD with momentum, side by side on one figure;
- ``field_dynamic_range.png``: ``exp(a^2 + b^2)``, 8 decades, coloured on log levels;
- ``field_optimizers.png``: SGD, momentum and Adam on Rosenbrock's valley, with f per step;
- ``field_subplots.png``: fields inside ``plt.subplots``, a stretched window on auto aspect;
- ``field_surface.png``: the valley as a 3-D surface, Adam's path on it;
- with ``--gif``, ``field_paths.gif``: the optimizers' paths growing step by step (about 1 MB,
  so not kept in docs/img).

PNGs are written without a timestamp, so a rerun reproduces the same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.figure import Figure

from fdiff.fields import PRESETS, descent_paths, gradient_field, parse_expression, plot_field
from fdiff.fields.optimizers import named_optimizer, optimizer_paths
from fdiff.fields.plot import plot_comparison
from fdiff.fields.views import animate_paths, plot_surface

DPI = 100
METADATA = {"Software": None}  # no version string: the bytes depend only on the picture


def seed_preset(example_id: str, out: Path) -> Path:
    """A seed's loss with its SGD paths at the seeds' learning rate."""
    preset = PRESETS[example_id]
    expression = preset.expression
    field = gradient_field(expression, preset.xlim, preset.ylim, 201)
    paths = descent_paths(
        expression, preset.starts, learning_rate=preset.learning_rate, steps=preset.steps
    )
    for path in paths:
        print(f"  {example_id}: {path.message}")
    ax = plot_field(
        field,
        paths,
        normalize=True,
        color_by="log-magnitude" if example_id == "002.1" else "none",
        title=f"seed {example_id}: {expression.title}",
        labels=expression.variables,
    )
    return save(ax.figure, out / f"field_{example_id.replace('.', '_')}.png")


def masked(out: Path) -> Path:
    """log(a) is undefined for a <= 0 and sin(3b)/b at b = 0: those points are masked."""
    expression = parse_expression("log(a) + sin(3*b)/b + a*b")
    field = gradient_field(expression, (-1.0, 3.0), (-2.0, 2.0), 301)
    print(f"  masked: {field.report()}")
    paths = descent_paths(expression, [(2.5, 1.5), (2.5, -1.0)], steps=60, learning_rate=0.05)
    ax = plot_field(field, paths, stream=True, color_by="log-magnitude", title=expression.title)
    return save(ax.figure, out / "field_masked.png")


def momentum(out: Path) -> Path:
    """A narrow valley: plain SGD zigzags, momentum 0.8 runs along it (two Axes, one Figure)."""
    expression = parse_expression("(1 - a)**2 + 8*(b - a**2)**2")
    field = gradient_field(expression, (-1.5, 1.5), (-0.5, 2.0), 201)
    figure = Figure(figsize=(11, 5), layout="constrained")
    figure.suptitle(expression.title)
    for ax, beta in zip(figure.subplots(1, 2), (0.0, 0.8), strict=True):
        paths = descent_paths(
            expression, [(-1.2, 1.8)], steps=150, learning_rate=0.01, momentum=beta
        )
        print(f"  momentum {beta}: {paths[0].message}")
        plot_field(
            field,
            paths,
            ax=ax,
            normalize=True,
            title=f"momentum {beta}",
            path_labels=[f"lr 0.01, momentum {beta}: {paths[0].steps} steps"],
        )
    return save(figure, out / "field_momentum.png")


def dynamic_range(out: Path) -> Path:
    """exp(a^2 + b^2) spans 8 decades on [-3, 3]^2: log levels keep every ring visible."""
    expression = parse_expression("exp(a**2 + b**2)")
    field = gradient_field(expression, (-3.0, 3.0), (-3.0, 3.0), 201)
    paths = descent_paths(expression, [(1.0, 0.6)], steps=40, learning_rate=0.02)
    print(f"  dynamic range: {paths[0].message}")
    ax = plot_field(field, paths, log_arrows=True, title=expression.title)
    return save(ax.figure, out / "field_dynamic_range.png")


ROSENBROCK = parse_expression("(1 - a)**2 + 100*(b - a**2)**2")
ROSENBROCK_STARTS = [(-1.5, 2.0), (1.5, -0.5)]


def rosenbrock_runs() -> dict:
    """SGD, momentum (0.9) and Adam from two starts, fdiff.torch's update rules."""
    optimizers = {
        "SGD lr 1e-3": named_optimizer("sgd", 1e-3),
        "momentum 0.9, lr 2e-4": named_optimizer("momentum", 2e-4),
        "Adam lr 0.05": named_optimizer("adam", 0.05),
    }
    runs = optimizer_paths(ROSENBROCK, ROSENBROCK_STARTS, optimizers, steps=400)
    for name, paths in runs.items():
        for path in paths:
            print(f"  {name}: {path.message}")
    return runs


def optimizers(out: Path, runs: dict) -> Path:
    """Three optimizers from two starts on Rosenbrock's valley, and f against the step."""
    field = gradient_field(ROSENBROCK, (-2.0, 2.0), (-1.0, 3.0), 201)
    figure = plot_comparison(field, runs, title=ROSENBROCK.title, normalize=True)
    return save(figure, out / "field_optimizers.png")


def subplots(out: Path) -> Path:
    """Two fields in ``plt.subplots``: colour bars beside their Axes, a stretched window."""
    from matplotlib import pyplot as plt  # the notebook way; Agg here, so nothing is shown

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
    saddle = parse_expression("a**3 - 3*a*b**2")
    plot_field(gradient_field(saddle, (-1.5, 1.5), (-1.5, 1.5), 151), ax=left, title=saddle.title)
    wide = parse_expression("(a/50)**2 + sin(3*b)")
    paths = descent_paths(wide, [(80.0, 0.2)], steps=100, learning_rate=0.05)
    plot_field(gradient_field(wide, (-100, 100), (-1, 1), 151), paths, ax=right, title=wide.title)
    path = save(figure, out / "field_subplots.png")
    plt.close(figure)
    return path


def surface(out: Path, runs: dict) -> Path:
    """Rosenbrock as a 3-D surface (log height), Adam's paths on it."""
    field = gradient_field(ROSENBROCK, (-2.0, 2.0), (-1.0, 3.0), 161)
    ax = plot_surface(field, runs["Adam lr 0.05"], title=ROSENBROCK.title)
    return save(ax.figure, out / "field_surface.png")


def animation(out: Path, runs: dict) -> Path:
    field = gradient_field(ROSENBROCK, (-2.0, 2.0), (-1.0, 3.0), 101)
    paths = [path for run in runs.values() for path in run[:1]]
    labels = list(runs)
    written = animate_paths(
        field, paths, out / "field_paths.gif", path_labels=labels, normalize=True, dpi=50
    )
    print(f"wrote {written}")
    return written


def save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI, metadata=METADATA)
    print(f"wrote {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "docs" / "img")
    parser.add_argument("--gif", action="store_true", help="also write field_paths.gif")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    for example_id in PRESETS:
        seed_preset(example_id, out)
    masked(out)
    momentum(out)
    dynamic_range(out)
    runs = rosenbrock_runs()
    optimizers(out, runs)
    subplots(out)
    surface(out, runs)
    if args.gif:
        animation(out, runs)


if __name__ == "__main__":
    main()
