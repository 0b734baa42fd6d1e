"""The explanations of ``fdiff compare --against``: where a plain JAX port differs from torch.

Each rule needs two kinds of evidence: both sources use the construct (the torch script's
``x.var()``, the port's ``jnp.var``), and the values that differ differ the way that construct
would make them (a ratio of ``n / (n - 1)``, NaN only where the input is 0, a gradient split
between tied entries...). A rule never fires from the source text alone, and each message says
what to change in the port. docs/semantics.md has a snippet per rule: a naive port and its fix.

>>> [rule.name for rule in PORT_RULES][:3]
['max-min-ties', 'var-unbiased', 'kink-subgradient']
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from fdiff.compare._report import Report
from fdiff.compare._rules import _INTEGER, Rule, _wrapped_to_int32
from fdiff.compare._tensors import tensor_values
from fdiff.compare._transcript import printed_number_pairs

__all__ = ["PORT_RULES"]


@dataclasses.dataclass(frozen=True)
class _Differing:
    """A tensor whose values differ: torch's, the port's, and (for ``x.grad``) torch's ``x``."""

    name: str
    torch: np.ndarray
    port: np.ndarray
    owner: np.ndarray | None


def _differing(report: Report) -> list[_Differing]:
    """The tensors of the same shape whose values differ (or whose dtypes differ)."""
    torch_records, port_records = (
        report.records["torch"]["tensors"],
        report.records["jax"]["tensors"],
    )
    found = []
    for t in report.tensors:
        if t.ok or t.shape_torch is None or t.shape_torch != t.shape_fdiff:
            continue
        want, got = torch_records[t.name], port_records[t.name]
        if want.get("values") is None or got.get("values") is None:
            continue
        owner_record = (
            torch_records.get(t.name.removesuffix(".grad")) if t.name.endswith(".grad") else None
        )
        owner = None
        if (
            owner_record
            and owner_record.get("values") is not None
            and owner_record["shape"] == want["shape"]
        ):
            owner = tensor_values(owner_record)
        found.append(_Differing(t.name, tensor_values(want), tensor_values(got), owner))
    return found


def _grads(report: Report) -> list[_Differing]:
    return [d for d in _differing(report) if d.name.endswith(".grad")]


def _printed_pairs(report: Report) -> Iterator[tuple[float, float]]:
    """Numbers printed in the same place of lines that differ: (torch's, the port's)."""
    for row in report.transcript:
        if row.status == "differ" and row.torch is not None and row.fdiff is not None:
            for want, got in printed_number_pairs(row.torch, row.fdiff) or ():
                try:
                    yield float(want), float(got)
                except ValueError:
                    continue


def _ratios(report: Report) -> Iterator[float]:
    """``torch's / the port's`` of each differing tensor whose differing elements all share
    one ratio, then of each number printed differently; a ratio explains a tensor only when
    it explains all of it."""
    for d in _differing(report):
        differ = ~np.isclose(d.port, d.torch, rtol=report.rtol, atol=report.atol, equal_nan=True)
        t, p = d.torch[differ], d.port[differ]
        if not (t.size and np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
            continue
        if np.all(t != 0) and np.all(p != 0):
            ratios = t / p
            if np.allclose(ratios, ratios[0], rtol=1e-4):
                yield float(ratios[0])
    for want, got in _printed_pairs(report):
        if want != 0 and got != 0 and math.isfinite(want / got):
            yield want / got


def _close(a: Any, b: Any, report: Report) -> bool:
    return bool(np.allclose(a, b, rtol=max(report.rtol, 1e-6), atol=max(report.atol, 1e-6)))


def _find(pattern: str, text: str) -> str | None:
    found = re.search(pattern, text)
    return found[0].strip(" (") if found else None


# --- the rules ---------------------------------------------------------------------------------


def _max_min_ties(report: Report) -> str | None:
    torch_use = _find(
        r"(?:\.|torch\.)(?:max|min)\([^()]*(?:dim\s*=|,\s*-?\d|\(\s*-?\d)", report.source
    )
    port_use = _find(
        r"\b(?:jnp|np|numpy)\.(?:max|min|amax|amin)\s*\(|\.(?:max|min)\(\s*axis", report.port_source
    )
    if not (torch_use and port_use):
        return None
    for d in _grads(report):
        split = np.count_nonzero(d.port) > np.count_nonzero(d.torch)
        if split and _close(d.torch.sum(), d.port.sum(), report):
            return (
                f"`{d.name}` differs where values tie: torch's `{torch_use}` over a dim sends "
                f"each slice's gradient to the one index it returns; the port's `{port_use}` "
                "splits it evenly among the ties. For torch's gradient, pick the index with "
                "`jnp.argmax` and gather with `jnp.take_along_axis`"
            )
    return None


def _ratio_size(ratio: float, power: int) -> int | None:
    """The ``n`` with ``ratio == (n / (n - 1)) ** (1 / power)``, if it is a whole number >= 2."""
    r = ratio**power
    if not 1.0 < r <= 2.0 + 1e-9:
        return None
    n = r / (r - 1.0)
    return round(n) if abs(n - round(n)) <= 1e-3 * n else None


def _var_unbiased(report: Report) -> str | None:
    torch_use = _find(
        r"(?:\.|torch\.)(?:var|std)\((?![^()]*(?:unbiased\s*=\s*False|correction\s*=\s*0))",
        report.source,
    )
    port_use = _find(
        r"\b(?:jnp|np|numpy)\.(?:var|std)\b(?!\([^()]*ddof\s*=\s*1)|\.(?:var|std)\((?![^()]*ddof)",
        report.port_source,
    )
    if not (torch_use and port_use):
        return None
    sizes = set()  # n must be the size of something the script has: a tensor, or one dim
    for record in report.records["torch"]["tensors"].values():
        if record.get("shape") is not None:
            sizes |= {math.prod(record["shape"]), *record["shape"]}
    for ratio in _ratios(report):
        for power, what in ((1, "var"), (2, "std")):
            n = _ratio_size(ratio, power)
            if n is not None and n in sizes:
                return (
                    f"torch's `{torch_use}` divides by n - 1 (unbiased, Bessel's correction) "
                    f"and the port's `{port_use}` by n: with n = {n} torch's {what} is "
                    f"{ratio:.6g} times the port's. Pass `ddof=1` in the port (or "
                    "`correction=0` / `unbiased=False` in torch)"
                )
    return None


_KINK_TORCH = r"\b(?:clamp|clip|abs|relu|hardtanh|maximum|minimum)\b"
_KINK_PORT = r"\b(?:clip|abs|maximum|minimum|relu)\b"


def _kink_subgradient(report: Report) -> str | None:
    torch_use, port_use = _find(_KINK_TORCH, report.source), _find(_KINK_PORT, report.port_source)
    if not (torch_use and port_use):
        return None
    at_kinks = []
    for d in _grads(report):
        differ = ~np.isclose(d.port, d.torch, rtol=report.rtol, atol=report.atol, equal_nan=True)
        if not differ.any():
            continue  # a dtype difference only
        t, p = d.torch[differ], d.port[differ]
        halves = np.all(np.isclose(p, t / 2) | np.isclose(t, p / 2))
        at_zero = d.owner is not None and bool(np.all(d.owner[differ] == 0))
        if halves or at_zero:
            at_kinks.append(d.name)
    if not at_kinks:
        return None
    names = ", ".join(f"`{name}`" for name in at_kinks)
    return (
        f"{names} differ only at kinks, where torch and JAX pick different subgradients: "
        "torch's clamp passes the whole gradient at x == min or max and JAX's `jnp.clip` (a "
        "maximum and a minimum, which split ties) half of it; abs'(0) is 0 in torch and 1 in "
        f"JAX (the port uses `{port_use}`). Write the kink as torch does, with `jnp.where` on "
        "the input (`jnp.where((x >= lo) & (x <= hi), g, 0)`), or a `jax.custom_jvp`"
    )


def _nan_where_torch_finite(d: _Differing) -> np.ndarray:
    return ~np.isfinite(d.port) & np.isfinite(d.torch)


def _pow_at_zero(report: Report) -> str | None:
    if not (
        re.search(r"\*\*|\bpow\(", report.source)
        and re.search(r"\*\*|\bpower\(", report.port_source)
    ):
        return None
    for d in _grads(report):
        bad = _nan_where_torch_finite(d)
        if d.owner is not None and bad.any() and np.all(d.owner[bad] == 0):
            return (
                f"`{d.name}` is NaN or infinite in the port only where `{d.name[:-5]}` is 0: "
                "torch's pow backward returns 0 there for `x ** 0` (and for the exponent's "
                "gradient where the base is 0); JAX computes 0 * x ** -1 = NaN. Guard the "
                "base with a double `jnp.where`, or write `x ** 2` as `x * x`"
            )
    return None


def _norm_at_zero(report: Report) -> str | None:
    if not (re.search(r"\bnorm\b", report.source) and re.search(r"\bnorm\b", report.port_source)):
        return None
    for d in _grads(report):
        bad = _nan_where_torch_finite(d)
        if (
            d.owner is not None
            and bad.any()
            and np.all(d.owner[bad] == 0)
            and np.all(d.torch[bad] == 0)
        ):
            return (
                f"`{d.name}` is NaN in the port where torch's is 0: the gradient of a norm at "
                "the zero vector is x / |x| = 0 / 0; torch defines it as 0, JAX does not. Use "
                "`jnp.sqrt(jnp.sum(x**2) + eps)`, or a double `jnp.where` around the zero case"
            )
    return None


def _where_nan(report: Report) -> str | None:
    if not re.search(r"\bwhere\(", report.port_source):
        return None
    for d in _grads(report):
        if np.any(np.isnan(d.port) & np.isfinite(d.torch)):
            return (
                f"`{d.name}` is NaN in the port where torch's is finite, and the port uses "
                "`jnp.where`: its gradient differentiates both branches and multiplies the "
                "unused one by 0, and 0 * inf = NaN. Make the unused branch's input safe too "
                "(the double where: `safe = jnp.where(c, x, 1.0)`; `jnp.where(c, f(safe), 0)`)"
            )
    return None


def _x64(report: Report) -> str | None:
    notes = [t for t in report.tensors if t.note.startswith("dtype torch.float64")]
    if not notes or "jax_enable_x64" in report.port_source:
        return None
    names = ", ".join(f"`{t.name}`" for t in notes)
    return (
        f"{names} {'is' if len(notes) == 1 else 'are'} float64 under torch but float32 in "
        "the port: JAX turns float64 requests (and NumPy float64 arrays) into float32 "
        "unless x64 is on. Put `jax.config.update('jax_enable_x64', True)` at the top of the port"
    )


def _int32(report: Report) -> str | None:
    if "jax_enable_x64" in report.port_source:
        return None
    for row in report.transcript:
        if row.status != "differ" or row.torch is None or row.fdiff is None:
            continue
        if "int64" in row.torch and "int32" in row.fdiff:
            return (
                "torch prints int64 where the port prints int32: JAX's integers are 32-bit "
                "unless x64 is on, and they wrap silently past 2**31. Put "
                "`jax.config.update('jax_enable_x64', True)` at the top of the port"
            )
        for want, got in printed_number_pairs(row.torch, row.fdiff) or ():
            integers = _INTEGER.fullmatch(want) and _INTEGER.fullmatch(got) and len(want) < 40
            if integers and int(got) != int(want) and _wrapped_to_int32(int(want)) == int(got):
                return (
                    f"torch prints {want} where the port prints {got}: the int64 value "
                    "wrapped around to 32 bits, as JAX's integers are int32 unless x64 is on. "
                    "Put `jax.config.update('jax_enable_x64', True)` at the top of the port"
                )
    return None


_TORCH_DRAW = (
    r"\btorch\.(?:rand|randn|randint|rand_like|randn_like|randperm|normal|bernoulli)\s*\("
    r"|\.(?:uniform_|normal_|random_|bernoulli_)\s*\("
)
_PORT_DRAW = (
    r"\bjax\.random\.(?!split|key|PRNGKey|fold_in)\w+\s*\("
    r"|\brandom\.(?:normal|uniform|randint|bernoulli|permutation)\s*\("
)


def _rng_streams(report: Report) -> str | None:
    torch_draw, port_draw = _find(_TORCH_DRAW, report.source), _find(_PORT_DRAW, report.port_source)
    values = [d for d in _differing(report) if not d.name.endswith(".grad")]
    if not (torch_draw and port_draw and values):
        return None
    return (
        f"`{values[0].name}` differs from the start: the script draws with torch's generator "
        f"(`{torch_draw}`) and the port with JAX's (`{port_draw}`), different algorithms that "
        "give different numbers for the same seed. To compare, draw once: save torch's values "
        "(`np.save`) and load them in the port, or use NumPy's seeded generator in both"
    )


_TORCH_LAYER = r"\bnn\.(?:Linear|Conv[123]d|Bilinear)\s*\("


def _fan_in(shape: tuple[int, ...]) -> int:
    return shape[1] * math.prod(shape[2:]) if len(shape) >= 2 else shape[0]


def _default_init(report: Report) -> str | None:
    layer = _find(_TORCH_LAYER, report.source)
    if not layer or re.search(r"\binit\.\w+_\(", report.source):
        return None
    records = report.records["torch"]["tensors"]
    for d in _differing(report):
        if not d.name.endswith(".weight") or d.name.count(".") != 1:
            continue
        shape = tuple(records[d.name]["shape"])
        bound = 1.0 / math.sqrt(_fan_in(shape))
        within = np.all(np.abs(d.torch) <= bound * (1 + 1e-6))
        if within and np.any(np.abs(d.port) > bound * (1 + 1e-6)):
            return (
                f"`{d.name}` is initialised differently: torch's `{layer}` draws weight and "
                f"bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), here U(-{bound:.4g}, "
                f"{bound:.4g}), and the port's values reach {np.abs(d.port).max():.4g}. Use "
                "`jax.random.uniform(key, shape, minval=-bound, maxval=bound)` (flax: "
                "`kernel_init`), and load torch's initial values to compare them exactly"
            )
    return None


_TORCH_LOSS = (
    r"\b(?:MSELoss|L1Loss|CrossEntropyLoss|NLLLoss|BCELoss|BCEWithLogitsLoss|HuberLoss|"
    r"SmoothL1Loss|mse_loss|l1_loss|cross_entropy|nll_loss|binary_cross_entropy\w*|"
    r"huber_loss|smooth_l1_loss)\b"
)


def _loss_reduction(report: Report) -> str | None:
    loss = _find(_TORCH_LOSS, report.source)
    if not loss:
        return None
    ratios = [1 / ratio for ratio in _ratios(report)]  # the port's / torch's
    if not ratios or not np.allclose(ratios, ratios[0], rtol=1e-4):
        return None
    for factor, direction in ((ratios[0], "sums"), (1 / ratios[0], "averages")):
        if factor >= 2 and abs(factor - round(factor)) <= 1e-4 * factor:
            torch_way = "averages (reduction='mean')" if direction == "sums" else "sums"
            return (
                f"the port's values are {ratios[0]:.6g} times torch's: torch's `{loss}` "
                f"{torch_way} over {round(factor)} elements where the port {direction}. Use "
                "`jnp.mean` for torch's default reduction='mean' (or match its `reduction=`)"
            )
    return None


def _layouts(report: Report) -> str | None:
    if not re.search(r"\b(?:Conv[123]d|conv[123]d|MaxPool[123]d|max_pool[123]d)\b", report.source):
        return None
    for t in report.tensors:
        shapes = (t.shape_torch, t.shape_fdiff)
        if None in shapes or t.shape_torch == t.shape_fdiff or len(t.shape_torch) < 3:
            continue
        if sorted(t.shape_torch) == sorted(t.shape_fdiff):
            return (
                f"`{t.name}` has shape {list(t.shape_torch)} in torch and "
                f"{list(t.shape_fdiff)} in the port: torch's convolutions are NCHW with OIHW "
                "weights, the port's NHWC / HWIO (flax's, and `conv_general_dilated` with "
                "those dimension numbers). Use torch's layout in the port, or transpose: "
                "OIHW = HWIO.transpose(3, 2, 0, 1), NCHW = NHWC.transpose(0, 3, 1, 2)"
            )
    return None


PORT_RULES: tuple[Rule, ...] = (
    Rule("max-min-ties", "max/min over a dim: one index, or split among ties", _max_min_ties),
    Rule("var-unbiased", "torch's var/std divide by n - 1, JAX's by n", _var_unbiased),
    Rule("kink-subgradient", "clamp and abs at their kinks", _kink_subgradient),
    Rule("pow-at-zero", "x ** y at x = 0: 0 in torch, NaN in JAX", _pow_at_zero),
    Rule("norm-at-zero", "the norm's gradient at 0: 0 in torch, NaN in JAX", _norm_at_zero),
    Rule("where-nan", "jnp.where differentiates the unused branch too", _where_nan),
    Rule("x64", "float64 needs JAX's x64 mode", _x64),
    Rule("int64-int32", "JAX's integers are int32 without x64", _int32),
    Rule("rng-streams", "torch's and JAX's generators differ", _rng_streams),
    Rule("default-init", "torch's nn layers initialise from U(+-1/sqrt(fan_in))", _default_init),
    Rule("loss-reduction", "torch's losses average by default", _loss_reduction),
    Rule("nchw-nhwc", "torch's NCHW / OIHW against JAX's NHWC / HWIO", _layouts),
)
"""The torch-vs-JAX differences ``fdiff compare --against`` explains, checked in this order."""
