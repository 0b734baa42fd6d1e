"""The catalog: every example of the five seed tutorials as data (see ``_catalog``).

>>> from fdiff.examples import get
>>> get("000.1").documented["params.grad"].value
[8.0, 4.0]
"""

from fdiff.examples import seed000, seed001, seed002, seed003, seed004  # noqa: F401 - registers
from fdiff.examples._catalog import CATALOG, Example, Printed, get

__all__ = ["CATALOG", "Example", "Printed", "get"]
