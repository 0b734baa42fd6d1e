"""A safe parser for expressions of two variables: ``"3*a**3 + 2*b**4"`` -> a JAX function.

The text is parsed with :mod:`ast` and then checked against a whitelist: numbers, the two
variable names, ``+ - * / **``, unary minus, parentheses, the constants ``pi`` and ``e`` and
the functions in :data:`FUNCTIONS` (one argument each, but ``minimum(x, y)``,
``maximum(x, y)`` and ``where(condition, x, y)``, whose condition is one comparison such as
``a > b``). Every other construct is refused with an :class:`ExpressionError` naming the
offending token and its (1-based) column (``a^2`` adds: use ``**`` for powers). Nothing is ever
passed to ``eval``: the checked tree is turned into a tree of ``jax.numpy`` calls.

Derivatives are JAX's: at a kink they are one-sided or split (at 0 ``relu`` has slope 0 and
``abs`` slope 1; ``minimum``/``maximum`` give each argument half at a tie; ``where``
differentiates the branch it takes).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from keyword import iskeyword
from types import MappingProxyType

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.errors import InputError

__all__ = ["ARITY", "FUNCTIONS", "MAX_LENGTH", "Expression", "ExpressionError", "parse_expression"]

MAX_LENGTH = 256
"""Longest accepted expression, in characters."""

FUNCTIONS: Mapping[str, Callable[..., jax.Array]] = MappingProxyType(
    {
        "abs": jnp.abs,
        "arctan": jnp.arctan,
        "cos": jnp.cos,
        "cosh": jnp.cosh,
        "exp": jnp.exp,
        "log": jnp.log,
        "maximum": jnp.maximum,
        "minimum": jnp.minimum,
        "relu": jax.nn.relu,
        "sigmoid": jax.nn.sigmoid,
        "sin": jnp.sin,
        "sinh": jnp.sinh,
        "sqrt": jnp.sqrt,
        "tan": jnp.tan,
        "tanh": jnp.tanh,
        "where": jnp.where,
    }
)
"""The functions an expression may call; :data:`ARITY` says how many arguments (default 1)."""
ARITY: Mapping[str, int] = MappingProxyType({"maximum": 2, "minimum": 2, "where": 3})
"""The functions of :data:`FUNCTIONS` that take more than one argument."""
_COMPARISONS = MappingProxyType(
    {
        ast.Lt: jnp.less,
        ast.LtE: jnp.less_equal,
        ast.Gt: jnp.greater,
        ast.GtE: jnp.greater_equal,
        ast.Eq: jnp.equal,
        ast.NotEq: jnp.not_equal,
    }
)

_CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY = {
    ast.Add: jnp.add,
    ast.Sub: jnp.subtract,
    ast.Mult: jnp.multiply,
    ast.Div: jnp.true_divide,
    ast.Pow: jnp.power,
}
_OPERATOR_TEXT = {
    ast.MatMult: "@",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}
_CONSTRUCTS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Lambda: "lambda",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator",
    ast.IfExp: "conditional expression",
    ast.NamedExpr: "assignment",
    ast.Starred: "starred argument",
    ast.Tuple: "tuple",
    ast.List: "list",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.JoinedStr: "f-string",
}
_TOKEN = re.compile(r"\d[\w.]*|\.\d\w*|[A-Za-z_]\w*|\*\*|//|\S")
_MAX_EXACT_POWER = 64  # a literal integer exponent up to this size stays exact (integer_pow)
_FLOAT32_MAX = float(np.finfo(np.float32).max)

_Node = Callable[[dict[str, jax.Array]], jax.Array]


class ExpressionError(InputError):
    """An expression was refused; the message names the token and its 1-based column."""


@dataclass(frozen=True)
class Expression:
    """A parsed expression: call it with one value per variable, in order.

    Attributes:
        text: the source text, as given.
        variables: the names of its two variables, in call order.
    """

    text: str
    variables: tuple[str, str]
    _evaluate: _Node = field(repr=False, compare=False)

    def __call__(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return self._evaluate(dict(zip(self.variables, (a, b), strict=True)))

    @property
    def title(self) -> str:
        """A plot title such as ``f(a, b) = 3 * a ** 3 + 2 * b ** 4``."""
        body = ast.unparse(ast.parse(self.text, mode="eval"))
        return f"f({', '.join(self.variables)}) = {body}"


def parse_expression(text: str, variables: Sequence[str] = ("a", "b")) -> Expression:
    """Parse ``text`` into a JAX-traceable function of two variables.

    Args:
        text: an expression such as ``"3*a**3 + 2*b**4"`` or ``"log(a) + sin(a*b)"``.
        variables: the two variable names, in the order the function takes them.

    Returns:
        An :class:`Expression`, callable as ``expr(a, b)`` (also under ``jax.grad``/``jit``).

    Raises:
        ExpressionError: (an :class:`~fdiff.errors.InputError`) for anything outside the
            whitelist, naming the offending token and its column.

    >>> f = parse_expression("3*a**3 + 2*b**4")
    >>> float(f(3.0, 2.0))
    113.0
    >>> parse_expression("a**")
    Traceback (most recent call last):
    ...
    fdiff.fields.expr.ExpressionError: expression 'a**' is incomplete at column 4
    """
    names = _check_variables(variables)
    tree = _parse_tree(text)
    return Expression(text, names, _Compiler(text, names).compile(tree.body))


def _check_variables(variables: Sequence[str]) -> tuple[str, str]:
    names = tuple(variables)
    if len(names) != 2 or len(set(names)) != 2:
        raise ExpressionError(f"expected two different variable names, got {names!r}")
    for name in names:
        if not name.isidentifier() or iskeyword(name) or name in FUNCTIONS or name in _CONSTANTS:
            raise ExpressionError(
                f"variable name {name!r} is not usable: it must be an identifier other than "
                "a function or constant name"
            )
    return names  # type: ignore[return-value]


def _parse_tree(text: str) -> ast.Expression:
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}"
        )
    for column, char in enumerate(text, start=1):
        if not (char.isascii() and char.isprintable()):
            raise ExpressionError(
                f"expression {text!r} has unsupported character {char!r} at column {column}"
            )
    if not text.strip():
        raise ExpressionError("expression is empty")
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(text, error) from None
    except (ValueError, RecursionError, MemoryError):  # e.g. too deeply nested
        raise ExpressionError(f"expression {text!r} is too deeply nested") from None


def _syntax_error(text: str, error: SyntaxError) -> ExpressionError:
    """Translate Python's SyntaxError into a message naming a token and a column."""
    end = len(text.rstrip()) + 1
    offset = error.offset or 0
    if "never closed" in (error.msg or ""):
        return ExpressionError(
            f"expression {text!r} is incomplete at column {end}: "
            f"the parenthesis at column {offset} is never closed"
        )
    token = _token_at(text, offset - 1) if 1 <= offset <= len(text) else None
    if token is None:
        return ExpressionError(f"expression {text!r} is incomplete at column {end}")
    return ExpressionError(f"expression {text!r} has unexpected {token!r} at column {offset}")


def _token_at(text: str, index: int) -> str | None:
    for match in _TOKEN.finditer(text):
        if match.start() <= index < match.end():
            return match.group()
    return None


class _Compiler:
    """Check a parsed tree against the whitelist and turn it into nested jnp calls."""

    def __init__(self, text: str, variables: tuple[str, str]):
        self.text = text
        self.variables = variables

    def compile(self, node: ast.expr) -> _Node:
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.compile(node.operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            return lambda env: jnp.negative(operand(env))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self._binary(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self._refuse(node)

    def _constant(self, node: ast.Constant) -> _Node:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error(f"has unsupported literal {self._segment(node)!r}", node)
        small = not isinstance(value, int) or value.bit_length() < 1000
        if not (small and abs(float(value)) <= _FLOAT32_MAX):
            raise self._error(f"has number {self._segment(node)!r} too large for float32", node)
        number = float(value)
        return lambda env: number

    def _name(self, node: ast.Name) -> _Node:
        if node.id in self.variables:
            name = node.id
            return lambda env: env[name]
        if node.id in _CONSTANTS:
            value = _CONSTANTS[node.id]
            return lambda env: value
        known = ", ".join([*self.variables, *_CONSTANTS])
        hint = " (call it with parentheses)" if node.id in FUNCTIONS else f" (known: {known})"
        raise self._error(f"has unknown name {node.id!r}", node, hint)

    def _binary(self, node: ast.BinOp) -> _Node:
        left = self.compile(node.left)
        operation = _BINARY[type(node.op)]
        power = _integer_exponent(node) if isinstance(node.op, ast.Pow) else None
        if power is not None:  # keeps a**3 exact: jnp.power with an int is lax.integer_pow
            return lambda env: jnp.power(left(env), power)
        right = self.compile(node.right)
        return lambda env: operation(left(env), right(env))

    def _call(self, node: ast.Call) -> _Node:
        if not isinstance(node.func, ast.Name):
            raise self._error(f"calls {self._segment(node.func)!r}", node, ", which is not allowed")
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            raise self._error(f"calls unknown function {name!r}", node, f" (allowed: {allowed})")
        arity = ARITY.get(name, 1)
        if node.keywords or len(node.args) != arity:
            count = len(node.args) + len(node.keywords)
            takes = {1: "one", 2: "two", 3: "three"}[arity]
            raise self._error(f"calls {name!r} with {count} arguments", node, f"; it takes {takes}")
        function = FUNCTIONS[name]
        first, *rest = node.args
        arguments = [self._condition(first) if name == "where" else self.compile(first)]
        arguments += [self.compile(argument) for argument in rest]
        return lambda env: function(*(argument(env) for argument in arguments))

    def _condition(self, node: ast.expr) -> _Node:
        """``where``'s first argument: one comparison of two expressions, ``a > b``."""
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
            raise self._error(
                f"has condition {self._segment(node)!r}", node, " (write one comparison: a > b)"
            )
        if type(node.ops[0]) not in _COMPARISONS:
            allowed = " (allowed: < <= > >= == !=)"
            raise self._error(f"uses comparison {self._segment(node)!r}", node, allowed)
        compare = _COMPARISONS[type(node.ops[0])]
        left, right = self.compile(node.left), self.compile(node.comparators[0])
        return lambda env: compare(left(env), right(env))

    def _refuse(self, node: ast.expr) -> ExpressionError:
        if isinstance(node, ast.Attribute):
            dot = self.text.rfind(".", node.value.end_col_offset, node.end_col_offset)
            return ExpressionError(
                f"expression {self.text!r} uses attribute access '.{node.attr}' at column "
                f"{dot + 1}, which is not allowed"
            )
        operator = _OPERATOR_TEXT.get(type(getattr(node, "op", None)))
        if operator is not None:
            start = node.left.end_col_offset if isinstance(node, ast.BinOp) else node.col_offset
            column = self.text.find(operator, start) + 1
            hint = "; use ** for powers" if operator == "^" else ", which is not allowed"
            return ExpressionError(
                f"expression {self.text!r} uses operator {operator!r} at column {column}{hint}"
            )
        construct = _CONSTRUCTS.get(type(node), "construct")
        hint = " (only as where's condition)" if isinstance(node, ast.Compare) else ""
        return self._error(
            f"uses {construct} {self._segment(node)!r}", node, f", which is not allowed{hint}"
        )

    def _error(self, what: str, node: ast.expr, hint: str = "") -> ExpressionError:
        column = node.col_offset + 1
        return ExpressionError(f"expression {self.text!r} {what} at column {column}{hint}")

    def _segment(self, node: ast.expr) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__


def _integer_exponent(node: ast.BinOp) -> int | None:
    """The exponent of ``x ** 3`` or ``x ** -2`` as an int, if it is a small literal integer."""
    exponent, sign = node.right, 1
    if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub):
        exponent, sign = exponent.operand, -1
    value = exponent.value if isinstance(exponent, ast.Constant) else None
    if isinstance(value, int) and not isinstance(value, bool) and value <= _MAX_EXACT_POWER:
        return sign * value
    return None
