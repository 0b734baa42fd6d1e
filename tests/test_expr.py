"""fdiff.fields.expr: the whitelist parser; expected numbers from NumPy, derivatives by hand."""

import builtins
import re
from math import cos, e, exp, log, pi, sin, sqrt, tanh

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import assert_close, summation_bound

from fdiff.fields.expr import ARITY, FUNCTIONS, MAX_LENGTH, ExpressionError, parse_expression

A, B = 0.7, -1.3
R = sqrt(A + B**2)
S = 1 / (1 + exp(-A * B))  # sigmoid(a*b)

# text, f(A, B), df/da, df/db: the derivatives worked out by hand
ANALYTIC = [
    ("3*a**3 + 2*b**4", 3 * A**3 + 2 * B**4, 9 * A**2, 8 * B**3),
    ("-a**2 + a*b - b/2", -(A**2) + A * B - B / 2, -2 * A + B, A - 0.5),
    ("(a - 1)**2 * (b + 2)", (A - 1) ** 2 * (B + 2), 2 * (A - 1) * (B + 2), (A - 1) ** 2),
    ("sin(a) * cos(b)", sin(A) * cos(B), cos(A) * cos(B), -sin(A) * sin(B)),
    ("exp(a*b)", exp(A * B), B * exp(A * B), A * exp(A * B)),
    ("log(a) + sqrt(a + b**2)", log(A) + R, 1 / A + 0.5 / R, B / R),
    ("tanh(a) - abs(b)", tanh(A) - abs(B), 1 - tanh(A) ** 2, 1.0),
    ("a**-2 + b**4 / 4", A**-2 + B**4 / 4, -2 * A**-3, B**3),
    ("pi*a + e*b", pi * A + e * B, pi, e),
    ("+a - -b", A + B, 1.0, 1.0),
    ("maximum(a, b) + minimum(a, b)**2", A + B**2, 1.0, 2 * B),  # a > b
    ("relu(a) + 3*relu(b)", A, 1.0, 0.0),
    ("sigmoid(a*b)", S, B * S * (1 - S), A * S * (1 - S)),
    ("where(a > b, a**2, b**3)", A**2, 2 * A, 0.0),
    ("where(a <= b, a, -b*a)", -B * A, -B, -A),
    ("where(a*b != 0, abs(b), 0)", -B, 0.0, -1.0),
]


@pytest.mark.parametrize(("text", "value", "grad_a", "grad_b"), ANALYTIC)
def test_values_and_gradients_match_analytic(text, value, grad_a, grad_b):
    f = parse_expression(text)
    assert_close(f(A, B), value)
    assert_close(jax.grad(f, argnums=(0, 1))(A, B), (grad_a, grad_b))


def test_integer_powers_stay_exact_for_negative_bases():
    f = parse_expression("a**3 + b**-2")
    assert_close(f(-2.0, -0.5), -8.0 + 4.0)
    assert_close(jax.grad(f, argnums=(0, 1))(-2.0, -0.5), (12.0, 16.0))  # 3a^2, -2b^-3


@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - set(ARITY) - {"relu", "sigmoid"}))
def test_every_function_matches_numpy(name):
    f = parse_expression(f"{name}(a) + 0*b")
    x = 0.4
    assert_close(f(x, 0.0), getattr(np, name)(x))


def test_custom_variables_and_call_order():
    f = parse_expression("p0 - 2*p1", variables=("p0", "p1"))
    assert_close(f(5.0, 1.0), 3.0)
    assert f.variables == ("p0", "p1")
    assert f.title == "f(p0, p1) = p0 - 2 * p1"


def test_equal_texts_are_equal_expressions_so_jit_caches_them():
    assert parse_expression("a*b") == parse_expression("a*b")
    assert hash(parse_expression("a*b")) == hash(parse_expression("a*b"))
    assert parse_expression("a*b") != parse_expression("a*b", ("b", "a"))


def test_works_under_jit_and_vmap():
    f = jax.jit(jax.vmap(jax.grad(parse_expression("a**2 * b"), argnums=(0, 1))))
    a, b = np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)
    assert_close(f(a, b), (2 * a * b, a**2))


@given(
    st.lists(st.integers(-9, 9), min_size=3, max_size=3),
    st.floats(-2, 2, width=32),
    st.floats(-2, 2, width=32),
)
@settings(max_examples=30, deadline=None)
def test_random_polynomials_match_hand_derivatives(coefficients, a, b):
    c1, c2, c3 = coefficients
    f = parse_expression(f"{c1}*a**2 + {c2}*a*b + {c3}*b**3")
    grad = jax.grad(f, argnums=(0, 1))(a, b)
    # each partial derivative sums a few float32 products of these terms (1: a floor for
    # subnormal a, b, whose rounding is not relative)
    magnitude = 1 + abs(2 * c1 * a) + abs(c2) * (abs(a) + abs(b)) + abs(3 * c3) * b * b
    bound = summation_bound(magnitude, terms=8, engines=1)
    assert_close(grad[0], 2 * c1 * a + c2 * b, bound=bound)
    assert_close(grad[1], c2 * a + 3 * c3 * b**2, bound=bound)


REJECTED = [
    ("a**", "expression 'a**' is incomplete at column 4"),
    ("a +", "is incomplete at column 4"),
    ("(a + b", "incomplete at column 7: the parenthesis at column 1 is never closed"),
    ("a + * b", "unexpected '*' at column 5"),
    ("a b", "unexpected 'b' at column 3"),
    ("a)", "unexpected ')' at column 2"),
    ("a;b", "unexpected ';' at column 2"),
    ("a.real", "attribute access '.real' at column 2"),
    ("a.__class__.__bases__", "attribute access '.__bases__' at column 12"),
    ("x + 1", "unknown name 'x' at column 1"),
    ("sin + a", "unknown name 'sin' at column 1 (call it with parentheses)"),
    ("__import__('os').system('ls')", "at column 1"),
    ("foo(a)", "unknown function 'foo' at column 1"),
    ("sin(a, b)", "calls 'sin' with 2 arguments at column 1"),
    ("1 + exp(x=a)", "calls 'exp' with 1 arguments at column 5"),
    ("lambda: a", "lambda 'lambda: a' at column 1"),
    ("a[0]", "subscript 'a[0]' at column 1"),
    ("a % b", "operator '%' at column 3"),
    ("a // b", "operator '//' at column 3"),
    ("~a", "operator '~' at column 1"),
    ("a < b", "comparison 'a < b' at column 1"),
    ("a and b", "boolean operator"),
    ("a if b else 1", "conditional expression"),
    ("'a'", "unsupported literal"),
    ("1j * a", "unsupported literal '1j' at column 1"),
    ("True * a", "unsupported literal 'True' at column 1"),
    ("1e39 * a", "'1e39' too large for float32 at column 1"),
    ("[a, b]", "list '[a, b]' at column 1"),
    ("a é", "unsupported character 'é' at column 3"),
    ("", "expression is empty"),
    ("   ", "expression is empty"),
    ("a" + "+a" * MAX_LENGTH, f"the limit is {MAX_LENGTH}"),
]


@pytest.mark.parametrize(("text", "message"), REJECTED)
def test_rejections_name_the_token_and_column(text, message):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_expression_error_is_a_value_error():
    assert issubclass(ExpressionError, ValueError)


@pytest.mark.parametrize(
    "variables", [("a",), ("a", "a"), ("a", "sin"), ("a", "1x"), ("pi", "b"), ("if", "b")]
)
def test_bad_variable_names_are_refused(variables):
    with pytest.raises(ExpressionError, match="variable"):
        parse_expression("a", variables)


def test_parsing_never_calls_eval_or_exec(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must never be called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    f = parse_expression("3*a**3 + 2*b**4")
    assert_close(f(3.0, 2.0), 113.0)
    with pytest.raises(ExpressionError):
        parse_expression("__import__('os').system('true')")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a^2", "uses operator '^' at column 2; use ** for powers"),
        ("b + (a - 1) ^ 2", "uses operator '^' at column 13; use ** for powers"),
        ("maximum(a)", "calls 'maximum' with 1 arguments at column 1; it takes two"),
        ("where(a, 1, 2)", "has condition 'a' at column 7 (write one comparison: a > b)"),
        ("where(0 < a < 1, a, b)", "has condition '0 < a < 1' at column 7"),
        ("where(a is b, a, b)", "uses comparison 'a is b' at column 7 (allowed: < <= > >= =="),
        ("a > b", "uses comparison 'a > b' at column 1, which is not allowed (only as where's"),
    ],
)
def test_new_functions_and_powers_are_refused_with_a_hint(text, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse_expression(text)


def test_kinks_take_jax_derivatives():
    grad = jax.grad(parse_expression("relu(a) + abs(b) + maximum(a, b)"), argnums=(0, 1))
    assert_close(grad(0.0, 0.0), (0.5, 1.5))  # relu'(0) = 0, abs'(0) = 1; a tie splits max
