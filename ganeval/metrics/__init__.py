"""Metrics: keyword-only functions returning :class:`ganeval.results.MetricResult` subclasses."""
