"""Figures: image grids (:mod:`.grid`) and StyleGAN analysis figures (:mod:`.analysis`).

Nothing is imported here, so ``import ganeval`` stays light.
"""
