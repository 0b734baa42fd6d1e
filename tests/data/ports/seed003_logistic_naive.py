# A naive JAX port of seed 003.1: the weights drawn with JAX's generator.
import jax
import jax.numpy as jnp

key_w, key_b = jax.random.split(jax.random.key(0))
x = jnp.ones(5)
y = jnp.zeros(3)
w = jax.random.normal(key_w, (5, 3))
b = jax.random.normal(key_b, (3,))


def loss_of(w, b):
    z = x @ w + b
    return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))


loss, (w_grad, b_grad) = jax.value_and_grad(loss_of, argnums=(0, 1))(w, b)
print(w_grad)
print(b_grad)
