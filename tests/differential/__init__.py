"""The differential test harness: torch programs run under real PyTorch and fdiff.torch.

``program`` holds a program (source steps plus input arrays), ``features`` the deterministic
programs that cover every feature and op, ``generator`` the hypothesis strategies for random
ones, ``runner`` runs a program in one engine and records what it observes, ``tolerance``
compares two runs with error bounds derived from a float64 reference, and ``x64_worker``
runs float64 programs in a subprocess with JAX's x64 mode on.
"""
