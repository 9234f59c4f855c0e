"""The registry itself: names, catalog facts, cache root precedence, zoo cards, local files."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ganeval import weights
from ganeval.errors import ChecksumError, GanevalValueError, WeightsNotFoundError

# ----------------------------------------------------------------------------- cache root


def test_cache_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GANEVAL_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert weights.cache_root() == tmp_path / "home" / ".cache" / "ganeval"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert weights.cache_root() == tmp_path / "xdg" / "ganeval"
    monkeypatch.setenv("GANEVAL_HOME", str(tmp_path / "gh"))
    assert weights.cache_root() == tmp_path / "gh"
    assert weights.cache_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert weights.weights_dir(tmp_path / "explicit") == tmp_path / "explicit" / "weights"
    assert weights.local_path("stylegan2-ffhq-config-f") == tmp_path / "gh" / "weights" / "stylegan2-ffhq-config-f.pkl"
    monkeypatch.setenv("GANEVAL_HOME", "")  # empty means unset
    assert weights.cache_root() == tmp_path / "xdg" / "ganeval"


def test_offline_flag_from_environment(monkeypatch):
    for value, expected in [("1", True), ("true", True), ("ON", True), ("0", False), ("", False)]:
        monkeypatch.setenv("GANEVAL_OFFLINE", value)
        assert weights.is_offline() is expected
    monkeypatch.setenv("GANEVAL_OFFLINE", "1")
    assert weights.is_offline(False) is False


# ----------------------------------------------------------------------------- catalog facts


def test_catalog_holds_the_requested_checkpoints_with_their_published_urls():
    get = weights.get_entry
    assert get("stylegan-ffhq-1024x1024").filename == "karras2019stylegan-ffhq-1024x1024.pkl"
    assert get("stylegan-ffhq-1024x1024").urls == ("https://drive.google.com/uc?id=1MEGjdvVpUsu1jB4zrXZN7Y4kBBOzizDQ",)
    assert get("stylegan2-ffhq-config-f").urls[0] == (
        "https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/stylegan2-ffhq-config-f.pkl"
    )
    for tag in ("car", "cat", "church", "horse"):
        assert get(f"stylegan2-{tag}-config-f").format == "nvidia-tf-pickle"
    assert get("stylegan-celebahq-1024x1024").kind == "generator"
    assert get("stylegan2-ada-pytorch-ffhq").urls[0].endswith("/stylegan2-ada-pytorch/pretrained/ffhq.pkl")
    assert get("nvidia-vgg16-lpips").format == "torchscript"
    assert get("nvidia-inception-2015-12-05").urls[0].endswith("/pretrained/metrics/inception-2015-12-05.pt")
    assert get("pytorch-fid-inception").filename == "pt_inception-2015-12-05-6726825d.pth"
    # NVIDIA publishes no digests: those are recorded at first download
    assert get("stylegan2-ffhq-config-f").sha256 is None
    assert get("stylegan2-ffhq-config-f").integrity == "recorded"


def test_torchvision_entries_check_the_sha256_prefix_in_their_file_names():
    for name in ("torchvision-vgg16", "torchvision-alexnet", "torchvision-squeezenet1_1"):
        entry = weights.get_entry(name)
        assert entry.sha256_is_prefix and len(entry.sha256) == 8
        assert entry.filename.endswith(f"-{entry.sha256}.pth")
        assert entry.urls[0].endswith("/" + entry.filename)


def test_forty_celebahq_classifiers_in_nvidia_index_order():
    celebahq = [e for e in weights.list_entries("classifier") if e.name.startswith("celebahq-classifier-")]
    assert len(celebahq) == 40  # the zoo classifier is listed beside them
    assert len(weights.CELEBAHQ_ATTRIBUTES) == 40
    assert weights.get_entry("celebahq-classifier-19-eyeglasses").filename == "celebahq-classifier-19-eyeglasses.pkl"
    assert weights.get_entry("celebahq-classifier-39-wearing-necktie").urls[0] == (
        "https://nvlabs-fi-cdn.nvidia.com/stylegan/networks/metrics/celebahq-classifier-39-wearing-necktie.pkl"
    )
    for index, attr in enumerate(weights.CELEBAHQ_ATTRIBUTES):
        entry = weights.get_entry(f"celebahq-classifier-{index:02d}-{attr}")
        assert entry.format == "nvidia-tf-pickle" and len(entry.urls) == 3


def test_catalog_file_names_are_unique():
    files = [e.filename for e in weights.list_entries() if not e.is_zoo]
    assert len(files) == len(set(files))


def test_lpips_linear_weights_resolve_offline_to_a_file_with_the_pinned_sha256(tmp_path):
    # The lpips wheel ships the v0.1 linear weights; the registry pins the upstream blobs' sha256.
    pytest.importorskip("lpips")
    for net in ("vgg", "alex", "squeeze"):
        entry = weights.get_entry(f"lpips-v0.1-{net}-lin")
        path = weights.resolve(entry.name, cache_dir=tmp_path, offline=True)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
        assert path.stat().st_size == entry.size


# ----------------------------------------------------------------------------- register


def _entry(name: str = "test-entry", **kw) -> weights.WeightsEntry:
    defaults = {"kind": "other", "filename": f"{name.replace(':', '-')}.bin", "urls": ["https://example.invalid/x.bin"]}
    return weights.WeightsEntry(name=name, **{**defaults, **kw})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "Bad Name"}, "Argument `name` must be lower-case"),
        ({"kind": "gan"}, "Argument `kind` of weights entry 'test-entry' must be one of"),
        ({"format": "zip"}, "Argument `format`"),
        ({"filename": "../x.bin"}, "Argument `filename`"),
        ({"urls": ["ftp://x/y"]}, "must hold http(s) URLs, but got 'ftp://x/y'"),
        ({"urls": []}, "at least one URL"),
        ({"sha256": "xyz"}, "must be 8 to 64 hex digits"),
        ({"size": 0}, "Argument `size`"),
    ],
)
def test_entry_validation_names_argument_expected_and_given(kwargs, message):
    with pytest.raises(GanevalValueError) as info:
        _entry(**kwargs)
    assert message in str(info.value)


def test_register_refuses_duplicate_names_and_file_names_then_unregisters():
    entry = weights.register(_entry())
    try:
        assert weights.get_entry("test-entry") is entry
        with pytest.raises(GanevalValueError, match="'test-entry' is already registered"):
            weights.register(_entry())
        with pytest.raises(GanevalValueError, match="already the file of 'test-entry'"):
            weights.register(_entry("test-other", filename="test-entry.bin"))
        with pytest.raises(GanevalValueError, match="already the file of 'stylegan2-ffhq-config-f'"):
            weights.register(_entry("test-other", filename="stylegan2-ffhq-config-f.pkl"))
    finally:
        weights.unregister("test-entry")
    with pytest.raises(WeightsNotFoundError, match="registered weights name"):
        weights.get_entry("test-entry")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(WeightsNotFoundError, match="Did you mean 'stylegan2-ffhq-config-f'"):
        weights.resolve("stylegan2-ffhq-config", offline=True)


# ----------------------------------------------------------------------------- local files


def test_resolve_accepts_an_existing_local_file(tmp_path):
    f = tmp_path / "my-gen.pkl"
    f.write_bytes(b"x")
    assert weights.resolve(f) == f
    assert weights.resolve(str(f)) == f
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        weights.resolve(str(tmp_path / "nope.pkl"))


def test_file_placed_by_hand_gets_its_size_checked_then_its_hash_recorded(tmp_path):
    weights.register(_entry("test-hand", size=4))
    try:
        path = weights.local_path("test-hand", cache_dir=tmp_path)
        path.parent.mkdir(parents=True)
        path.write_bytes(b"abc")
        with pytest.raises(ChecksumError, match="has 3 bytes, but the registry expects 4 bytes"):
            weights.resolve("test-hand", cache_dir=tmp_path, offline=True)
        path.write_bytes(b"abcd")
        assert weights.resolve("test-hand", cache_dir=tmp_path, offline=True) == path
        record = json.loads(path.with_name(path.name + ".sha256.json").read_text())
        assert record["sha256"] == hashlib.sha256(b"abcd").hexdigest()
        path.write_bytes(b"abce")  # same size, other bytes: now refused by the recorded hash
        with pytest.raises(ChecksumError, match="recorded at first download"):
            weights.resolve("test-hand", cache_dir=tmp_path, offline=True)
    finally:
        weights.unregister("test-hand")


# ----------------------------------------------------------------------------- zoo cards


def _write_card(folder: Path, name: str, payload: bytes, **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{name}.safetensors"
    file.write_bytes(payload)
    card = {
        "name": name,
        "kind": "generator",
        "file": file.name,
        "sha256": hashlib.sha256(payload).hexdigest(),
        **extra,
    }
    (folder / f"{name}.json").write_text(json.dumps(card))
    return file


def test_zoo_card_resolves_to_the_packaged_file_and_refuses_a_corrupted_one(tmp_path):
    file = _write_card(tmp_path / "pretrained", "test-zoo-gen", b"weights-bytes", licence="MIT")
    (entry,) = weights.load_zoo_cards(tmp_path / "pretrained")
    assert entry.name == "zoo:test-zoo-gen" and entry.kind == "generator" and entry.licence == "MIT"
    weights.register(entry)
    try:
        assert weights.resolve("zoo:test-zoo-gen", offline=True) == file
        assert weights.verify("zoo:test-zoo-gen").ok
        file.write_bytes(b"weights-bytez")
        with pytest.raises(ChecksumError) as info:
            weights.resolve("zoo:test-zoo-gen", offline=True)
        msg = str(info.value)
        assert str(file) in msg
        assert hashlib.sha256(b"weights-bytes").hexdigest() in msg
        assert hashlib.sha256(b"weights-bytez").hexdigest() in msg
        assert weights.verify("zoo:test-zoo-gen").status == "mismatch"
        file.unlink()
        with pytest.raises(WeightsNotFoundError, match="installation is incomplete"):
            weights.resolve("zoo:test-zoo-gen")
    finally:
        weights.unregister("zoo:test-zoo-gen")


def test_zoo_card_missing_a_key_is_reported_with_the_card(tmp_path):
    folder = tmp_path / "pretrained"
    folder.mkdir()
    (folder / "broken.json").write_text(json.dumps({"name": "broken", "file": "broken.safetensors"}))
    with pytest.raises(GanevalValueError) as info:
        weights.load_zoo_cards(folder)
    assert str(folder / "broken.json") in str(info.value) and "kind, sha256" in str(info.value)


def test_native_style_cards_load_and_other_json_files_are_skipped(tmp_path):
    folder = tmp_path / "pretrained"
    folder.mkdir()
    (folder / "g.safetensors").write_bytes(b"g")
    native = {
        "format": "ganeval-native",
        "name": "test-native",
        "kind": "generator",
        "weights": "g.safetensors",
        "sha256": hashlib.sha256(b"g").hexdigest(),
    }
    (folder / "g.json").write_text(json.dumps(native))
    (folder / "notes.json").write_text(json.dumps({"arch_name": "stylegan", "init_kwargs": {}}))
    (entry,) = weights.load_zoo_cards(folder)
    assert entry.name == "zoo:test-native" and entry.format == "native"
    assert entry.packaged_path == folder / "g.safetensors"


def test_packaged_zoo_cards_are_listed_and_verify():
    # Whatever cards the source tree / wheel ships must load and match their sha256.
    from ganeval.weights._registry import _pretrained_files

    cards = [p for p in _pretrained_files() if p.suffix == ".json"]
    zoo = [e for e in weights.list_entries() if e.is_zoo]
    assert len(zoo) >= len(cards)
    for entry in zoo:
        assert weights.verify(entry.name).ok, entry.name


# ----------------------------------------------------------------------------- import hygiene


def test_importing_the_registry_touches_no_network_code_and_prints_nothing():
    code = (
        "import sys, ganeval.weights as w; "
        "assert 'ganeval.weights.download' not in sys.modules; "
        "assert 'urllib.request' not in sys.modules; "
        "assert 'tqdm' not in sys.modules; "
        "w.list_entries(); w.resolve('lpips-v0.1-vgg-lin', offline=True); "
        "assert 'ganeval.weights.download' not in sys.modules"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""
