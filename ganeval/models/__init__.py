"""Generators: the protocol (:mod:`.base`), StyleGAN v1 (:mod:`.stylegan`), StyleGAN2
(:mod:`.stylegan2`), the z-only adapter (:mod:`.adapter`), style mixing and noise control
(:mod:`.control`) and the native checkpoint format (:mod:`.native`).

Nothing is imported here, so ``import ganeval`` stays light.
"""
