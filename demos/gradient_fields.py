"""A small gallery of gradient fields: the seed presets and three pictures of the options.

Run: ``python demos/gradient_fields.py [--out docs/img]``. Writes, into ``--out``:

- ``field_000_1.png``: seed 000.1's loss over ``(params[0], params[1])`` with its SGD steps;
- ``field_002_1.png``: seed 002.1's ``3a^3 + 2b^4``, where SGD at lr 0.1 diverges;
- ``field_masked.png``: a log and a division by zero, masked, drawn with streamlines;
- ``field_momentum.png``: plain SGD next to SGD with momentum, side by side on one figure.

PNGs are written without a timestamp, so a rerun reproduces the same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.figure import Figure

from fdiff.fields import PRESETS, descent_paths, gradient_field, parse_expression, plot_field

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


def save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI, metadata=METADATA)
    print(f"wrote {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "docs" / "img")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for example_id in PRESETS:
        seed_preset(example_id, out)
    masked(out)
    momentum(out)


if __name__ == "__main__":
    main()
