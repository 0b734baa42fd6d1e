# A correct JAX port of seed004_stats.py: torch's max gradient (one index per row), var with
# ddof=1, clamp's gradient at its bounds, and float64 through x64.
import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

a = jnp.array([[1.0, 1.0], [2.0, 0.0]], dtype=jnp.float32)


def row_max(a):
    index = jnp.argmax(a, axis=1)[:, None]
    return jnp.take_along_axis(a, index, axis=1).sum()


top, a_grad = jax.value_and_grad(row_max)(a)

v = jnp.array([0.0, 3.0, 3.0], dtype=jnp.float32)
spread, v_grad = jax.value_and_grad(lambda v: jnp.var(v, ddof=1))(v)

c = jnp.array([0.0, 1.0, 2.0], dtype=jnp.float32)
c_grad = jax.grad(lambda c: jnp.where((c >= 0.0) & (c <= 1.0), c, jnp.clip(c, 0.0, 1.0)).sum())(c)

d = jnp.array([0.1, 0.2], dtype=jnp.float64)
d_grad = jax.grad(lambda d: (d * 3).sum())(d)
print(f"top {float(top):.4f} spread {float(spread):.4f}")
