"""Write ``torch_random_table.json``: real PyTorch's random numbers, for tests without torch.

Run from anywhere with real PyTorch installed::

    python tests/data/make_torch_random_table.py

Each scenario seeds the CPU generator and makes a sequence of calls on it. Every call is
recorded with its arguments (named as in ``fdiff.torch._random.Generator``) and its result,
bit for bit: the uint32 / uint64 words of floats in hex, int64s in decimal (both
space-separated), or, for big results, the SHA-256 of the raw little-endian bytes. The
scenario ends with the SHA-256 of ``torch.get_rng_state()``.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

TABLE = pathlib.Path(__file__).with_name("torch_random_table.json")
MAX_LISTED = 64  # results with more elements are stored as a digest

_F32, _F64 = "float32", "float64"
SCENARIOS = [
    # the small (< 16, per element, cached normal) path, both dtypes, consecutive calls
    (0, [("randn", [2, 2], _F32), ("randn", [3], _F32), ("randn", [5, 3], _F64)]),
    (0, [("randn", [5, 3], _F32), ("randn", [3], _F32), ("randn", [1], _F64)]),
    # the blocks-of-16 path: exact multiples, a recomputed tail, float32 and float64
    (1, [("randn", [16], _F32), ("randn", [17], _F32), ("randn", [4, 25], _F64)]),
    (7, [("randn", [3], _F64), ("randn", [1000], _F32), ("randn", [1], _F32)]),
    (123456789, [("randn", [4097], _F32), ("randn", [1000], _F64), ("randn", [2], _F64)]),
    # uniforms of both dtypes, interleaved with normals and integers
    (2**40 + 3, [("rand", [5], _F32), ("rand", [3, 7], _F64), ("randn", [9], _F32)]),
    (-1, [("rand", [100], _F32), ("randint", 0, 10, [12]), ("rand", [2], _F64)]),
    # randint: 32-bit draws below 2**28, 64-bit ones from there on
    (99, [("randint", -5, 5, [20]), ("randint", 0, 2**28 - 1, [6]), ("randint", 0, 2**28, [6])]),
    (5, [("randint", -(2**63), 2**63 - 1, [8]), ("randint", 3, 2**40, [4]), ("randn", [1], _F32)]),
    # uniform_ and normal_ with parameters (fused multiply-adds)
    (11, [("uniform", [40], -2.5, 3.25, _F32), ("uniform", [9], -1.0, 7.0, _F64)]),
    (12, [("normal", [33], 1.5, 0.25, _F32), ("normal", [7], -3.0, 2.0, _F32)]),
    (13, [("normal", [20], 1.5, 0.25, _F64), ("normal", [3], 100.0, 10.0, _F64)]),
]


def as_kwargs(call: tuple) -> dict:
    """A call tuple as the keyword arguments of the ``Generator`` method of the same name."""
    op, *args = call
    names = {
        "rand": ("shape", "dtype"),
        "randn": ("shape", "dtype"),
        "randint": ("low", "high", "shape"),
        "uniform": ("shape", "low", "high", "dtype"),
        "normal": ("shape", "mean", "std", "dtype"),
    }[op]
    return {"op": op, **dict(zip(names, args, strict=True))}


def torch_result(torch, spec: dict):
    """Run one call spec with real torch; return a NumPy array."""
    dtype = getattr(torch, spec.get("dtype", "int64"))
    shape = tuple(spec["shape"])
    if spec["op"] == "rand":
        result = torch.rand(shape, dtype=dtype)
    elif spec["op"] == "randn":
        result = torch.randn(shape, dtype=dtype)
    elif spec["op"] == "randint":
        result = torch.randint(spec["low"], spec["high"], shape)
    elif spec["op"] == "uniform":
        result = torch.empty(shape, dtype=dtype).uniform_(spec["low"], spec["high"])
    else:
        result = torch.empty(shape, dtype=dtype).normal_(spec["mean"], spec["std"])
    return result.numpy()


def encode(array) -> dict:
    """Bit-exact record of an array: listed words for small ones, a digest for big ones."""
    if array.size > MAX_LISTED:
        little_endian = array.astype(array.dtype.newbyteorder("<"))
        return {"sha256": hashlib.sha256(little_endian.tobytes()).hexdigest()}
    if array.dtype.kind == "f":
        words = array.ravel().view(f"u{array.itemsize}")
        return {"bits": " ".join(f"{w:0{2 * array.itemsize}x}" for w in words.tolist())}
    return {"ints": " ".join(str(v) for v in array.ravel().tolist())}


def main() -> None:
    import torch

    scenarios = []
    for seed, calls in SCENARIOS:
        torch.manual_seed(seed)
        records = []
        for call in calls:
            spec = as_kwargs(call)
            records.append({**spec, **encode(torch_result(torch, spec))})
        state = hashlib.sha256(torch.get_rng_state().numpy().tobytes()).hexdigest()
        scenarios.append({"seed": seed, "calls": records, "state_sha256": state})
    table = {
        "made_by": "tests/data/make_torch_random_table.py",
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "scenarios": scenarios,
    }
    TABLE.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {TABLE}")


if __name__ == "__main__":
    main()
