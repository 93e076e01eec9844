"""A project on disk: ``qualcode.yaml`` (settings) beside ``qualcode.db``.

Commands find their project the way git finds its repository: an explicit
``--project DIR``, else ``$QUALCODE_PROJECT``, else the nearest directory
upwards from the working directory that holds a ``qualcode.yaml``.
"""

from __future__ import annotations

import getpass
import os
import shutil
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from qualcode.errors import ProjectNotFound, QualcodeError
from qualcode.outfile import write_text
from qualcode.settings import CONFIG_NAME, _dataclass_from, _key_line
from qualcode.store import Store, StoreError, open_store

DB_NAME = "qualcode.db"
# shipped codebooks: the repository's codebooks/ folder (editable installs)
# or a copy packaged under qualcode/data/codebooks
_CODEBOOK_DIRS = [
    Path(__file__).resolve().parent.parent / "codebooks",
    Path(__file__).resolve().parent / "data" / "codebooks",
]


@dataclass
class ProjectConfig:
    """Settings kept in ``qualcode.yaml``.

    name: shown in reports and exports.
    language: default language of sessions (``fi``, ``en``, ...; ``auto`` lets
        transcription detect it).
    codebook: path of the codebook YAML, relative to the project directory.
    coder: default coder name for review (else the OS user).
    lead_coder: whose decisions settle disagreements in the reconciled view.
    engine, model: default transcription engine and model.
    segment: segmentation options (see ``qualcode.segment``).
    suggest: suggestion options (see ``qualcode.suggest``).
    """

    name: str
    language: str = "auto"
    codebook: str | None = None
    coder: str | None = None
    lead_coder: str | None = None
    engine: str = "faster-whisper"
    model: str = "base"
    segment: dict = field(default_factory=dict)
    suggest: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ProjectConfig:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f":{mark.line + 1}" if mark else ""
            # PyYAML's own message spans lines (with a snippet): its problem is the point
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            raise QualcodeError(
                f"{path}{line}: not valid YAML ({problem}); fix that line (`qualcode init` "
                "in an empty folder shows a valid qualcode.yaml)"
            ) from e
        if not isinstance(data, dict) or "name" not in data:
            raise QualcodeError(f"{path}: expected a mapping with at least `name:`")
        config = _dataclass_from(cls, data, str(path), line_of=lambda key: _key_line(path, key))
        # the stages' sections are checked now, naming the file and line: a
        # mistyped setting would otherwise stop a command half-way, with
        # only "qualcode.yaml:" to go on
        from qualcode.segment import SegmentOptions
        from qualcode.suggest.options import SuggestOptions

        for section, options in (("segment", SegmentOptions), ("suggest", SuggestOptions)):
            where = f"{path}:{_key_line(path, section)}" if section in data else str(path)
            _dataclass_from(options, data.get(section), where, section)
        return config

    def save(self, path: Path) -> None:
        # a settings file cut off by a full disk would stop every command
        write_text(path, yaml.safe_dump(asdict(self), sort_keys=False, allow_unicode=True))


def normal_name(name: str) -> str:
    """A coder's name in one Unicode form, without surrounding spaces: the
    same name typed on two machines (a Mac writes "ä" as a + ¨) is one."""
    return unicodedata.normalize("NFC", name.strip())


def coder_spelling(name: str, known: Iterable[str]) -> str | None:
    """How a coder ``name`` is spelt in ``known`` when only its case (or
    surrounding spaces) differ; None when it is the same or a new coder."""
    known = list(known)
    if name in known:
        return None
    folded = name.strip().casefold()
    return next((k for k in known if k.strip().casefold() == folded), None)


class Project:
    """An open project: its directory, config and store."""

    def __init__(self, root: Path, *, new: bool = False) -> None:
        self.root = root.resolve()
        self.config_path = self.root / CONFIG_NAME
        self.config = ProjectConfig.load(self.config_path)
        self._store: Store | None = None
        self._new = new  # only `init` may create the database

    @property
    def store(self) -> Store:
        if self._store is None:
            db = self.root / DB_NAME
            # an empty file is what a full disk or a failed sync leaves
            if not self._new and (not db.exists() or db.stat().st_size == 0):
                # an empty new database would look like a project with
                # nothing in it, and every later command would mislead
                raise QualcodeError(
                    f"{db}: the project database is missing or empty; restore qualcode.db from a "
                    f"backup (to start this project again, empty: move {CONFIG_NAME} "
                    f"away and run `qualcode init {self.root}`)"
                )
            try:
                self._store = open_store(db)
            except StoreError as e:
                if "unable to open" not in str(e) and "readonly" not in str(e):
                    raise
                # a read-only folder or mount: SQLite's journal lives beside the file
                raise QualcodeError(
                    f"{db}: cannot open the project database ({e}); qualcode reads and writes "
                    "qualcode.db and keeps its journal in the same folder, so both must be "
                    "writable: check their permissions, or whether the disk is mounted read-only"
                ) from e
        return self._store

    def connect(self) -> Store:
        """A second, separate connection to this project's store, for work in
        another thread (the caller closes it); ``store`` stays this thread's."""
        self.store  # noqa: B018 - the same checks as the main connection
        return open_store(self.root / DB_NAME)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save_config(self) -> None:
        self.config.save(self.config_path)

    @property
    def codebook_path(self) -> Path | None:
        if not self.config.codebook:
            return None
        return (self.root / self.config.codebook).resolve()

    def default_coder(self) -> str:
        return self.config.coder or getpass.getuser() or "coder"

    def coder(self, name: str | None) -> str:
        """The coder to work as: ``name`` (``--coder``), else the default.
        A blank name, or one spelt otherwise than a coder already in the
        project (Amy beside amy), is refused: two spellings of one person
        are two coders, which halves their counts and their agreement."""
        if name is not None and not name.strip():
            raise QualcodeError("--coder is blank; give the coder's name")
        if name is None and self.config.coder is not None and not self.config.coder.strip():
            line = _key_line(self.config_path, "coder")
            raise QualcodeError(
                f"{self.config_path}:{line}: coder: is blank; give a name or remove it"
            )
        # one person typed on two machines ("Päivi" composed or not) is one coder
        who = normal_name(name if name is not None else self.default_coder())
        clash = coder_spelling(who, {*self.store.coders(), *self.store.reviewers()})
        if clash is not None:
            raise QualcodeError(
                f"coder {who!r} is spelt {clash!r} in this project; use that spelling "
                "(coder names are case-sensitive, and two spellings would be two coders)"
            )
        return who

    @property
    def cache_dir(self) -> Path:
        path = self.root / ".qualcode"
        path.mkdir(exist_ok=True)
        return path


def shipped_codebook(name: str) -> Path | None:
    for folder in _CODEBOOK_DIRS:
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return None


def shipped_codebooks() -> list[str]:
    names: set[str] = set()
    for folder in _CODEBOOK_DIRS:
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.yaml"))
    return sorted(names)


def resolve_codebook(name_or_path: str) -> Path:
    """A shipped codebook name (``emessi``) or a path to a YAML file."""
    path = Path(name_or_path)
    # a folder called like a shipped codebook (a project named emessi) is not one
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise QualcodeError(f"{path}: no such codebook file")
        return path
    shipped = shipped_codebook(name_or_path)
    if shipped is None and path.is_dir():
        raise QualcodeError(f"{path}: a folder, not a codebook; give the path to its YAML file")
    if shipped is None:
        raise QualcodeError(
            f"unknown codebook {name_or_path!r}; give a path to a YAML file or one of: "
            + ", ".join(shipped_codebooks())
        )
    return shipped


def find_project(start: str | Path | None = None, explicit: str | Path | None = None) -> Path:
    if explicit is None:
        explicit = os.environ.get("QUALCODE_PROJECT") or None
    if explicit is not None:
        root = Path(explicit)
        if not (root / CONFIG_NAME).is_file():
            raise ProjectNotFound(
                f"{root}: not a qualcode project (no {CONFIG_NAME}); create one with "
                f"`qualcode init {root}`"
            )
        return root
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ProjectNotFound(
        f"no {CONFIG_NAME} in {here} or any folder above it; run `qualcode init DIR` "
        "or pass --project DIR"
    )


def open_project(explicit: str | Path | None = None) -> Project:
    return Project(find_project(explicit=explicit))


def is_language_code(code: str) -> bool:
    """``auto`` or what looks like a language code (fi, en, sme, pt-BR)."""
    from qualcode.codebook import LANG_RE

    return code == "auto" or bool(LANG_RE.match(code))


def normal_language(code: str) -> str:
    """``code`` as language codes are written: a spreadsheet's or a typed
    ``FI`` is fi; a region keeps its case (``pt-BR``), and a locale's
    underscore (``fi_FI``, as operating systems write it) is a hyphen."""
    primary, dash, region = code.strip().replace("_", "-").partition("-")
    return primary.lower() + dash + region


def check_language(code: str) -> str:
    """``code`` as a language code (``normal_language``) when it is one
    (``is_language_code``); a clear error otherwise."""
    normal = normal_language(code)
    if not is_language_code(normal):
        raise QualcodeError(
            f"language {code!r} is not a language code such as fi or en (or auto: detect it)"
        )
    return normal


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a C0/C1 control character (ESC, BEL, NUL, ...):
    typed into a name or value by a stray key, it would reach every report,
    act on terminals and break Excel files."""
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text)


def check_session_name(name: str) -> str:
    """``name`` when it can name a session: not blank (it could not be given
    to --session again) and without control characters."""
    if not name.strip():
        raise QualcodeError("--session: a session needs a name that is not empty")
    if has_control_characters(name):
        raise QualcodeError(f"--session {name!r}: contains a control character; retype it")
    return name


def backup_name(target: Path) -> Path:
    """``NAME.previous-N.ext``, the first N not taken: where a file about to
    be replaced (a codebook, its coded units) is kept."""
    n = 1
    while True:
        candidate = target.with_name(f"{target.stem}.previous-{n}{target.suffix}")
        if not candidate.exists():
            return candidate
        n += 1


def _copy_keeping(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target``; a different file already there (a
    codebook edited in a project whose qualcode.yaml was lost) is kept as
    ``backup_name(target)``."""
    if target.exists() and target.read_bytes() != source.read_bytes():
        shutil.copyfile(target, backup_name(target))
    shutil.copyfile(source, target)


def init_project(
    root: str | Path,
    *,
    codebook: str | None = "emessi",
    language: str = "auto",
    name: str | None = None,
) -> Project:
    """Create ``root/qualcode.yaml`` and ``root/qualcode.db``; copy the codebook
    into the project so it travels with it and can be versioned."""
    from qualcode.codebook import load_codebook

    root = Path(root)
    language = check_language(language)
    if (root / CONFIG_NAME).exists():
        raise QualcodeError(f"{root / CONFIG_NAME}: a project already exists here")
    book_source = resolve_codebook(codebook) if codebook else None
    book = load_codebook(book_source) if book_source else None  # validates before writing
    root.mkdir(parents=True, exist_ok=True)
    config = ProjectConfig(name=name or root.resolve().name, language=language)
    if book_source is not None:
        target = root / "codebooks" / book_source.name
        target.parent.mkdir(exist_ok=True)
        _copy_keeping(book_source, target)
        if book is not None and book.coded_units is not None:
            _copy_keeping(book.coded_units, target.parent / book.coded_units.name)
        config.codebook = str(target.relative_to(root))
    config.save(root / CONFIG_NAME)
    project = Project(root, new=True)
    store = project.store  # the database exists from the start, codebook or not
    if book is not None:
        store.sync_codes(book.flat_codes())
    return project
