"""Embedded default weights (installed as ganeval._pretrained)."""
