"""Run float64 programs with JAX's x64 mode on, in a process of their own.

fdiff.torch refuses float64 without ``jax_enable_x64``, and turning x64 on in the test process
would change every later test's integer and float types, so float64 programs run here: the
test process sends pickled ``(program, engine)`` requests on stdin and reads pickled results
on stdout, one length-prefixed frame each. ``engine`` is ``"fdiff"`` (the run plus the
op-table names it recorded), ``"torch"`` or ``"reference"`` (the float64 sensitivities of
:mod:`differential.tolerance`). Tensors do not cross the pipe: runs drop them.

>>> frame(b"ab")[:8]
b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02'
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import BinaryIO

HEADER = struct.Struct(">Q")


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


def read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    return stream.read(HEADER.unpack(header)[0])


def answer(request: tuple) -> object:
    """The result for one ``(program, engine)`` request."""
    import torch

    import fdiff.torch
    from differential.runner import execute, recorded_ops
    from differential.tolerance import sensitivities

    program, engine = request
    if engine == "fdiff":
        run = execute(program, fdiff.torch)
        ops = recorded_ops(run.tensors)
        run.tensors = []
        return run, ops
    if engine == "torch":
        run = execute(program, torch)
        run.tensors = []
        return run
    reference, sensitivity = sensitivities(program, torch)
    reference.tensors = []
    return reference, sensitivity


def main() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    import torch  # noqa: F401 - imported now, while the test process runs other tests

    import fdiff.torch  # noqa: F401

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (request := read_frame(stdin)) is not None:
        try:
            reply = ("ok", answer(pickle.loads(request)))
        except Exception as error:  # reported in the test process, with its traceback text
            import traceback

            reply = ("error", f"{error!r}\n{traceback.format_exc()}")
        stdout.write(frame(pickle.dumps(reply)))
        stdout.flush()


if __name__ == "__main__":
    main()
