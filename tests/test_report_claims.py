"""Report claims: verdicts from confidence intervals, config validation, the findings section."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_report import _config, counted_ppl, generator_file  # noqa: F401 (pytest fixtures, used by name)

from ganeval.errors import GanevalTypeError, GanevalValueError
from ganeval.report import parse_config, render_report, run_report
from ganeval.report.claims import ClaimRef, ClaimSpec, evaluate_claim

A, B = ClaimRef("g", "a"), ClaimRef("g", "b")


def _verdict(op: str, left, right) -> str:
    values = {"a": left, "b": right}
    return evaluate_claim(ClaimSpec("t", A, op, B), lambda ref: values[ref.metric]).verdict


def test_verdicts_follow_the_intervals():
    assert _verdict("<", (1.0, 0.5, 1.5), (3.0, 2.0, 4.0)) == "holds"
    assert _verdict(">", (1.0, 0.5, 1.5), (3.0, 2.0, 4.0)) == "contradicted"
    assert _verdict("<", (1.0, 0.5, 2.5), (3.0, 2.0, 4.0)) == "inconclusive (CIs overlap)"
    assert _verdict("<", (1.0, None, None), (3.0, 2.0, 4.0)) == "holds (no CI)"
    assert _verdict("<", (5.0, None, None), (3.0, None, None)) == "contradicted (no CI)"
    assert _verdict("<", None, (3.0, 2.0, 4.0)) == "not computed"
    assert _verdict("<", (float("nan"), None, None), (3.0, 2.0, 4.0)) == "not computed"


@given(st.floats(-1e6, 1e6), st.floats(0, 1e3), st.floats(-1e6, 1e6), st.floats(0, 1e3))
def test_swapping_sides_and_operator_gives_the_same_verdict(lv, lw, rv, rw):
    left, right = (lv, lv - lw, lv + lw), (rv, rv - rw, rv + rw)
    assert _verdict("<", left, right) == _verdict(">", right, left)
    # a claim and its opposite are never both supported
    assert not (_verdict("<", left, right) == "holds" and _verdict(">", left, right) == "holds")


def test_config_refuses_claims_on_unknown_labels(tmp_path, generator_file):  # noqa: F811
    claim = {
        "text": "W shorter",
        "op": "<",
        "left": {"generator": "tiny", "metric": "PPL W"},
        "right": {"generator": "tiny", "metric": "PPL Z"},
    }
    base = _config(tmp_path, generator_file, generators=[{"label": "tiny", "source": str(generator_file)}])
    assert len(parse_config({**base, "claims": [claim]}).claims) == 1
    with pytest.raises(GanevalValueError, match=r"claims\[0\].left.metric"):
        parse_config({**base, "claims": [{**claim, "left": {"generator": "tiny", "metric": "nope"}}]})
    with pytest.raises(GanevalValueError, match=r"claims\[0\].op"):
        parse_config({**base, "claims": [{**claim, "op": "=="}]})
    with pytest.raises(GanevalTypeError, match="intro"):
        parse_config({**base, "intro": 3})


def test_findings_section_states_each_claim_with_its_numbers(tmp_path, generator_file, counted_ppl):  # noqa: F811
    claims = [
        {
            "text": "W is smoother than Z",
            "paper": "Table 4",
            "op": "<",
            "left": {"generator": "tiny", "metric": "PPL W"},
            "right": {"generator": "tiny", "metric": "PPL Z"},
        },
        {
            "text": "the opposite",
            "op": ">",
            "left": {"generator": "tiny", "metric": "PPL W"},
            "right": {"generator": "tiny", "metric": "PPL Z"},
        },
    ]
    cfg = parse_config(
        _config(
            tmp_path,
            generator_file,
            generators=[{"label": "tiny", "source": str(generator_file)}],
            intro="First paragraph.\n\nSecond <b>paragraph</b>.",
            claims=claims,
        )
    )
    out = render_report(run_report(cfg).results_path)
    page = out.index.read_text(encoding="utf-8")
    assert "<p>First paragraph.</p>" in page and "Second &lt;b&gt;paragraph&lt;/b&gt;." in page
    rows = re.findall(r"<tr><td class=\"msg\">(.*?)</tr>", page.split('id="findings-table"')[1], re.S)
    cells = [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r">([^<]*)</td>", "<td>" + r)] for r in rows]
    recs = {
        r.split(",")[1]: float(r.split(",")[3]) for r in (out.index.parent / "ppl.csv").read_text().splitlines()[1:]
    }
    w, z = recs["PPL W"], recs["PPL Z"]
    assert len(cells) == 2 and "W is smoother than Z" in cells[0][0]
    verdicts = {cells[0][-1], cells[1][-1]}
    # exactly one of a claim and its opposite can hold; which one follows the computed values
    expected = ("holds" if w < z else "contradicted") if verdicts != {"inconclusive (CIs overlap)"} else None
    if expected is not None:
        assert cells[0][-1] == expected
    assert f"{w:.4g}" in cells[0][2] and f"{z:.4g}" in cells[0][2]


def test_w_cells_of_a_generator_without_w_are_not_applicable(tmp_path, generator_file, counted_ppl):  # noqa: F811
    import torch
    from test_report import _summary_cells

    from ganeval.models.native import save_generator
    from ganeval.models.traditional import TraditionalGenerator

    torch.manual_seed(1)
    trad = save_generator(
        TraditionalGenerator(z_dim=16, img_resolution=16, fmap_base=64, fmap_max=16), tmp_path / "trad"
    )
    cfg = parse_config(
        _config(
            tmp_path,
            generator_file,
            generators=[{"label": "style", "source": str(generator_file)}, {"label": "trad", "source": str(trad)}],
        )
    )
    out = render_report(run_report(cfg).results_path)
    rows = {r[0]: r[1:] for r in _summary_cells(out.index)}
    assert rows["trad"][0] == "n/a" and rows["trad"][1] not in ("n/a", "failed")  # W n/a, Z computed
    assert "n/a" not in rows["style"] and out.num_failures == 0
    assert "no intermediate latent space" in out.index.read_text(encoding="utf-8")
