# A correct JAX port of seed 000.4: torch's layout, NCHW images and OIHW kernels.
import jax
import jax.numpy as jnp

image = jnp.array([[2.0, 2, 1, 3], [4, 3, 1, 2], [1, 2, 2, 2], [1, 1, 2, 4]])[None, None]
conv = {"weight": jnp.array([[3.0, 4, 5], [1, 2, 5], [1, 4, 5]])[None, None], "bias": jnp.zeros(1)}


def forward(params):
    out = jax.lax.conv_general_dilated(
        image, params["weight"], (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW")
    )
    return out + params["bias"][None, :, None, None]


result = forward(conv)
print(result)
loss, conv_grad = jax.value_and_grad(lambda p: forward(p).sum())(conv)
print(loss)
print(conv_grad["weight"])
print(conv_grad["bias"])
