"""``python -m fdiff``: the ``fdiff`` command of :mod:`fdiff.cli`, e.g. ``python -m fdiff list``."""

import sys

from fdiff.cli import main

sys.exit(main())
