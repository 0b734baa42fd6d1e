"""Tests for ``fdiff.functional``: accumulation, backward with a cotangent, retained VJPs,
intermediate gradients (``tap``) and torch ``grad_fn`` names read off the jaxpr.

Expected numbers come from the seed documents (SEED_EXAMPLES.md), analytic derivatives, central
finite differences in float64 NumPy, or real PyTorch (tests marked ``torch``); never from fdiff.
"""

from __future__ import annotations

from collections import Counter

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from support import assert_close, summation_bound

import fdiff.functional as F
from fdiff.functional import (
    accumulate,
    backward,
    grad_fn_names,
    intermediate_grads,
    output_grad_fn,
    retained_vjp,
    tap,
    zeros_like_tree,
)

FLOATS = st.floats(-10.0, 10.0, allow_nan=False, allow_subnormal=False, width=32)


SHAPES = hnp.array_shapes(max_dims=2, max_side=4)


def small_arrays(shape=SHAPES):
    return hnp.arrays(np.float32, shape, elements=FLOATS)


def central_vjp(fn, x: np.ndarray, v: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """v^T J by central differences of a float64 NumPy function."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (np.sum(v * fn(x + step)) - np.sum(v * fn(x - step))) / (2 * h)
    return grad


def test_public_names_exist_and_have_runnable_docstrings():
    for name in F.__all__:
        doc = getattr(F, name).__doc__
        assert doc and ">>>" in doc and doc.strip().splitlines()[0].endswith("."), name


# --- accumulate / zeros_like_tree -------------------------------------------------------------


def test_accumulate_from_none_returns_the_gradients():
    grads = {"w": jnp.array([1.0, 2.0]), "b": jnp.array(3.0)}
    assert accumulate(None, grads) is grads


def test_accumulate_adds_leafwise():
    acc = {"w": jnp.array([1.0, 2.0]), "b": (jnp.array(3.0), None)}
    new = {"w": jnp.array([0.5, -1.0]), "b": (jnp.array(0.25), None)}
    total = accumulate(acc, new)
    assert_close(total["w"], [1.5, 1.0])
    assert_close(total["b"][0], 3.25)
    assert total["b"][1] is None


def test_accumulate_is_jittable_state_in_state_out():
    step = jax.jit(accumulate)
    acc = jnp.zeros(3)
    for _ in range(4):
        acc = step(acc, jnp.array([1.0, 2.0, 3.0]))
    assert_close(acc, [4.0, 8.0, 12.0])


def test_accumulate_structure_mismatch_names_both_structures():
    with pytest.raises(ValueError, match=r"structure .*'w'.* accumulator has structure .*'v'"):
        accumulate({"v": jnp.ones(2)}, {"w": jnp.ones(2)})


def test_accumulate_shape_and_dtype_mismatch():
    with pytest.raises(ValueError, match=r"`\['w'\]` has shape \(3,\) .* shape \(2,\)"):
        accumulate({"w": jnp.ones(2)}, {"w": jnp.ones(3)})
    with pytest.raises(TypeError, match=r"dtype float16 .* dtype float32"):
        accumulate(jnp.ones(2), jnp.ones(2, jnp.float16))


def test_zeros_like_tree_keeps_structure_shapes_dtypes():
    tree = {"a": jnp.ones((2, 3)), "b": (jnp.ones(1, jnp.float16), None)}
    zeros = zeros_like_tree(tree)
    assert jax.tree.structure(zeros) == jax.tree.structure(tree)
    assert_close(zeros["a"], np.zeros((2, 3)))
    assert zeros["b"][0].dtype == jnp.float16
    assert zeros["b"][1] is None


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_accumulate_matches_float64_sum_in_any_grouping(data):
    shape = data.draw(SHAPES)
    a, b, c = (data.draw(small_arrays(shape)) for _ in range(3))
    expected = a.astype(np.float64) + b + c
    left = accumulate(accumulate(accumulate(None, a), b), c)
    right = accumulate(a, accumulate(b, c))
    bound = summation_bound(np.abs(a) + np.abs(b) + np.abs(c), terms=2, engines=1)
    assert_close(left, expected, bound=bound)
    assert_close(right, expected, bound=bound)


# --- backward -----------------------------------------------------------------------------------


def test_seed_000_1_one_element_loss_keeps_torch_shapes():
    x, y = jnp.array([2.0]), jnp.array([3.0])

    def loss(params):
        return (x * params[0] + params[1] - y) ** 2

    out, (grad,) = backward(loss, jnp.array([1.0, 3.0]))
    assert out.shape == (1,) and grad.shape == (2,)
    assert_close(out, [4.0])
    assert_close(grad, [8.0, 4.0])


@pytest.mark.parametrize(("detach", "expected"), [(False, 36.0), (True, 18.0)])
def test_seed_000_2_stop_gradient_is_detach(detach, expected):
    x, y = jnp.array([2.0]), jnp.array([3.0])

    def loss(params):
        b = y * (jax.lax.stop_gradient(params) if detach else params)
        return (x * params) * b

    out, (grad,) = backward(loss, jnp.array([3.0]))
    assert_close(out, [54.0])
    assert_close(grad, [expected])


def test_seed_000_3_and_004_1_and_002_1():
    def t(p):
        b = jnp.array([7.0]) * p[0] * p[1]
        return b * p[2] + b * p[3]

    assert_close(backward(t, jnp.array([2.0, 3.0, 5.0, 4.0]))[1][0], [189.0, 126.0, 42.0, 42.0])
    assert_close(backward(lambda w: (w * 3.0 - 6.0) ** 2, jnp.array(1.0))[1][0], -18.0)
    out, (ga, gb) = backward(lambda a, b: 3 * a**3 + 2 * b**4, jnp.array([3.0]), jnp.array([2.0]))
    assert_close(out, [113.0])
    assert_close(ga, [81.0])
    assert_close(gb, [64.0])


def test_seed_000_4_convolution():
    image = jnp.array([[2, 2, 1, 3], [4, 3, 1, 2], [1, 2, 2, 2], [1, 1, 2, 4]], jnp.float32)

    def loss(weight, bias):
        conv = jax.lax.conv_general_dilated(image[None, None], weight, (1, 1), "VALID")
        return (conv + bias[None, :, None, None]).sum()

    weight = jnp.array([[3, 4, 5], [1, 2, 5], [1, 4, 5]], jnp.float32)[None, None]
    out, (w_grad, b_grad) = backward(loss, weight, jnp.zeros(1))
    assert_close(out, 240.0)
    assert_close(w_grad[0, 0], [[11, 7, 7], [10, 8, 7], [5, 7, 10]])
    assert_close(b_grad, [4.0])


def test_seed_001_4_cotangent_and_001_3_integer_cotangent():
    x = jnp.array([1.5410, -0.2934, -2.1788])
    out, (grad,) = backward(lambda x: x * 2.0**9, x, cotangent=jnp.array([0.1, 1.0, 0.0001]))
    assert_close(out, np.float32(512) * np.asarray(x))
    assert_close(grad, [51.2, 512.0, 0.0512])
    _, (grad,) = backward(lambda x: x * 2.0**9, x, cotangent=jnp.array([1, 1, 1], jnp.int32))
    assert grad.dtype == jnp.float32
    assert_close(grad, [512.0, 512.0, 512.0])


def test_seed_002_3_mean_squared_error():
    out, (gy, gp) = backward(
        lambda y, p: jnp.mean((y - p) ** 2), jnp.array([1.0, 2.0, 3.0]), jnp.array([2.0, 2, 3])
    )
    assert_close(out, 1 / 3)
    assert_close(gy, [-2 / 3, 0.0, 0.0])
    assert_close(gp, [2 / 3, 0.0, 0.0])


def test_backward_matches_central_differences_in_float64():
    with jax.enable_x64(True):
        x = np.array([0.3, -1.2, 2.0, 0.7])
        v = np.array([1.0, -0.5, 2.0, 0.25])
        f = lambda x: jnp.sin(x) * jnp.roll(x, 1) ** 2  # noqa: E731
        out, (grad,) = backward(f, jnp.asarray(x), cotangent=v)
        assert out.dtype == jnp.float64
        assert_close(grad, central_vjp(lambda x: np.sin(x) * np.roll(x, 1) ** 2, x, v))


def test_backward_pytree_output_and_inputs():
    def f(p):
        return {"sum": p["a"].sum() * p["b"], "prod": p["a"] * p["b"]}

    params = {"a": jnp.array([1.0, 2.0]), "b": jnp.array(3.0)}
    ct = {"sum": 1.0, "prod": [1.0, 10.0]}
    _, (grad,) = backward(f, params, cotangent=ct)
    # d/da: b * 1 + b * [1, 10]; d/db: sum(a) + a . [1, 10]
    assert_close(grad["a"], [6.0, 33.0])
    assert_close(grad["b"], 3.0 + 21.0)


def test_backward_under_jit():
    step = jax.jit(lambda x, v: backward(lambda x: x**3, x, cotangent=v)[1][0])
    assert_close(step(jnp.array([1.0, 2.0]), jnp.array([1.0, 0.5])), [3.0, 6.0])


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(small_arrays())
def test_backward_equals_jax_grad_for_scalar_functions(x):
    def f(x):
        return jnp.sum(jnp.tanh(x) * x)

    out, (grad,) = backward(f, jnp.asarray(x))
    assert_close(out, f(x))
    assert_close(grad, jax.grad(f)(x))


def test_backward_non_scalar_without_cotangent_uses_torch_wording():
    message = r"grad can be implicitly created only for scalar outputs.*shape \(3,\).*cotangent="
    with pytest.raises(ValueError, match=message):
        backward(lambda x: x * 2, jnp.ones(3))
    with pytest.raises(ValueError, match=r"only for scalar outputs.*2 arrays"):
        backward(lambda x: (x.sum(), x.sum()), jnp.ones(3))


def test_backward_cotangent_errors_name_shapes_dtypes_structures():
    with pytest.raises(ValueError, match=r"shape \(2,\) but the output has shape \(3,\)"):
        backward(lambda x: x * 2, jnp.ones(3), cotangent=jnp.ones(2))
    with pytest.raises(TypeError, match=r"dtype float16 but the output has dtype float32"):
        backward(lambda x: x * 2, jnp.ones(3), cotangent=jnp.ones(3, jnp.float16))
    with pytest.raises(ValueError, match=r"structure .* but the output has structure"):
        backward(lambda x: (x, x), jnp.ones(3), cotangent=jnp.ones(3))
    with pytest.raises(TypeError, match=r"Argument 0 has dtype int32"):
        backward(lambda x: x * 2, jnp.array([1, 2]), cotangent=jnp.ones(2))
    with pytest.raises(TypeError, match=r"output has dtype int32"):
        backward(lambda x: jnp.round(x).astype(jnp.int32), jnp.ones(()))


def test_backward_argnums_and_has_aux_follow_jax_value_and_grad():
    def loss(w, x, labels):
        error = w * x - labels
        return (error**2).sum(), error

    w, x, labels = jnp.array(2.0), jnp.array([1.0, 3.0]), jnp.array([1, 3])
    (value, error), w_grad = backward(loss, w, x, labels, argnums=0, has_aux=True)
    # analytic: error = [1, 3], value = 10, d/dw = sum(2 * error * x) = 2 + 18
    assert_close(value, 10.0)
    assert_close(error, [1.0, 3.0])
    assert_close(w_grad, 20.0)
    (_, _), (g_w, g_x) = backward(loss, w, x, labels, argnums=(0, 1), has_aux=True)
    want = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(w, x, labels)[1]
    assert_close(g_w, want[0])
    assert_close(g_x, want[1])  # 2 * error * w = [4, 12]
    assert_close(g_x, [4.0, 12.0])
    value, g_x = backward(lambda w, x: (w * x).sum(), w, x, argnums=-1)
    assert_close(g_x, [2.0, 2.0])


def test_backward_argnums_and_has_aux_errors():
    f = lambda w, n: w * n  # noqa: E731
    with pytest.raises(TypeError, match=r"Argument 1 has dtype int32"):
        backward(f, jnp.array(1.0), jnp.array(2), argnums=1)
    with pytest.raises(ValueError, match=r"`argnums` has 2, but `f` was given 2"):
        backward(f, jnp.array(1.0), jnp.array(2), argnums=2)
    with pytest.raises(TypeError, match=r"`argnums` must be an int"):
        backward(f, jnp.array(1.0), jnp.array(2), argnums=())
    with pytest.raises(TypeError, match=r"must return a pair \(output, aux\)"):
        backward(f, jnp.array(1.0), jnp.array(2), argnums=0, has_aux=True)


# --- retained_vjp -------------------------------------------------------------------------------


def test_seed_003_3_repeated_backward_accumulates_and_zeroes():
    inp = jnp.eye(5)
    ones = jnp.ones_like(inp)
    out, vjp_fn = retained_vjp(lambda x: (x + 1) ** 2, inp)
    assert_close(out, (np.eye(5) + 1) ** 2)
    first = np.where(np.eye(5) == 1, 4.0, 2.0)  # 2 * (inp + 1)

    acc = accumulate(None, vjp_fn(ones))
    assert_close(acc[0], first)
    acc = accumulate(acc, vjp_fn(ones))
    assert_close(acc[0], 2 * first)
    acc = accumulate(zeros_like_tree(acc), vjp_fn(ones))
    assert_close(acc[0], first)


def test_retained_vjp_scalar_default_cotangent_and_jit():
    out, vjp_fn = retained_vjp(lambda x, y: (x * y).sum(), jnp.array([1.0, 2.0]), jnp.array(3.0))
    gx, gy = vjp_fn()
    assert_close(out, 9.0)
    assert_close(gx, [3.0, 3.0])
    assert_close(gy, 3.0)
    twice = jax.jit(lambda fn: accumulate(fn(), fn()))(vjp_fn)
    assert_close(twice[0], [6.0, 6.0])


def test_retained_vjp_checks_cotangent():
    _, vjp_fn = retained_vjp(lambda x: x * 2, jnp.ones(3))
    with pytest.raises(ValueError, match=r"only for scalar outputs"):
        vjp_fn()
    with pytest.raises(ValueError, match=r"\(4,\) but the output has shape \(3,\)"):
        vjp_fn(jnp.ones(4))


# --- tap / intermediate_grads -------------------------------------------------------------------


def seed_004_2(a):
    b = tap("b", a + 2)
    c = tap("c", b**2)
    return c.sum()


def test_seed_004_2_retain_grad():
    out, (a_grad,), inter = intermediate_grads(seed_004_2, jnp.ones((2, 2)))
    assert_close(out, 36.0)
    assert_close(a_grad, np.full((2, 2), 6.0))  # 2 * (a + 2)
    assert list(inter) == ["b", "c"]
    assert_close(inter["b"], np.full((2, 2), 6.0))
    assert_close(inter["c"], np.ones((2, 2)))


def test_seed_001_1_mean_intermediates():
    def f(x):
        y = tap("y", x + 2)
        z = tap("z", y * y * 3)
        return z.mean()

    out, (x_grad,), inter = intermediate_grads(f, jnp.ones((2, 2)))
    assert_close(out, 27.0)
    assert_close(x_grad, np.full((2, 2), 4.5))  # 6 y / 4 at y = 3
    assert_close(inter["y"], np.full((2, 2), 4.5))
    assert_close(inter["z"], np.full((2, 2), 0.25))


def test_tap_is_identity_outside_and_transparent_to_jax_grad():
    x = jnp.array([1.0, -2.0])
    assert tap("x", x) is x
    assert_close(jax.grad(seed_004_2)(x), 2 * (np.asarray(x) + 2))
    assert_close(jax.jit(seed_004_2)(x), np.sum((np.asarray(x) + 2) ** 2))


def test_intermediate_grads_with_cotangent_and_names_match_finite_differences():
    def f(x):
        u = tap("u", x * x)
        return jnp.sin(u) * tap("unused_name", x)

    with jax.enable_x64(True):
        x = np.array([0.5, -1.5, 2.0])
        v = np.array([1.0, 2.0, -0.5])
        out, (x_grad,), inter = intermediate_grads(f, jnp.asarray(x), cotangent=v, names="u")
        assert list(inter) == ["u"]
        assert_close(out, np.sin(x * x) * x)
        assert_close(x_grad, central_vjp(lambda x: np.sin(x * x) * x, x, v))
        # d out/d u at fixed x: cos(u) * x, times v.
        assert_close(inter["u"], central_vjp(lambda u: np.sin(u) * x, x * x, v))


def test_intermediate_grads_pytree_tap():
    def f(a):
        pair = tap("pair", {"s": a * 2, "t": a + 1})
        return (pair["s"] * pair["t"]).sum()

    _, _, inter = intermediate_grads(f, jnp.array([1.0, 2.0]))
    assert_close(inter["pair"]["s"], [2.0, 3.0])  # t = a + 1
    assert_close(inter["pair"]["t"], [2.0, 4.0])  # s = 2 a


def test_intermediate_grads_under_jit_and_vmap():
    a = jnp.arange(6.0).reshape(3, 2)
    _, _, inter = jax.jit(lambda a: intermediate_grads(seed_004_2, a))(a)
    assert_close(inter["b"], 2 * (np.asarray(a) + 2))
    _, (a_grad,), inter = jax.vmap(lambda row: intermediate_grads(seed_004_2, row))(a)
    assert_close(a_grad, 2 * (np.asarray(a) + 2))
    assert_close(inter["c"], np.ones((3, 2)))


def test_intermediate_grads_keeps_negative_zero():
    def f(x):
        return 1.0 / tap("z", x * -0.0)

    out, _, _ = intermediate_grads(f, jnp.array(1.0))
    assert out == -np.inf


def test_intermediate_grads_errors():
    with pytest.raises(ValueError, match=r"`names` has \['d'\].*it taps \['b', 'c'\]"):
        intermediate_grads(seed_004_2, jnp.ones(2), names=["b", "d"])
    with pytest.raises(ValueError, match=r"twice with the name `'b'`"):
        intermediate_grads(lambda a: tap("b", a) * tap("b", a * 2), jnp.ones(()))
    with pytest.raises(ValueError, match=r"calls `fdiff.tap` nowhere"):
        intermediate_grads(lambda a: a * 2, jnp.ones(()))
    with pytest.raises(TypeError, match=r"dtype int32; only floating-point"):
        intermediate_grads(lambda a: tap("n", jnp.int32(3)) * a, jnp.ones(()))
    with pytest.raises(TypeError, match=r"name first, as a string"):
        tap(jnp.ones(2), "b")
    with pytest.raises(ValueError, match=r"only for scalar outputs"):
        intermediate_grads(lambda a: tap("b", a * 2), jnp.ones(2))


def test_tap_inside_separately_jitted_function_is_reported():
    inner = jax.jit(lambda a: tap("b", a * 2))
    with pytest.raises(RuntimeError, match=r"not reached for \['b'\].*jit"):
        intermediate_grads(lambda a: inner(a).sum(), jnp.ones(2))


@pytest.mark.parametrize(
    "loop",
    [
        lambda body, x: jax.lax.scan(lambda c, _: (body(c), None), x, None, length=3)[0],
        lambda body, x: jax.lax.fori_loop(0, 3, lambda i, c: body(c), x),
        lambda body, x: jax.vmap(body)(x),
    ],
    ids=["scan", "fori_loop", "vmap"],
)
def test_tap_inside_a_loop_raises_instead_of_summing(loop):
    body = lambda c: tap("h", c * 2.0)  # noqa: E731
    with pytest.raises(ValueError, match=r"inside `jax\.(lax\.scan|lax\.fori_loop|vmap)`.*sum"):
        intermediate_grads(lambda x: loop(body, x).sum(), jnp.ones((2, 2)))


def test_tap_of_stacked_zeros_gives_per_iteration_gradients():
    def f(x):
        ps = tap("h", jnp.zeros((3, 2)))
        last, _ = jax.lax.scan(lambda c, p: (c * 2.0 + p, None), x, ps)
        return last.sum()

    # h_i = 2 h_{i-1}: d(sum h_2)/dh_i = 2**(2 - i)
    _, (x_grad,), inter = intermediate_grads(f, jnp.ones(2))
    assert_close(inter["h"], [[4.0, 4.0], [2.0, 2.0], [1.0, 1.0]])
    assert_close(x_grad, [8.0, 8.0])


def test_intermediate_grads_inside_a_user_scan_is_allowed():
    def step(carry, x):
        _, _, inter = intermediate_grads(lambda a: (tap("b", a * 3.0) ** 2).sum(), x)
        return carry, inter["b"]

    _, stacked = jax.lax.scan(step, 0.0, jnp.array([[1.0], [2.0]]))
    assert_close(stacked, [[6.0], [12.0]])  # d(b^2)/db = 2b = 6a


# --- grad_fn_names / output_grad_fn -------------------------------------------------------------


def test_seed_grad_fn_names():
    x, y = jnp.array([2.0]), jnp.array([3.0])
    loss_000_1 = lambda p: (x * p[0] + p[1] - y) ** 2  # noqa: E731
    assert output_grad_fn(loss_000_1, jnp.array([1.0, 3.0])) == "PowBackward0"
    z_001_1 = lambda x: ((x + 2) * (x + 2) * 3).mean()  # noqa: E731
    assert output_grad_fn(z_001_1, jnp.ones((2, 2))) == "MeanBackward0"
    y_002_1 = lambda a, b: 3 * a**3 + 2 * b**4  # noqa: E731
    assert output_grad_fn(y_002_1, jnp.array([3.0]), jnp.array([2.0])) == "AddBackward0"
    assert output_grad_fn(y_002_1, jnp.array([3.0]), jnp.array([2.0]), argnums=()) is None
    assert output_grad_fn(lambda a: (a + 2) ** 0.5, jnp.ones(5)) == "PowBackward0"  # 001.6
    error_002_3 = lambda y, p: jnp.mean((y - p) ** 2)  # noqa: E731
    assert output_grad_fn(error_002_3, jnp.ones(3), jnp.ones(3)) == "MeanBackward0"


def test_seed_000_4_conv_names():
    image = jnp.ones((1, 1, 4, 4))

    def loss(weight, bias, keep_conv=False):
        conv = jax.lax.conv_general_dilated(image, weight, (1, 1), "VALID")
        result = conv + bias.reshape(1, -1, 1, 1)
        return result if keep_conv else result.sum()

    args = (jnp.ones((1, 1, 3, 3)), jnp.zeros(1))
    assert output_grad_fn(loss, *args) == "SumBackward0"
    # The bias is a separate view + add here; torch folds it into ConvolutionBackward0.
    names = grad_fn_names(loss, *args)
    assert names == ["ConvolutionBackward0", "ViewBackward0", "AddBackward0", "SumBackward0"]
    assert output_grad_fn(lambda w: loss(w, args[1], True), args[0]) == "AddBackward0"


def test_seed_003_1_named_jit_loss():
    @jax.jit
    def binary_cross_entropy_with_logits(z, y):
        return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))

    def z_of(x, w, b):
        return x @ w + b

    args = (jnp.ones(5), jnp.zeros(3), jnp.ones((5, 3)), jnp.ones(3))
    assert output_grad_fn(z_of, args[0], args[2], args[3], argnums=(1, 2)) == "AddBackward0"
    loss = lambda x, y, w, b: binary_cross_entropy_with_logits(z_of(x, w, b), y)  # noqa: E731
    assert output_grad_fn(loss, *args, argnums=(2, 3)) == "BinaryCrossEntropyWithLogitsBackward0"
    assert grad_fn_names(loss, *args, argnums=(2, 3)) == [
        "MmBackward0",
        "AddBackward0",
        "BinaryCrossEntropyWithLogitsBackward0",
    ]


def test_dependency_pass_drops_constants_detached_and_dead_ops():
    c = jnp.array([1.0, 2.0])

    def f(x):
        _ = jnp.exp(x)  # dead: not on the way to the output
        scale = (c * 2.0).sum()  # constants only: no grad_fn
        return x * scale * jax.lax.stop_gradient(jnp.log(x))

    assert grad_fn_names(f, jnp.ones(2)) == ["MulBackward0", "MulBackward0"]
    assert output_grad_fn(lambda x: jax.lax.stop_gradient(x * 2), jnp.ones(2)) is None
    assert output_grad_fn(lambda x: x, jnp.ones(2)) is None  # a leaf has no grad_fn
    assert grad_fn_names(lambda x, n: x * n, jnp.ones(2), jnp.int32(3)) == ["MulBackward0"]


def test_nested_calls_are_inlined_or_named():
    x = jnp.ones((2, 2))
    assert grad_fn_names(jax.jit(lambda x: x * 2), x) == ["MulBackward0"]
    assert grad_fn_names(jax.checkpoint(lambda x: jnp.sin(x)), x) == ["SinBackward0"]
    assert grad_fn_names(lambda x: jax.nn.relu(x).sum(), x) == ["ReluBackward0", "SumBackward0"]
    assert output_grad_fn(lambda x: jax.nn.log_softmax(x), x) == "LogSoftmaxBackward0"
    assert output_grad_fn(lambda x: jnp.linalg.norm(x), x) == "LinalgVectorNormBackward0"
    assert output_grad_fn(lambda x: jnp.broadcast_to(x.sum(), (3,)), x) == "SumBackward0"
    scan = lambda x: jax.lax.scan(lambda c, a: (c * a, c), x, jnp.ones(3))[0]  # noqa: E731
    assert grad_fn_names(scan, jnp.ones(())) == ["jax:scan"]


def test_mean_is_fused_only_for_sum_divided_by_its_count():
    x = jnp.ones((2, 3))
    assert grad_fn_names(lambda x: x.sum() / 6.0, x) == ["MeanBackward0"]
    assert grad_fn_names(lambda x: x.mean(axis=0), x) == ["MeanBackward1"]
    assert grad_fn_names(lambda x: x.sum() / 5.0, x) == ["SumBackward0", "DivBackward0"]
    shared = lambda x: (lambda s: s / 6.0 + s)(x.sum())  # noqa: E731
    assert grad_fn_names(shared, x) == ["SumBackward0", "DivBackward0", "AddBackward0"]


def test_grad_fn_errors():
    with pytest.raises(TypeError, match=r"return one array.*2 arrays"):
        output_grad_fn(lambda x: (x, x * 2), jnp.ones(2))
    with pytest.raises(ValueError, match=r"`argnums=3`.*range\(1\)"):
        grad_fn_names(lambda x: x * 2, jnp.ones(2), argnums=3)


# Each pair: a torch program and the same program in jnp (x: 2x2, v: length 2, both "rg").
TORCH_PAIRS = [
    ("x * 2", lambda t, x, v: x * 2, lambda x, v: x * 2),
    ("x + v", lambda t, x, v: x + v, lambda x, v: x + v),
    ("x - 1", lambda t, x, v: x - 1, lambda x, v: x - 1),
    ("1 - x", lambda t, x, v: 1 - x, lambda x, v: 1 - x),
    ("x / 2", lambda t, x, v: x / 2, lambda x, v: x / 2),
    ("-x", lambda t, x, v: -x, lambda x, v: -x),
    ("x ** 2", lambda t, x, v: x**2, lambda x, v: x**2),
    ("x ** 0.5", lambda t, x, v: x**0.5, lambda x, v: x**0.5),
    ("2 ** x", lambda t, x, v: 2**x, lambda x, v: 2.0**x),
    ("x ** x", lambda t, x, v: x**x, lambda x, v: x**x),
    ("exp", lambda t, x, v: x.exp(), lambda x, v: jnp.exp(x)),
    ("log", lambda t, x, v: x.log(), lambda x, v: jnp.log(x)),
    ("log1p", lambda t, x, v: x.log1p(), lambda x, v: jnp.log1p(x)),
    ("sqrt", lambda t, x, v: x.sqrt(), lambda x, v: jnp.sqrt(x)),
    ("sigmoid", lambda t, x, v: x.sigmoid(), lambda x, v: jax.nn.sigmoid(x)),
    ("tanh", lambda t, x, v: x.tanh(), lambda x, v: jnp.tanh(x)),
    ("abs", lambda t, x, v: x.abs(), lambda x, v: jnp.abs(x)),
    ("sin", lambda t, x, v: x.sin(), lambda x, v: jnp.sin(x)),
    ("sum", lambda t, x, v: x.sum(), lambda x, v: x.sum()),
    ("sum(0)", lambda t, x, v: x.sum(0), lambda x, v: x.sum(0)),
    ("mean", lambda t, x, v: x.mean(), lambda x, v: x.mean()),
    ("mean(1)", lambda t, x, v: x.mean(1), lambda x, v: x.mean(1)),
    ("max", lambda t, x, v: x.max(), lambda x, v: x.max()),
    ("x @ x", lambda t, x, v: x @ x, lambda x, v: x @ x),
    ("x @ v", lambda t, x, v: x @ v, lambda x, v: x @ v),
    ("v @ v", lambda t, x, v: v @ v, lambda x, v: v @ v),
    ("x[0]", lambda t, x, v: x[0], lambda x, v: x[0]),
    ("x[0:1]", lambda t, x, v: x[0:1], lambda x, v: x[0:1]),
    ("reshape", lambda t, x, v: x.reshape(-1), lambda x, v: x.reshape(-1)),
    ("x.T", lambda t, x, v: x.T, lambda x, v: x.T),
    ("clamp", lambda t, x, v: t.clamp(x, 0, 1), lambda x, v: jnp.clip(x, 0, 1)),
    ("clamp min", lambda t, x, v: t.clamp(x, min=0.5), lambda x, v: jnp.maximum(x, 0.5)),
    ("maximum", lambda t, x, v: t.maximum(x, v), lambda x, v: jnp.maximum(x, v)),
    ("relu", lambda t, x, v: t.relu(x), lambda x, v: jax.nn.relu(x)),
    (
        "softplus",
        lambda t, x, v: t.nn.functional.softplus(x),
        lambda x, v: jax.nn.softplus(x),
    ),
    ("log_softmax", lambda t, x, v: t.log_softmax(x, 1), lambda x, v: jax.nn.log_softmax(x)),
    ("norm", lambda t, x, v: x.norm(), lambda x, v: jnp.linalg.norm(x)),
    ("cat", lambda t, x, v: t.cat([x, x]), lambda x, v: jnp.concatenate([x, x])),
    ("double", lambda t, x, v: x.double(), lambda x, v: x.astype(jnp.float16)),
]

TORCH_IDS = [pair[0] for pair in TORCH_PAIRS]


@pytest.mark.parametrize(("label", "torch_fn", "jax_fn"), TORCH_PAIRS, ids=TORCH_IDS)
def test_output_grad_fn_matches_real_torch(real_torch, label, torch_fn, jax_fn):
    data = np.array([[0.5, 1.5], [2.0, 0.25]], np.float32)
    x = real_torch.tensor(data, requires_grad=True)
    v = real_torch.tensor(data[0], requires_grad=True)
    expected = torch_fn(real_torch, x, v).grad_fn.name()
    assert output_grad_fn(jax_fn, jnp.asarray(data), jnp.asarray(data[0])) == expected


def torch_graph_names(output) -> Counter:
    """Every grad_fn name in a real torch graph (AccumulateGrad leaves excluded)."""
    seen, stack, names = set(), [output.grad_fn], Counter()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.name() != "torch::autograd::AccumulateGrad":
            names[node.name()] += 1
        stack.extend(next_node for next_node, _ in node.next_functions)
    return names


def test_grad_fn_names_match_real_torch_graphs(real_torch):
    t = real_torch
    x = t.ones(2, 2, requires_grad=True)
    assert torch_graph_names(((x + 2) * (x + 2) * 3).mean()) == Counter(
        grad_fn_names(lambda x: ((x + 2) * (x + 2) * 3).mean(), jnp.ones((2, 2)))
    )
    params = t.tensor([1.0, 3.0], requires_grad=True)
    loss = (t.tensor([2.0]) * params[0] + params[1] - t.tensor([3.0])) ** 2
    jax_loss = lambda p: (jnp.array([2.0]) * p[0] + p[1] - jnp.array([3.0])) ** 2  # noqa: E731
    assert torch_graph_names(loss) == Counter(grad_fn_names(jax_loss, jnp.array([1.0, 3.0])))
    p = t.tensor([3.0], requires_grad=True)
    detached = (t.tensor([2.0]) * p) * (t.tensor([3.0]) * p.detach())
    jax_detached = lambda p: (2.0 * p) * (3.0 * jax.lax.stop_gradient(p))  # noqa: E731
    assert torch_graph_names(detached) == Counter(grad_fn_names(jax_detached, jnp.array([3.0])))
