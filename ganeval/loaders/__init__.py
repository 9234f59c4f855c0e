"""Checkpoint loaders: NVIDIA TF and torch pickles, rosinality checkpoints, native files."""
