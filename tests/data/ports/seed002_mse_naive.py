# A naive JAX port of seed002_mse.py: the squared errors summed, not averaged.
import jax
import jax.numpy as jnp

y = jnp.array([1.0, 2.0, 3.0])
pred = jnp.array([2.0, 2.0, 5.0])
error, (y_grad, pred_grad) = jax.value_and_grad(
    lambda y, pred: jnp.sum((pred - y) ** 2), argnums=(0, 1)
)(y, pred)
print(f"error {float(error):.6f}")
print(y_grad, pred_grad)
