"""Plots (matplotlib imported lazily); every function returns the Figure and accepts ``ax=None``."""
