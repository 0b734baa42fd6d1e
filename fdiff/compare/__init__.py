"""Run one torch-style script under real PyTorch and under ``fdiff.torch``, and compare.

Each engine runs the script in its own subprocess (``python -m fdiff.compare._runner``), both
at once, each in its own process group and its own empty temporary working directory (the
script's folder is on ``sys.path``; see :mod:`fdiff.compare._engines` for why), with a timeout
that starts once the engine is imported and kills the whole process group. The runner records
every global tensor that requires grad (module parameters included) with its ``.grad``, and the
error the script raised, if any; what the script printed is captured as it is written, so it
survives a crash or a kill. The ``fdiff.torch`` run has JAX's 64-bit mode on unless
``x64=False`` (``--no-x64``). :func:`compare_script` lines up the two transcripts, compares the
tensors within ``rtol``/``atol`` and applies the :data:`RULES` that explain known semantic
differences.

The verdict, also the exit status of ``fdiff compare``: *run failed* (3) when either run timed
out, was killed by a signal, ended without a result (``os._exit``, a crash in native code) or
could not start: there is nothing to compare, and the failure, the signal and the script's line
are named; else *agree* (0) when neither raised (or both raised the same exception type at the
same line of the script, fdiff.torch's unsupported-attribute error for a name torch lacks too
counting as torch's ``AttributeError``), every transcript block matches (numbers within
tolerance, padding and object addresses such as ``0x7f3a...`` ignored) and every tensor
matches; else *differ* (1). A script that does not compile is an
:class:`~fdiff.errors.InputError` (``fdiff`` exits 2). Every name the script uses that torch
has and fdiff.torch lacks is listed (:attr:`Report.unsupported`), found by a static scan
(:mod:`fdiff.compare._scan`) and the run.

JSON report (``fdiff compare --json``, :func:`report_json`), one object:

- ``script`` (str): the compared file (for ``--example``, the example id is in ``example``);
- ``example`` (str or null): the catalog id given with ``--example``;
- ``agree`` (bool), ``exit_code`` (int): 0 when the engines agree, 1 when they differ, 3 when
  a run failed (``agree`` is then false);
- ``rtol``, ``atol`` (float): the tolerances used;
- ``engines`` (object): for ``"torch"`` and ``"fdiff.torch"``, an object with ``stdout`` and
  ``stderr`` (str: what the script printed, also before a failure; beyond 8 MiB its head and
  tail, with a line saying how many bytes were left out), ``error`` (null or an object with
  ``type`` (str), ``message`` (str), ``line`` (int or null: the script's line), ``source``
  (str: that line's text) and ``missing`` (str or null: the function ``fdiff.torch`` lacks,
  such as ``"Tensor.logcumsumexp"``)), ``outcome`` (str: ``"ok"``, ``"error"`` (the script raised),
  or a failed run's ``"timeout"``, ``"signal"``, ``"no result"`` or ``"failed to start"``),
  ``failure`` (null, or one line saying why the run failed), ``signal`` (null or the killing
  signal's name, ``"SIGSEGV"``), ``returncode`` (null or the runner's exit status) and
  ``failure_line`` (null, or the script's line a timed-out or crashed run was at);
- ``transcript`` (list): one object per aligned block (a printed line, or a tensor or array
  printed over several lines, its lines joined by ``"\\n"``; see
  :mod:`fdiff.compare._transcript`), ``status`` (str: ``"same"``, ``"close"`` (the same text
  around numbers within tolerance, padding and printed rounding allowed for), ``"differ"``,
  ``"torch only"`` or ``"fdiff only"``), ``torch`` and ``fdiff`` (str or null);
- ``tensors`` (list): one object per tensor name, ``name`` (str), ``shape_torch`` and
  ``shape_fdiff`` (list of int, or null where that engine has no such tensor),
  ``max_abs_err`` and ``max_rel_err`` (float, or null where not comparable or not finite),
  ``ok`` (bool), ``note`` (str, empty when ok: ``"values differ"``, ``"shapes differ"``, a dtype
  difference, ``"missing under ENGINE"`` or ``"could not read under ENGINE: why"``);
- ``explanations`` (list): one object per rule that applies, ``rule`` (str), ``message`` (str);
- ``unsupported`` (list): one object per name the script uses that torch has and
  ``fdiff.torch`` lacks, all of them (a static scan of the script, then the run; see
  :mod:`fdiff.compare._scan`), ``name`` (str: ``"torch.special.zeta"``, ``"Tensor.logcumsumexp"``,
  ``"torch.sum(dtype=...)"``) and ``line`` (int or null: its first line in the script);
- ``x64`` (bool): whether the ``fdiff.torch`` run had JAX's 64-bit mode on;
- ``port`` (str or null): with ``--against``, the JAX port compared with the script (the
  engines are then ``"torch"`` and ``"jax"``, and the ``fdiff`` side of ``transcript`` and
  ``tensors`` is the port's); ``port_missing`` (list of str): the tensors torch recorded that
  the port has no global for (empty without ``--against``).

>>> compared = compare_tensors(
...     {"x": {"shape": [2], "dtype": "torch.float32", "values": [1.0, 2.0]}},
...     {"x": {"shape": [2], "dtype": "torch.float32", "values": [1.0, 2.5]}},
... )
>>> compared[0].name, compared[0].max_abs_err, compared[0].ok
('x', 0.5, False)
"""

from __future__ import annotations

import importlib.util
import math
import re
import tempfile
from pathlib import Path
from typing import Any

from fdiff.compare._engines import OUTCOMES, run_engines
from fdiff.compare._port_rules import PORT_RULES
from fdiff.compare._port_text import unwrapped
from fdiff.compare._report import (
    Report,
    TensorComparison,
    TranscriptRow,
    format_report,
    report_json,
)
from fdiff.compare._rules import RULES, Rule, explain
from fdiff.compare._runner import SCRIPT_ENGINES
from fdiff.compare._tensors import DEFAULT_ATOL, DEFAULT_RTOL, compare_tensors
from fdiff.compare._transcript import align_transcripts, line_status
from fdiff.errors import InputError

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "MIN_TIMEOUT",
    "OUTCOMES",
    "PORT_RULES",
    "RULES",
    "SCRIPT_ENGINES",
    "Report",
    "Rule",
    "TensorComparison",
    "TranscriptRow",
    "align_transcripts",
    "compare_example",
    "compare_port",
    "compare_script",
    "compare_tensors",
    "example_port",
    "example_script",
    "explain",
    "format_report",
    "line_status",
    "port_report",
    "report_json",
    "run_engines",
]


MIN_TIMEOUT = 0.1
"""The shortest ``timeout`` accepted, in seconds: below it a run's end could not be told from
its deadline."""


def _check_arguments(rtol: float, atol: float, timeout: float) -> None:
    if not all(math.isfinite(t) and t >= 0 for t in (rtol, atol)):
        raise InputError(
            f"tolerances must be non-negative finite numbers, got rtol={rtol}, atol={atol}"
        )
    if not (math.isfinite(timeout) and timeout >= MIN_TIMEOUT):
        raise InputError(
            f"the timeout must be a finite number of seconds, at least {MIN_TIMEOUT:g}, "
            f"got {timeout}"
        )


def _read_script(path: Path) -> str:
    """The script's source, decoded as Python does (a coding cookie is honoured); a script
    that does not compile is the caller's mistake, an :class:`InputError`, and so is a
    machine without real PyTorch."""
    source = _read_source(path)
    if importlib.util.find_spec("torch") is None:
        raise InputError("real PyTorch is not installed: pip install 'fdiff[torch]'")
    return source


def _read_source(path: Path) -> str:
    if path.suffix != ".py":
        raise InputError(f"`{path}` is not a Python script: give a file ending in .py")
    if not path.is_file():
        raise InputError(f"`{path}` does not exist")
    try:
        data = path.read_bytes()
        compile(data, str(path), "exec", dont_inherit=True)  # compiled only, never run here
        source = importlib.util.decode_source(data)
    except OSError as error:
        raise InputError(f"cannot read `{path}`: {error.strerror or error}") from None
    except SyntaxError as error:
        where = f" line {error.lineno}" if error.lineno else ""
        raise InputError(f"`{path}`{where}: {type(error).__name__}: {error.msg}") from None
    return source


def compare_script(
    script: str | Path,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    timeout: float = 300.0,
    x64: bool = True,
) -> Report:
    """Run ``script`` under real PyTorch and under ``fdiff.torch`` and compare the two runs.

    Args:
        script: a ``.py`` file of torch-style code.
        rtol, atol: tolerances for tensors and printed numbers (``|f - t| <= atol + rtol*|t|``).
        timeout: seconds each engine's run of the script may take (its engine's import not
            counted); the engines run at the same time.
        x64: JAX's 64-bit mode in the ``fdiff.torch`` run, so float64 and int64 work as in torch.

    Returns:
        The :class:`Report`, explanations included; ``report.exit_code`` is 3 when a run failed.

    Raises:
        InputError: the file is missing, not ``.py`` or does not compile, a tolerance is
            negative or not finite, the timeout is not finite or under :data:`MIN_TIMEOUT`, or
            real PyTorch is not installed.
    """
    _check_arguments(rtol, atol, timeout)
    path = Path(script)
    source = _read_script(path)
    records = run_engines(path, timeout, x64)
    report = Report(
        script=str(path),
        source=source,
        records=records,
        transcript=align_transcripts(
            records["torch"]["stdout"], records["fdiff.torch"]["stdout"], rtol, atol
        ),
        tensors=compare_tensors(
            records["torch"]["tensors"], records["fdiff.torch"]["tensors"], rtol, atol
        ),
        rtol=rtol,
        atol=atol,
        x64=x64,
    )
    report.explanations = explain(report)
    return report


def compare_port(
    script: str | Path,
    port: str | Path,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    timeout: float = 300.0,
) -> Report:
    """Run ``script`` under real PyTorch and ``port``, its pure JAX rewrite, and compare.

    Each runs in its own process, at once. The port's floating-point globals are matched to
    torch's recorded tensors by name (``w``, ``w_grad`` for ``w.grad``, dicts flattened with
    dots; see :mod:`fdiff.compare._port_record`); what both print is compared number by number
    once ``tensor(...)`` and ``Array(...)`` are unwrapped (:mod:`fdiff.compare._port_text`),
    a line printed by one side only not counting. The explanations are the port rules of
    :mod:`fdiff.compare._port_rules`: max ties, ``var``'s default, kinks, x64, RNG streams...

    Args:
        script: a ``.py`` file of torch code.
        port: a ``.py`` file of plain JAX code computing the same values.
        rtol, atol, timeout: as in :func:`compare_script`.

    Returns:
        The :class:`Report` (``report.port`` set); ``exit_code`` 0 agree, 1 differ, 3 a run
        failed.

    Raises:
        InputError: as in :func:`compare_script`, for either file.
    """
    _check_arguments(rtol, atol, timeout)
    path, port_path = Path(script), Path(port)
    source, port_source = _read_script(path), _read_source(port_path)
    records = run_engines(path, timeout, port=port_path)
    return port_report(str(path), source, str(port_path), port_source, records, rtol, atol)


def port_report(
    script: str,
    source: str,
    port: str,
    port_source: str,
    records: dict[str, dict[str, Any]],
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> Report:
    """The :class:`Report` of a torch run and a JAX port's run (``records`` keyed ``"torch"``
    and ``"jax"``, as :func:`run_engines` returns them), explained by the port rules.

    >>> record = {"shape": [1], "dtype": "torch.float32", "values": [2.0]}
    >>> records = {
    ...     "torch": {"stdout": "", "error": None, "tensors": {"w": record, "b": record}},
    ...     "jax": {"stdout": "", "error": None, "tensors": {"w": {**record, "dtype": "float32"}}},
    ... }
    >>> report = port_report("s.py", "", "p.py", "", records)
    >>> report.agree, report.port_missing
    (True, ['b'])
    """
    torch_tensors = records["torch"]["tensors"]
    ported = {n: r for n, r in records["jax"]["tensors"].items() if n in torch_tensors}
    report = Report(
        script=script,
        source=source,
        records=records,
        transcript=align_transcripts(
            unwrapped(records["torch"]["stdout"]), unwrapped(records["jax"]["stdout"]), rtol, atol
        ),
        tensors=compare_tensors(
            {n: r for n, r in torch_tensors.items() if n in ported}, ported, rtol, atol
        ),
        rtol=rtol,
        atol=atol,
        port=port,
        port_source=port_source,
        port_missing=[n for n in torch_tensors if n not in ported],
    )
    report.explanations = explain(report, PORT_RULES)
    return report


def _chosen_examples(example_id: str) -> list[Any]:
    """The catalog examples of an example id, or of a seed document's name, in catalog order.

    Raises:
        InputError: for an id that is neither.
    """
    from fdiff.examples import CATALOG, get

    chosen = [e for e in CATALOG.values() if e.document == example_id]
    if not chosen:
        try:
            chosen = [get(example_id)]
        except KeyError as error:
            raise InputError(error.args[0]) from None
    return chosen


def example_script(example_id: str) -> str:
    """The full program of a catalog example, or of a whole seed document's examples.

    ``example_id`` is an example id (``"000.1"``) or a document name (``"000_d3cb...txt"``),
    whose examples' torch-style sources are concatenated in catalog order.

    Raises:
        InputError: for an id that is neither.
    """
    return "\n".join(
        f"# --- {e.id}: {e.title}\n{e.torch_source}" for e in _chosen_examples(example_id)
    )


def _documented_script(example_id: str) -> str:
    """:func:`example_script`, each example followed by its documented quantities printed
    (:mod:`fdiff.compare._documented`), as its JAX rewrite prints them (:func:`example_port`)."""
    return "\n".join(
        f"# --- {e.id}: {e.title}\n{e.torch_source}"
        "from fdiff.compare._documented import show_documented\n"
        f"show_documented({list(e.documented)!r}, namespace=globals())\n"
        for e in _chosen_examples(example_id)
    )


def example_port(example_id: str) -> str:
    """A JAX port script of a catalog example (or a seed document's examples): each example's
    JAX rewrite runs and prints its documented quantities key by key
    (:mod:`fdiff.compare._documented`); for a single example its values are also recorded
    (``fdiff_record``) and compared by name with the torch program's tensors.

    Raises:
        InputError: for an id that is neither an example nor a document.
    """
    chosen = _chosen_examples(example_id)
    lines = [
        "from fdiff.compare._documented import show_documented",
        "from fdiff.examples import CATALOG",
        "",
    ]
    for e in chosen:
        lines += [
            f"values = CATALOG[{e.id!r}].jax()",
            f"show_documented({list(e.documented)!r}, values)",
        ]
    if len(chosen) == 1:  # a document's examples reuse names: only printed, not recorded
        lines.append("fdiff_record = values")
    return "\n".join(lines) + "\n"


def compare_example(
    example_id: str,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    timeout: float = 300.0,
    x64: bool = True,
    against: str | Path | None = None,
) -> Report:
    """:func:`compare_script` on an example's torch-style source (see :func:`example_script`);
    with ``against``, :func:`compare_port` with that port, ``"jax"`` for the catalog's own
    JAX rewrite (:func:`example_port`)."""
    source = _documented_script(example_id) if against == "jax" else example_script(example_id)
    with tempfile.TemporaryDirectory(prefix="fdiff-example-") as folder:
        path = Path(folder) / f"example_{re.sub(r'[^0-9A-Za-z]+', '_', example_id)}.py"
        path.write_text(source, encoding="utf-8")
        if against is None:
            report = compare_script(path, rtol, atol, timeout, x64)
        else:
            port = Path(folder) / "port_jax.py" if against == "jax" else Path(against)
            if against == "jax":
                port.write_text(example_port(example_id), encoding="utf-8")
            report = compare_port(path, port, rtol, atol, timeout)
            report.port = f"<example {example_id} in JAX>" if against == "jax" else str(port)
    report.script, report.example = f"<example {example_id}>", example_id
    return report
