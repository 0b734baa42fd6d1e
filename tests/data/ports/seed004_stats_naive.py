# A naive JAX port of seed004_stats.py: jnp.max, jnp.var, jnp.clip and float64 as written.
import jax
import jax.numpy as jnp

a = jnp.array([[1.0, 1.0], [2.0, 0.0]])
top, a_grad = jax.value_and_grad(lambda a: jnp.max(a, axis=1).sum())(a)

v = jnp.array([0.0, 3.0, 3.0])
spread, v_grad = jax.value_and_grad(jnp.var)(v)

c = jnp.array([0.0, 1.0, 2.0])
c_grad = jax.grad(lambda c: jnp.clip(c, 0.0, 1.0).sum())(c)

d = jnp.array([0.1, 0.2], dtype=jnp.float64)  # float32 without x64: JAX warns
d_grad = jax.grad(lambda d: (d * 3).sum())(d)
print(f"top {float(top):.4f} spread {float(spread):.4f}")
