"""The unseeded-random explanation fires only for a draw made before its generator is seeded."""

from __future__ import annotations

import pytest

from fdiff.compare._random_use import first_unseeded_draw

FIRES = {
    "no_seed": ("import torch\nx = torch.randn(3)\n", ("torch", "torch.randn")),
    "seed_after_draw": (
        "import torch\nw = torch.nn.Linear(2, 1)\ntorch.manual_seed(0)\n",
        ("torch", "torch.nn.Linear"),
    ),
    "aliased": ("import torch as t\nfrom torch import nn\nm = nn.Conv2d(1, 1, 3)\n",
                ("torch", "torch.nn.Conv2d")),
    "fill_method": ("import torch\nx = torch.empty(3)\nx.uniform_()\n", ("torch", ".uniform_")),
    "numpy": ("import numpy as np\nx = np.random.normal(size=3)\n",
              ("other", "numpy.random.normal")),
    "python": ("import random\nrandom.shuffle([1, 2])\nrandom.seed(0)\n",
               ("other", "random.shuffle")),
    "rng_without_seed": ("import numpy as np\nimport torch\nnp.random.default_rng()\n"
                         "torch.manual_seed(0)\nnp.random.rand(2)\n",
                         ("other", "numpy.random.rand")),
}  # fmt: skip


@pytest.mark.parametrize("source, expected", FIRES.values(), ids=FIRES.keys())
def test_fires_for_a_draw_before_its_seed(source, expected):
    assert first_unseeded_draw(source) == expected


QUIET = {
    "seeded_first": "import torch\ntorch.manual_seed(0)\nx = torch.randn(3)\n",
    "random_module_seed": "import torch\ntorch.random.manual_seed(1)\nx = torch.rand(3)\n",
    "comment_and_string": "import torch\n# torch.randn(3)\nprint('torch.rand(2)')\n",
    "jax_keys": "import jax\nkey = jax.random.PRNGKey(0)\nx = jax.random.normal(key, (3,))\n",
    "numpy_seeded": "import numpy as np\nnp.random.seed(0)\nx = np.random.normal(size=3)\n",
    "numpy_generator": "import numpy as np\nrng = np.random.default_rng(0)\nx = rng.normal()\n",
    "no_draw": "import torch\nx = torch.ones(3)\nprint(x.sum())\n",
    "syntax_error": "x = (\n",
}


@pytest.mark.parametrize("source", QUIET.values(), ids=QUIET.keys())
def test_quiet_without_an_unseeded_draw(source):
    assert first_unseeded_draw(source) is None
