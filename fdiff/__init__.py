"""fdiff: PyTorch autograd examples as pure JAX functions."""
