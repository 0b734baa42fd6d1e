"""The drawing flags ``fdiff plot`` and ``fdiff landscape`` share: arrows, colours, aspect, dpi.

>>> parser = argparse.ArgumentParser()
>>> add_drawing_arguments(parser)
>>> options = drawing_options(parser.parse_args(["--log-arrows", "--aspect", "auto"]))
>>> options["log_arrows"], options["aspect"], options["direction"]
(True, 'auto', 'descent')
"""

from __future__ import annotations

import argparse

from fdiff.cli._usage import UsageError, check_range
from fdiff.fields.scales import COLOR_SCALES

__all__ = ["add_drawing_arguments", "drawing_options"]

MAX_ARROWS = 200
"""Most arrows per axis."""
DPI_RANGE = (10, 1200)
"""The resolutions ``--dpi`` accepts."""


def add_drawing_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare how a field is drawn: arrows or streamlines, their lengths and colours, the
    contour levels of f, the aspect ratio, the picture's resolution."""
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--stream", action="store_true", help="streamlines instead of arrows")
    parser.add_argument("--normalize", action="store_true", help="arrows of equal length")
    parser.add_argument("--ascent", action="store_true", help="draw +grad f instead of -grad f")
    parser.add_argument(
        "--color-by", choices=("none", "magnitude", "log-magnitude"), default="none"
    )
    parser.add_argument("--arrows", type=int, default=24, help="arrows per axis at most")
    parser.add_argument(
        "--log-arrows", action="store_true", help="arrow lengths grow with log |grad f|"
    )
    parser.add_argument(
        "--color-scale",
        choices=COLOR_SCALES,
        default="auto",
        help="contour levels of f; auto: log/symlog when f spans 3 decades, else quantiles",
    )
    parser.add_argument("--log-color", action="store_true", help="log levels (symlog where f <= 0)")
    parser.add_argument(
        "--aspect", choices=("auto", "equal"), help="default: equal unless the window is >3:1"
    )


def drawing_options(args: argparse.Namespace) -> dict:
    """``plot_field``'s drawing options from the flags (checked for conflicts and range;
    ``--dpi`` is checked here and read by the caller, for ``save_figure``)."""
    check_range("--arrows", args.arrows, 2, MAX_ARROWS)
    check_range("--dpi", args.dpi, *DPI_RANGE)
    if args.log_color and args.color_scale != "auto":
        raise UsageError("give either --log-color or --color-scale, not both")
    if args.normalize and args.log_arrows:
        raise UsageError("give either --normalize or --log-arrows, not both")
    return {
        "stream": args.stream,
        "normalize": args.normalize,
        "log_arrows": args.log_arrows,
        "color_by": args.color_by,
        "color_scale": "log" if args.log_color else args.color_scale,
        "aspect": args.aspect,
        "direction": "ascent" if args.ascent else "descent",
        "arrows": args.arrows,
    }
