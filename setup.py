"""Package list for setuptools (metadata lives in pyproject.toml).

The embedded default weights sit in the top-level `pretrained/` folder of the source tree and
install as the package `ganeval._pretrained`, so they load the same way from a wheel.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["ganeval", "ganeval.*"]), "ganeval._pretrained"],
    package_dir={"ganeval._pretrained": "pretrained"},
)
