# A correct JAX port of seed 003.1: torch's values of torch.manual_seed(0); randn(5, 3), randn(3)
# are loaded (JAX's generator cannot reproduce them), and the loss averages as torch's does.
import jax
import jax.numpy as jnp

x = jnp.ones(5)
y = jnp.zeros(3)
w = jnp.array(
    [
        [1.5409960746765137, -0.293428897857666, -2.1787893772125244],
        [0.5684312582015991, -1.0845223665237427, -1.3985954523086548],
        [0.40334683656692505, 0.8380263447761536, -0.7192575931549072],
        [-0.40334352850914, -0.5966353416442871, 0.18203648924827576],
        [-0.8566746115684509, 1.1006041765213013, -1.0711873769760132],
    ]
)
b = jnp.array([0.1227012425661087, -0.5663174986839294, 0.3731146454811096])


def loss_of(w, b):
    z = x @ w + b
    return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))


loss, (w_grad, b_grad) = jax.value_and_grad(loss_of, argnums=(0, 1))(w, b)
print(w_grad)
print(b_grad)
