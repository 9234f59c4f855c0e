"""``ganeval info GENERATOR``: architecture, sizes, parameter count and provenance."""

from __future__ import annotations

import json
from typing import Any

import click

from ._generator import load, parameter_count
from ._options import device_option, seed_option

__all__ = ["command", "describe"]


def describe(G: Any) -> dict[str, Any]:
    """A JSON-ready description of a generator (what ``ganeval info`` prints)."""
    from ..models.control import layer_groups

    out: dict[str, Any] = {
        "architecture": getattr(G, "arch_name", type(G).__name__),
        "resolution": int(G.img_resolution),
        "channels": int(G.img_channels),
        "z_dim": int(G.z_dim),
        "w_dim": int(getattr(G, "w_dim", 0)),
        "c_dim": int(getattr(G, "c_dim", 0)),
        "num_ws": int(getattr(G, "num_ws", 0)),
        "parameters": parameter_count(G),
    }
    if hasattr(G, "official_num_params"):
        out["parameters_official"] = int(G.official_num_params())
    if out["num_ws"]:
        out["layer_groups"] = layer_groups(G)
    if hasattr(getattr(G, "synthesis", None), "noise_resolutions"):
        out["noise_resolutions"] = list(G.synthesis.noise_resolutions)
    if callable(getattr(G, "describe", None)):  # StyleGAN3: config (T or R), layers, filter parameters
        out["architecture"] = G.describe()
    from ..loaders import describe_producer

    prov = dict(getattr(G, "provenance", {}) or {})
    out["format"] = prov.get("format")
    producer, defaults = describe_producer(prov)
    if producer:
        out["producer"] = producer
    if defaults:
        out["implied_defaults"] = defaults
    out["provenance"] = prov
    return out


@click.command("info")
@click.argument("generator")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@device_option
@seed_option
def command(generator: str, as_json: bool, device: str, seed: int) -> None:
    """Describe GENERATOR (a checkpoint path or a registry name such as zoo:shapes-stylegan).

    --seed is accepted for uniformity; nothing here is random.
    """
    info = describe(load(generator, device))
    if as_json:
        click.echo(json.dumps(info, sort_keys=True))
        return
    width = max(len(k) for k in info)
    for key, value in info.items():
        if key == "provenance":
            for pk, pv in value.items():
                click.echo(f"{'provenance.' + pk:<{width + 12}} {pv}")
        else:
            click.echo(f"{key:<{width + 12}} {value}")
