"""PyTorch's CPU random number generator, bit for bit, in pure NumPy.

A :class:`Generator` reproduces the bits that PyTorch 2.13's CPU default generator gives for
``manual_seed``, ``rand``, ``randn``, ``randint`` and the ``uniform_`` / ``normal_`` fills,
for float32 and float64, any size, with state carried from call to call.

Algorithm
---------
Engine
    The 32-bit Mersenne Twister mt19937, seeded with the standard ``init_genrand`` recurrence
    from the low 32 bits of the (64-bit) seed. Its word stream is NumPy's ``MT19937`` bit
    generator, whose state is set directly, so words are drawn in vectorised blocks. A 64-bit
    draw takes two words, the first one giving the high half.
Uniform floats in [0, 1)
    float32: the low 24 bits of one word times 2**-24. float64: the low 53 bits of one 64-bit
    draw times 2**-53. ``uniform(low, high)`` is then ``fma(x, high - low, low)``, computed in
    the output dtype (``low`` and ``high`` are first cast to it), except that a result which
    rounds up to ``high`` becomes ``low``; every element takes its own draw, in C order.
Normal samples, fewer than 16 elements
    Each element comes from a double-precision Box-Muller pair made of two float64 uniforms
    ``u1, u2``: ``r = sqrt(-2 log1p(-u2))``, ``theta = 2 pi u1``; the element is
    ``r cos(theta)`` and ``r sin(theta)`` is cached in the generator and becomes the next
    element asked for this way, even in a later call. Each sample ``z`` then becomes
    ``fma(z, std, mean)`` in double, cast to the output dtype. ``manual_seed`` drops the cached
    sample; ``get_state``/``set_state`` carry it.
Normal samples, 16 elements or more
    All ``n`` uniforms of the output dtype are drawn first. Each block of 16, ``u[0:16]``, gives
    ``u1 = 1 - u[j]`` and ``u2 = u[j + 8]`` for ``j < 8``, ``radius = sqrt(-2 log u1)``,
    ``theta = 2 pi u2``, and stores ``radius cos(theta)`` at ``j`` and ``radius sin(theta)``
    at ``j + 8``. When ``n`` is not a multiple of 16, 16 fresh uniforms are drawn and their
    block overwrites the last 16 elements. The cached sample is neither used nor changed.
    float64 uses the C library's ``log``, ``cos`` and ``sin`` (reached through :mod:`math`,
    the same libm that PyTorch calls) and ``fma(radius cos(theta), std, mean)``. float32
    follows PyTorch's AVX2/AVX512 kernel: the Cephes single-precision ``log`` and ``sincos``
    polynomials of ``avx_mathfun.h``, with the multiply-adds the compiler fuses into FMAs,
    ``theta = float32(2 pi) * u2`` and ``fma(radius cos(theta), std, mean)``, all in float32.
    (A PyTorch build running without AVX2, ``ATEN_CPU_CAPABILITY=default``, or on a non-x86 CPU
    fills float32 with libm's ``logf``/``cosf``/``sinf`` instead, so its large float32 normal
    samples can differ from these in the last bit.)
Random integers
    ``randint(low, high)`` sets ``range = high - low``; each element is
    ``draw % range + low`` (wrapping in 64 bits), where ``draw`` is one 32-bit word when
    ``range < 2**28`` and one 64-bit draw otherwise (PyTorch 2.13's threshold, found by
    experiment: smaller ranges keep the modulo bias of a 32-bit draw small).

Every FMA above is emulated with a single correct rounding, as the hardware does
(:mod:`~fdiff.torch._fma`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence

import numpy as np

from fdiff.torch._fma import fma32 as _fma32
from fdiff.torch._fma import fma64 as _fma64
from fdiff.torch._interop import check_host_draw

DEFAULT_SEED = 67280421310721  # the seed of a fresh ``torch.Generator()``
STATE_SIZE = 5056  # bytes in ``torch.get_rng_state()``
_N = 624  # words in the mt19937 state
_FLOAT_DTYPES = ("float32", "float64")
_U64 = 2**64
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Byte layout of ``torch.get_rng_state()`` (CPUGeneratorImplState, little-endian).
_STATE_LAYOUT = np.dtype(
    {
        "names": ["seed", "left", "seeded", "next", "key", "normal_y", "normal_is_valid"],
        "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", _N), "<f8", "<i4"],
        "offsets": [0, 8, 12, 16, 24, 5024, 5040],
        "itemsize": STATE_SIZE,
    }
)

# Cephes single-precision constants, as used by avx_mathfun.h.
_F32 = np.float32
_LOG_POLY = [
    _F32(c)
    for c in (
        7.0376836292e-2,
        -1.1514610310e-1,
        1.1676998740e-1,
        -1.2420140846e-1,
        1.4249322787e-1,
        -1.6668057665e-1,
        2.0000714765e-1,
        -2.4999993993e-1,
        3.3333331174e-1,
    )
]
_LOG_Q1, _LOG_Q2 = _F32(-2.12194440e-4), _F32(0.693359375)
_SQRT_HALF = _F32(0.707106781186547524)
_FOUR_OVER_PI = _F32(1.27323954473516)
_MINUS_PI_OVER_4 = [
    _F32(c) for c in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)
]
_SIN_POLY = [_F32(c) for c in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]
_COS_POLY = [_F32(c) for c in (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)]


def _log_ps(x: np.ndarray) -> np.ndarray:
    """avx_mathfun's ``log256_ps`` for normal positive float32 ``x``."""
    bits = x.view(np.int32)
    mantissa = ((bits & 0x007FFFFF) | 0x3F000000).view(np.float32)  # in [0.5, 1)
    small = mantissa < _SQRT_HALF
    e = ((bits >> 23) - 126 - small).astype(np.float32)
    x = np.where(small, 2 * mantissa - 1, mantissa - 1)
    z = x * x
    y = np.full_like(x, _LOG_POLY[0])
    for c in _LOG_POLY[1:]:
        y = _fma32(y, x, c)
    y = _fma32(y * x, z, e * _LOG_Q1)
    y = y - z * _F32(0.5)
    return _fma32(e, _LOG_Q2, x + y)


def _sincos_ps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """avx_mathfun's ``sincos256_ps`` for float32 ``x >= 0``."""
    octant = ((x * _FOUR_OVER_PI).astype(np.int32) + 1) & ~1
    y = octant.astype(np.float32)
    for c in _MINUS_PI_OVER_4:
        x = _fma32(y, c, x)
    z = x * x
    cos_poly = _fma32(_fma32(_COS_POLY[0], z, _COS_POLY[1]), z, _COS_POLY[2])
    cos_poly = _fma32(cos_poly * z, z, -(z * _F32(0.5))) + _F32(1)
    sin_poly = _fma32(_fma32(_SIN_POLY[0], z, _SIN_POLY[1]), z, _SIN_POLY[2])
    sin_poly = _fma32(sin_poly * z, x, x)
    swap = (octant & 2) != 0
    sin = np.where(swap, cos_poly, sin_poly)
    cos = np.where(swap, sin_poly, cos_poly)
    return np.where((octant & 4) != 0, -sin, sin), np.where(((octant - 2) & 4) == 0, -cos, cos)


def _libm(fn: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """Apply a :mod:`math` (C library) function elementwise."""
    return np.fromiter(map(fn, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)


def _box_muller_blocks(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Turn uniforms, a whole number of blocks of 16, into normal samples."""
    u = u.reshape(-1, 16)
    u1, u2 = 1 - u[:, :8], u[:, 8:]
    if u.dtype == np.float32:
        radius = np.sqrt(_F32(-2) * _log_ps(u1))
        sin, cos = _sincos_ps(_F32(2 * math.pi) * u2)
        pair = (
            _fma32(radius * cos, _F32(std), _F32(mean)),
            _fma32(radius * sin, _F32(std), _F32(mean)),
        )
    else:
        radius = np.sqrt(-2 * _libm(math.log, u1))
        theta = 2 * math.pi * u2
        pair = (
            _fma64(radius * _libm(math.cos, theta), std, mean),
            _fma64(radius * _libm(math.sin, theta), std, mean),
        )
    return np.concatenate(pair, axis=1).ravel()


def _float_dtype(dtype: str) -> np.dtype:
    if dtype not in _FLOAT_DTYPES:
        raise ValueError(f"unsupported dtype {dtype!r}: expected one of {_FLOAT_DTYPES}")
    return np.dtype(dtype)


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    dims = tuple(operator.index(d) for d in ((shape,) if np.ndim(shape) == 0 else shape))
    for d in dims:
        if d < 0:
            raise ValueError(f"Trying to create tensor with negative dimension {d}: {list(dims)}")
    return dims


def _init_genrand(seed: int) -> np.ndarray:
    """The mt19937 state that ``init_genrand(seed)`` makes (``seed`` < 2**32)."""
    key = np.empty(_N, np.uint32)
    word = seed
    for i in range(_N):
        key[i] = word
        word = (1812433253 * (word ^ (word >> 30)) + i + 1) & 0xFFFFFFFF
    return key


class Generator:
    """PyTorch's CPU generator: same seeds give the same bits as ``torch``'s functions.

    >>> g = Generator(0)
    >>> g.randn((2, 2))
    array([[ 1.5409961 , -0.2934289 ],
           [-2.1787894 ,  0.56843126]], dtype=float32)
    """

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self._engine = np.random.MT19937(0)
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed like ``torch.manual_seed``; negative seeds wrap to 64 bits. Returns ``self``.

        >>> Generator().manual_seed(-1).initial_seed()
        18446744073709551615
        """
        seed = operator.index(seed)
        if not _INT64_MIN <= seed < _U64:
            raise ValueError(f"seed must be in [-2**63, 2**64), got {seed}")
        self._seed = seed % _U64
        self._set_engine(_init_genrand(self._seed & 0xFFFFFFFF), _N)
        self._fresh = True  # no word drawn since seeding (only visible in get_state)
        self._cached_normal: float | None = None
        return self

    def initial_seed(self) -> int:
        """The seed last given (as an unsigned 64-bit integer).

        >>> Generator(5).initial_seed()
        5
        """
        return self._seed

    def get_state(self) -> np.ndarray:
        """The state as the 5056 bytes of ``torch.get_rng_state()`` (a uint8 array).

        >>> Generator(0).get_state()[:16]
        array([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], dtype=uint8)
        """
        engine = self._engine.state["state"]
        pos = int(engine["pos"])
        state = np.zeros((), _STATE_LAYOUT)
        state["seed"] = self._seed
        state["left"] = _N + 1 - pos
        state["seeded"] = 1
        state["next"] = 0 if self._fresh else pos
        state["key"] = engine["key"]
        if self._cached_normal is not None:
            state["normal_y"] = self._cached_normal
            state["normal_is_valid"] = 1
        return np.frombuffer(state.tobytes(), np.uint8).copy()

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state from :meth:`get_state` or ``torch.get_rng_state().numpy()``.

        >>> g = Generator(3)
        >>> saved = g.get_state()
        >>> first = g.rand(4)
        >>> g.set_state(saved)
        >>> bool((g.rand(4) == first).all())
        True
        """
        raw = np.ascontiguousarray(state, np.uint8).ravel()
        if raw.size != STATE_SIZE:
            raise ValueError(f"expected a generator state of {STATE_SIZE} bytes, got {raw.size}")
        fields = raw.view(_STATE_LAYOUT)[0]
        left = int(fields["left"])
        if not 1 <= left <= _N:
            raise ValueError(f"invalid generator state: 'left' must be in [1, {_N}], got {left}")
        self._seed = int(fields["seed"])
        self._set_engine(fields["key"].astype(np.uint32), _N + 1 - left)
        self._fresh = left == 1 and int(fields["next"]) == 0
        self._cached_normal = float(fields["normal_y"]) if fields["normal_is_valid"] else None

    def rand(self, shape: int | Sequence[int], dtype: str = "float32") -> np.ndarray:
        """Uniform samples in [0, 1), like ``torch.rand``.

        >>> Generator(0).rand(3)
        array([0.4962566 , 0.7682218 , 0.08847743], dtype=float32)
        """
        return self.uniform(shape, 0.0, 1.0, dtype)

    def randn(self, shape: int | Sequence[int], dtype: str = "float32") -> np.ndarray:
        """Standard normal samples, like ``torch.randn``.

        >>> Generator(0).randn(3)
        array([ 1.5409961, -0.2934289, -2.1787894], dtype=float32)
        """
        return self.normal(shape, 0.0, 1.0, dtype)

    def randint(self, low: int, high: int, shape: int | Sequence[int]) -> np.ndarray:
        """Integers in [low, high) as int64, like ``torch.randint``.

        >>> Generator(0).randint(0, 10, 5)
        array([4, 9, 3, 0, 3])
        """
        low, high = operator.index(low), operator.index(high)
        for name, bound in (("low", low), ("high", high)):
            if not _INT64_MIN <= bound <= _INT64_MAX:
                raise ValueError(f"randint expects '{name}' to fit in int64, got {name}={bound}")
        if low >= high:
            raise ValueError(
                f"randint expects 'low' to be less than 'high', but got low={low} >= high={high}"
            )
        dims = _shape(shape)
        n, span = math.prod(dims), high - low
        draws = self._words64(n) if span >= 2**28 else self._words(n)
        return (draws % np.uint64(span) + np.uint64(low % _U64)).view(np.int64).reshape(dims)

    def uniform(
        self,
        shape: int | Sequence[int],
        low: float = 0.0,
        high: float = 1.0,
        dtype: str = "float32",
    ) -> np.ndarray:
        """Uniform samples in [low, high), like ``torch.empty(shape).uniform_(low, high)``.

        >>> Generator(0).uniform(2, -1.0, 1.0, "float64")
        array([0.940106  , 0.41563973])
        """
        dt = _float_dtype(dtype)
        limit = float(np.finfo(dt).max)
        for name, bound in (("low", low), ("high", high)):
            if not -limit <= bound <= limit:
                raise ValueError(f"uniform expects '{name}' to be a finite {dt}, got {bound}")
        if not low <= high:
            raise ValueError(
                f"uniform expects a [low, high) range, but found low={low} > high={high}"
            )
        if high - low > limit:
            raise ValueError(f"uniform expects high - low to fit in {dt}, got {high} - {low}")
        dims = _shape(shape)
        x = self._uniform01(math.prod(dims), dt)
        low, high = dt.type(low), dt.type(high)
        out = _fma32(x, high - low, low) if dt == np.float32 else _fma64(x, high - low, low)
        return np.where(out == high, low, out).reshape(dims)  # rounded up to high: torch gives low

    def normal(
        self,
        shape: int | Sequence[int],
        mean: float = 0.0,
        std: float = 1.0,
        dtype: str = "float32",
        serial: bool = False,
    ) -> np.ndarray:
        """Normal samples, like ``torch.empty(shape).normal_(mean, std)``; ``serial``: one
        Box-Muller pair per element whatever the size, as torch fills a non-contiguous tensor.

        >>> Generator(0).normal(3, 10.0, 0.5, "float64")
        array([10.77049805,  9.85328555,  8.91060531])
        """
        dt = _float_dtype(dtype)
        if not std >= 0:
            raise ValueError(f"normal expects std >= 0.0, but found std {std}")
        dims = _shape(shape)
        with np.errstate(over="ignore"):  # a huge std overflows to inf, silently as in torch
            return self._normal(math.prod(dims), dt, mean, std, serial).reshape(dims)

    def bernoulli_scalar(self, shape: int | Sequence[int], p: float) -> np.ndarray:
        """Booleans, true with probability ``p``, like ``torch.empty(shape).bernoulli_(p)``
        with a float ``p`` (the draws of dropout's mask): each element takes one 64-bit draw,
        a float64 uniform ``u``, and is ``u < p``.

        >>> Generator(0).bernoulli_scalar(6, 0.5)
        array([False, False,  True, False, False, False])
        """
        dims = _shape(shape)
        u = self._uniform01(math.prod(dims), np.dtype(np.float64))
        return (u < p).reshape(dims)

    def random_int64(self) -> int:
        """One draw of ``torch.empty((), dtype=torch.int64).random_()``: a 64-bit draw modulo
        2**63 (how a DataLoader and a RandomSampler draw their seeds).

        >>> Generator(0).random_int64()
        900450186894289455
        """
        return int(self._words64(1)[0] % np.uint64(2**63))

    def randperm(self, n: int) -> np.ndarray:
        """A permutation of ``range(n)`` as ``torch.randperm(n)`` (int64): Fisher-Yates
        swaps of ``i`` with ``i + word % (n - i)``, one 32-bit word each (64-bit draws from
        ``n >= (2**32 - 1) // 20`` on).

        >>> Generator(0).randperm(6)
        array([2, 5, 3, 0, 1, 4])
        """
        n = operator.index(n)
        if n < 0:
            raise RuntimeError(f"randperm is only implemented for n >= 0, got n={n}")
        perm = np.arange(n, dtype=np.int64)
        if n < 2:
            return perm
        draws = self._words(n - 1) if n < (2**32 - 1) // 20 else self._words64(n - 1)
        offsets = (draws % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64).tolist()
        for i, z in enumerate(offsets):
            perm[i], perm[i + z] = perm[i + z], perm[i]
        return perm

    def _normal(self, n: int, dt: np.dtype, mean: float, std: float, serial: bool) -> np.ndarray:
        if n < 16 or serial:
            return _fma64(self._cached_box_muller(n), std, mean).astype(dt)
        out = np.empty(n, dt)
        whole = n - n % 16
        out[:whole] = _box_muller_blocks(self._uniform01(n, dt)[:whole], mean, std)
        if whole < n:
            out[-16:] = _box_muller_blocks(self._uniform01(16, dt), mean, std)
        return out

    def _set_engine(self, key: np.ndarray, pos: int) -> None:
        state = {"key": key, "pos": pos}
        self._engine.state = {"bit_generator": "MT19937", "state": state}

    def _words(self, n: int) -> np.ndarray:
        """``n`` 32-bit engine outputs (as uint64)."""
        if n:
            check_host_draw("a draw from torch's generator (torch.rand, randn, dropout, ...)")
            self._fresh = False
        return self._engine.random_raw(n)

    def _words64(self, n: int) -> np.ndarray:
        """``n`` 64-bit draws, each from two words, the first one high."""
        words = self._words(2 * n)
        return (words[0::2] << np.uint64(32)) | words[1::2]

    def _uniform01(self, n: int, dt: np.dtype) -> np.ndarray:
        if dt == np.float32:
            return (self._words(n) & 0xFFFFFF).astype(np.float32) * _F32(2**-24)
        return (self._words64(n) & np.uint64(2**53 - 1)).astype(np.float64) * 2**-53

    def _cached_box_muller(self, n: int) -> np.ndarray:
        """``n`` float64 samples of the per-element path, using and refilling the cache."""
        samples = []
        if n and self._cached_normal is not None:
            samples.append(self._cached_normal)
            self._cached_normal = None
        pairs = -(-(n - len(samples)) // 2)
        for u1, u2 in self._uniform01(2 * pairs, np.dtype(np.float64)).reshape(pairs, 2).tolist():
            radius = math.sqrt(-2.0 * math.log1p(-u2))
            theta = 2.0 * math.pi * u1
            samples += [radius * math.cos(theta), radius * math.sin(theta)]
        if len(samples) > n:
            self._cached_normal = samples.pop()
        return np.array(samples, np.float64)


# The global generator, the one that ``fdiff.torch.manual_seed`` seeds.
default_generator = Generator()
