"""The embedded zoo: a procedural shapes dataset and the models ganeval trains on it.

- :mod:`ganeval.zoo.shapes`: ``render(indices, seed) -> (images [N, 3, 32, 32] in [-1, 1], labels [N, 11])``.
- :mod:`ganeval.zoo.classifier`: ``load_zoo_classifier("zoo:shapes-classifier")``.
- :mod:`ganeval.zoo.perceptual`: ``load_zoo_distance("zoo:shapes-perceptual")`` (LPIPS-style, NOT LPIPS-VGG16).
- ``ganeval.load_generator("zoo:shapes-stylegan")``: the StyleGAN (v1) trained on the shapes.
- :mod:`ganeval.zoo.datasets`: ``ShapesSource``, the real images of ``zoo:shapes`` for the distribution metrics.
- :mod:`ganeval.zoo.train`: ``python -m ganeval.zoo.train generator|classifier|perceptual|export-generator|readme``
  (training only: no runtime module imports it).

The ``zoo:`` names are registered in :mod:`ganeval.registry` by :mod:`ganeval.zoo._register`, which
the registry imports by name on its first lookup: nothing below the zoo imports this package.
Importing this package imports nothing heavy.
"""
