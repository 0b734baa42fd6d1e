"""Loss landscapes of any parameter pytree (Li et al. 2018), fast: one jitted ``vmap`` per chunk.

- :mod:`~fdiff.landscape.directions`: random Gaussian, filter- and layer-normalized directions,
  the direction toward a second checkpoint;
- :mod:`~fdiff.landscape.plane`: a :class:`Plane` (origin and two directions), random or
  through checkpoints;
- :mod:`~fdiff.landscape.trajectory`: the top-2 PCA plane of a recorded optimizer run, and
  trajectories projected onto a plane (as paths the field plots draw);
- :mod:`~fdiff.landscape.surface`: the loss and its projected gradient on a grid (a
  :class:`~fdiff.fields.GradientField`), along a line, at given points;
- :mod:`~fdiff.landscape.module`: an ``fdiff.torch`` module and its loss as a JAX loss.

The usual sequence: ``plane = random_plane(seed, params)`` (or ``pca_directions(run).plane``),
``field = loss_landscape(loss, plane, n=51)``, ``fdiff.fields.plot.plot_field(field, paths)``
with ``paths = [project_trajectory(plane, run, loss)]`` (example in
:mod:`~fdiff.landscape.surface`).
"""

from fdiff.landscape._evaluate import DEFAULT_MEMORY_BUDGET
from fdiff.landscape.directions import (
    direction_to,
    filter_normalize,
    layer_normalize,
    random_direction,
)
from fdiff.landscape.module import ModuleLoss, module_loss
from fdiff.landscape.plane import Plane, interpolation_plane, random_plane
from fdiff.landscape.surface import (
    PlaneValues,
    Slice,
    landscape_slice,
    loss_landscape,
    plane_values,
)
from fdiff.landscape.trajectory import (
    PCADirections,
    pca_directions,
    project_points,
    project_trajectory,
)

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "ModuleLoss",
    "PCADirections",
    "Plane",
    "PlaneValues",
    "Slice",
    "direction_to",
    "filter_normalize",
    "interpolation_plane",
    "landscape_slice",
    "layer_normalize",
    "loss_landscape",
    "module_loss",
    "pca_directions",
    "plane_values",
    "project_points",
    "project_trajectory",
    "random_direction",
    "random_plane",
]
