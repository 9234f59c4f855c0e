"""The report in a real browser: headless Chromium loads index.html from the file system.

A copy of the page with a probe script injected (same folder, so relative links resolve)
records every image's natural size, the summary rows, page errors and the resources fetched;
``--dump-dom`` returns the DOM with the probe's JSON in it. Two pages: a report of two
random-init generators made here, and the committed example (zoo models) re-rendered from its
``results.jsonl``. A screenshot of each unmodified page is saved to
``test-artifacts/report-screenshot-<which>.png``. Without Chromium the test is
skipped, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

import ganeval
from ganeval.report import parse_config, render_report, run_report
from ganeval.report import runner as report_runner

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"

PROBE = """<script>
window.__probe = {errors: []};
window.addEventListener("error", function (e) {
  var t = e.target;
  window.__probe.errors.push(t && t.tagName ? "failed to load " + t.tagName + " " + (t.src || t.href)
                                            : String(e.message));
}, true);
var origError = console.error;
console.error = function () {
  window.__probe.errors.push(Array.prototype.join.call(arguments, " "));
  origError.apply(console, arguments);
};
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var out = {
    images: imgs.map(function (i) {
      return {src: i.getAttribute("src"), width: i.naturalWidth, complete: i.complete};
    }),
    summary_rows: document.querySelectorAll("#summary-table tbody tr").length,
    findings_rows: document.querySelectorAll("#findings-table tbody tr").length,
    resources: performance.getEntriesByType("resource").map(function (r) { return r.name; }),
    errors: window.__probe.errors
  };
  var pre = document.createElement("pre");
  pre.id = "probe-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        msg = "chromium is not installed (apt-get install -y chromium; `make test` installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def _browser(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
    ]
    return subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=120)


def _sq_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).flatten(1).mean(1)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A two-generator report with a PPL column and every analysis figure."""
    from ganeval.models.native import save_generator
    from ganeval.models.stylegan import StyleGAN

    root = tmp_path_factory.mktemp("browser")
    sources = []
    for k in range(2):
        torch.manual_seed(k)
        G = StyleGAN(z_dim=16, w_dim=16, img_resolution=16, fmap_base=64, fmap_max=16, mapping_layers=2).eval()
        sources.append(str(save_generator(G, root / f"g{k}")))
    cfg = parse_config(
        {
            "name": "browser <b>test</b>",
            "out": str(root / "rep"),
            "device": "cpu",
            "generators": [{"label": f"gen {k} <i>", "source": s} for k, s in enumerate(sources)],
            "metrics": [{"name": "ppl", "space": "w", "samples": 100}],
            "figures": {"std_realisations": 4, "grid": 4, "interpolation_steps": 4},
        }
    )
    original = report_runner.METRICS["ppl"]
    report_runner.METRICS["ppl"] = lambda G, o, seed, device: ganeval.ppl(
        G, **{"seed": seed, "device": device, "distance": _sq_l2, "progress": False, **o}
    )
    try:
        outcome = run_report(cfg)
    finally:
        report_runner.METRICS["ppl"] = original
    rendered = render_report(outcome.results_path)
    assert rendered.num_failures == 0
    return rendered.index


@pytest.fixture(scope="module")
def example_report(tmp_path_factory) -> Path:
    """The committed example (real zoo models), re-rendered by this code from its results.jsonl."""
    results = REPO / "reports" / "example" / "results.jsonl"
    if not results.is_file():
        pytest.skip("reports/example/results.jsonl is not generated yet (ganeval report reports/example/report.toml)")
    out = tmp_path_factory.mktemp("example")
    return render_report(results, out_dir=out).index


@pytest.fixture(scope="module")
def paper_report(tmp_path_factory) -> Path:
    """The committed paper report (style-based vs traditional zoo generators), re-rendered from its results.jsonl."""
    results = REPO / "reports" / "paper" / "results.jsonl"
    if not results.is_file():
        pytest.skip("reports/paper/results.jsonl is not generated yet (ganeval report reports/paper/report.toml)")
    return render_report(results, out_dir=tmp_path_factory.mktemp("paper")).index


def _probe(exe: str, index: Path, profile: Path) -> dict:
    probe_page = index.parent / "probe.html"
    probe_page.write_text(index.read_text(encoding="utf-8").replace("<head>", "<head>\n" + PROBE, 1), encoding="utf-8")
    proc = _browser(exe, profile, "--dump-dom", probe_page.resolve().as_uri())
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"no probe output from chromium; stderr tail:\n{proc.stderr[-2000:]}"
    probe = json.loads(html.unescape(found.group(1)))
    probe["console_errors"] = [line for line in proc.stderr.splitlines() if "CONSOLE" in line and "probe" not in line]
    return probe


#: report -> (fixture, generators, analysis figures, findings rows): 5 figures per style-based generator, 1 (the
#: sample grid) for the traditional one; the paper report compares 4 generators and states 11 claims
_PAGES = {
    "random-init": ("report", 2, 10, 0),
    "example": ("example_report", 2, 10, 0),
    "paper": ("paper_report", 4, 16, 11),
}


@pytest.mark.parametrize("which", list(_PAGES))
def test_report_in_headless_chromium(which, request, tmp_path):
    exe = _chromium()
    fixture, num_generators, num_figures, num_findings = _PAGES[which]
    index = request.getfixturevalue(fixture)
    probe = _probe(exe, index, tmp_path / "profile")

    images = probe["images"]
    srcs = [i["src"] for i in images]
    assert sum(s.startswith("figures/") for s in srcs) == num_figures
    assert probe["findings_rows"] == num_findings
    if which != "paper":  # one PPL plot per generator (the example adds separability bars)
        assert sum(s.startswith("plots/ppl-") for s in srcs) == 2
    if which == "example":
        assert sum(s.startswith("plots/separability-") for s in srcs) == 2
    not_loaded = [i["src"] for i in images if not (i["complete"] and i["width"] > 0)]
    assert not not_loaded, f"images that did not load: {not_loaded}"
    assert probe["summary_rows"] == num_generators
    assert probe["errors"] == []
    assert probe["console_errors"] == []
    assert all(r.startswith("file://") for r in probe["resources"]), probe["resources"]

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-screenshot-{which}.png"
    shot.unlink(missing_ok=True)
    proc = _browser(
        exe, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1200,2400", index.resolve().as_uri()
    )
    assert shot.is_file() and shot.stat().st_size > 10_000, proc.stderr[-2000:]
