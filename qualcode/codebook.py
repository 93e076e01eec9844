"""Codebooks: the themes coders assign, kept as one YAML file per codebook.

A codebook is the research question made concrete, and it changes while a
study runs: codes get split, merged, renamed. So the YAML must be easy to
write by hand, every mistake in it must be reported with its line (a coder
fixing a typo should not have to guess), and switching a project to a new
version must never lose a decision already made. The store keeps codes that
left the codebook as inactive rows with their decisions; ``use_codebook``
reports what changed instead of dropping anything.

Format (see ``docs/codebook.md``)::

    name: emessi
    version: 1
    languages: [fi, en]
    codes:
      - id: independent_work            # lowercase snake_case, unique
        label: {fi: ..., en: ...}       # or a plain string for every language
        description: {fi: ..., en: ...} # optional, same forms as label
        color: "#1f77b4"                # optional, #rrggbb or #rgb
        keywords: {fi: [...], en: [...]}
        examples: {fi: [...], en: [...]}
        children: [...]

A plain-string ``label``/``description`` (or a plain list of ``keywords``/
``examples``) is stored under every declared language, so consumers can
always look a value up by language.

Keywords come in three forms only, matched by the suggestion stage:
a plain word (matched by lemma or stem: ``deadline`` also matches
``deadlines``), a multi-word phrase (``say no``: the words in that order),
and a wildcard stem ending in ``*`` (``vapaaehtoi*``: any word starting with
``vapaaehtoi``, which is how Finnish inflection is caught).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from qualcode.errors import FormatError, NotFound, QualcodeError
from qualcode.models import Code

if TYPE_CHECKING:
    from qualcode.project import Project

TOP_KEYS = ("name", "version", "languages", "description", "codes", "coded_units")
CODE_KEYS = ("id", "label", "description", "keywords", "examples", "color", "children")
ID_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
COLOR_RE = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$")
# letters (any script), digits, apostrophes, hyphens and spaces; `*` only at the end
KEYWORD_RE = re.compile(r"^[^\W_](?:[\w'’\- ]*[\w'’])?\*?$")
ENGLISH = "en"


@dataclass
class Problem:
    """One thing wrong in a codebook file, where it is and what it is."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass
class CodebookCode:
    """A code as written in the codebook, with everything the suggestion
    stage needs (keywords, examples) that the store does not keep."""

    id: str
    label: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    keywords: dict[str, list[str]] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    color: str | None = None
    children: list[CodebookCode] = field(default_factory=list)
    parent_id: str | None = None
    line: int | None = None

    def label_for(self, lang: str | None = None) -> str:
        """The label in ``lang``, else English, else the first one given."""
        return _pick(self.label, lang) or self.id

    def description_for(self, lang: str | None = None) -> str:
        return _pick(self.description, lang)

    @property
    def is_leaf(self) -> bool:
        return not self.children


def _walk(code: CodebookCode) -> Iterator[CodebookCode]:
    """The code and every code under it, depth-first."""
    yield code
    for child in code.children:
        yield from _walk(child)


def _pick(values: dict[str, str], lang: str | None) -> str:
    if lang and lang in values:
        return values[lang]
    if ENGLISH in values:
        return values[ENGLISH]
    return next(iter(values.values()), "")


@dataclass
class Codebook:
    name: str
    version: str
    languages: list[str]
    codes: list[CodebookCode]
    path: Path | None = None
    description: dict[str, str] = field(default_factory=dict)
    # a CSV of units coded with this codebook (text, codes, lang), next to
    # the YAML: the suggestions learn from it before a project's own decisions
    coded_units: Path | None = None

    def iter_codes(self) -> Iterator[CodebookCode]:
        """Every code, depth-first, parents before their children."""
        return (c for top in self.codes for c in _walk(top))

    def flat_codes(self) -> list[Code]:
        """The codes as the store keeps them, depth-first (parents first, so
        a parent row exists before a child refers to it)."""
        return [
            Code(
                id=c.id,
                label=c.label_for(ENGLISH),
                parent_id=c.parent_id,
                labels=dict(c.label),
                description=dict(c.description),
                color=c.color,
                position=pos,
            )
            for pos, c in enumerate(self.iter_codes())
        ]

    def get(self, code_id: str) -> CodebookCode:
        for c in self.iter_codes():
            if c.id == code_id:
                return c
        raise NotFound(f"no code {code_id!r} in codebook {self.name!r}")

    def leaves(self) -> list[CodebookCode]:
        return [c for c in self.iter_codes() if c.is_leaf]


# -- parsing and validation --------------------------------------------------


class _Parser:
    """Walks the composed YAML node tree so every problem knows its line,
    collecting all problems instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.languages: list[str] = []
        self.seen_ids: dict[str, int | None] = {}
        self._constructor = yaml.SafeLoader("")

    def problem(self, node: yaml.Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(str(self.path), line, message))

    def scalar(self, node: yaml.Node) -> Any:
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError:  # an unsafe or unknown tag such as !!python/name
            return getattr(node, "value", None) if isinstance(node, yaml.ScalarNode) else None

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Key -> (key node, value node), reporting duplicate and non-string keys."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping (key: value lines)")
            return {}
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            key = self.scalar(k) if isinstance(k, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.problem(k, f"{what}: keys must be plain names, not {key!r}")
                continue
            if key in out:
                self.problem(k, f"{what}: key {key!r} given twice; keep one")
                continue
            out[key] = (k, v)
        return out

    def unknown_keys(self, items: dict, known: tuple[str, ...], what: str) -> None:
        for key, (knode, _) in items.items():
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
                self.problem(knode, f"unknown key {key!r} in {what}; {hint}")

    def text(self, node: yaml.Node, what: str) -> str | None:
        value = self.scalar(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
            self.problem(node, f"{what} must be text")
            return None
        text = str(value).strip()
        if not text:
            self.problem(node, f"{what} is empty")
            return None
        return text

    def check_lang(self, node: yaml.Node, lang: str, what: str) -> bool:
        if lang not in self.languages:
            self.problem(
                node,
                f"{what}: language {lang!r} is not in `languages` "
                f"({', '.join(self.languages) or 'none declared'}); add it there or fix the key",
            )
            return False
        return True

    def texts(self, node: yaml.Node, what: str) -> dict[str, str]:
        """A label/description: plain text (every language) or {lang: text}."""
        if isinstance(node, yaml.ScalarNode):
            text = self.text(node, what)
            return {lang: text for lang in self.languages} if text else {}
        out: dict[str, str] = {}
        for lang, (knode, vnode) in self.mapping(node, what).items():
            text = self.text(vnode, f"{what} ({lang})")
            if self.check_lang(knode, lang, what) and text:
                out[lang] = text
        return out

    def lists(self, node: yaml.Node, what: str, check: Any = None) -> dict[str, list[str]]:
        """keywords/examples: {lang: [text, ...]} or a plain list for every language."""
        if isinstance(node, yaml.SequenceNode):
            items = self.string_list(node, what, check)
            return {lang: list(items) for lang in self.languages}
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must map each language to a list, e.g. {{fi: [...]}}")
            return {}
        out: dict[str, list[str]] = {}
        for lang, (knode, vnode) in self.mapping(node, what).items():
            ok = self.check_lang(knode, lang, what)
            if not isinstance(vnode, yaml.SequenceNode):
                self.problem(vnode, f"{what} ({lang}) must be a list of strings, e.g. [a, b]")
                continue
            items = self.string_list(vnode, f"{what} ({lang})", check)
            if ok:
                out[lang] = items
        return out

    def string_list(self, node: yaml.SequenceNode, what: str, check: Any) -> list[str]:
        out: list[str] = []
        for item in node.value:
            value = self.scalar(item) if isinstance(item, yaml.ScalarNode) else None
            if not isinstance(value, str) or not value.strip():
                self.problem(item, f"{what}: every item must be a non-empty string")
                continue
            value = value.strip()
            if check is not None and not check(item, value, what):
                continue
            out.append(value)
        return out

    def keyword_ok(self, node: yaml.Node, word: str, what: str) -> bool:
        if not KEYWORD_RE.match(word) or "  " in word:
            self.problem(
                node,
                f"{what}: {word!r} is not a keyword; use a word, a phrase, or a stem "
                "ending in * (e.g. vapaaehtoi*)",
            )
            return False
        return True

    # -- the document ------------------------------------------------------

    def document(self, root: yaml.Node | None) -> Codebook | None:
        if root is None:
            self.problem(None, "the file is empty; a codebook needs name, languages and codes")
            return None
        top = self.mapping(root, "the codebook")
        if not top:
            return None
        self.unknown_keys(top, TOP_KEYS, "the codebook")
        name = self.text(top["name"][1], "name") if "name" in top else None
        if "name" not in top:
            self.problem(root, "missing `name:` (the codebook's short name)")
        version = "1"
        if "version" in top:
            v = top["version"][1]
            raw = self.scalar(v) if isinstance(v, yaml.ScalarNode) else None
            if raw is None or isinstance(raw, (bool, list, dict)):
                self.problem(v, "version must be a number or text such as 2 or 2024-05")
            else:
                version = str(raw)
        self.languages = self.language_list(top, root)
        description = (
            self.texts(top["description"][1], "description") if "description" in top else {}
        )
        codes: list[CodebookCode] = []
        if "codes" not in top:
            self.problem(root, "missing `codes:` (the list of codes)")
        else:
            codes = self.code_list(top["codes"][1], None, "codes")
        return Codebook(
            name=name or self.path.stem,
            version=version,
            languages=self.languages,
            codes=codes,
            path=self.path,
            description=description,
            coded_units=self.coded_units(top["coded_units"][1], codes)
            if "coded_units" in top
            else None,
        )

    def coded_units(self, node: yaml.Node, codes: list[CodebookCode]) -> Path | None:
        name = self.text(node, "coded_units")
        if name is None:
            return None
        if Path(name).name != name or not name.endswith(".csv"):
            self.problem(node, f"coded_units {name!r} must name a .csv file next to the codebook")
            return None
        path = self.path.parent / name
        if not path.is_file():
            self.problem(node, f"coded_units: no file {path}; put the CSV there or remove the key")
            return None
        from qualcode.gold import read_coded_units

        every = [c for top in codes for c in _walk(top)]
        try:  # its codes must be this codebook's: a rename leaves the CSV behind
            read_coded_units(
                path,
                [c.id for c in every if c.is_leaf],
                [c.id for c in every if not c.is_leaf],
            )
        except FormatError as e:
            self.problems.append(Problem(e.path, e.line, e.detail))
            return None
        return path

    def language_list(self, top: dict, root: yaml.Node) -> list[str]:
        if "languages" not in top:
            self.problem(root, "missing `languages:` (e.g. languages: [fi, en])")
            return []
        node = top["languages"][1]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.problem(node, "languages must be a non-empty list such as [fi, en]")
            return []
        out = []
        for item in node.value:
            lang = self.scalar(item) if isinstance(item, yaml.ScalarNode) else None
            if not isinstance(lang, str) or not LANG_RE.match(lang):
                self.problem(item, f"language {lang!r} is not a language code such as fi or en")
            elif lang in out:
                self.problem(item, f"language {lang!r} listed twice")
            else:
                out.append(lang)
        return out

    def code_list(self, node: yaml.Node, parent: str | None, what: str) -> list[CodebookCode]:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list of codes (lines starting with `- id:`)")
            return []
        if not node.value:
            self.problem(node, f"{what} is empty; give at least one code or remove the key")
        out = []
        for item in node.value:
            code = self.code(item, parent)
            if code is not None:
                out.append(code)
        return out

    def code(self, node: yaml.Node, parent: str | None) -> CodebookCode | None:
        items = self.mapping(node, f"code {_peek_id(node)!r}" if _peek_id(node) else "a code")
        if not items:
            return None
        line = node.start_mark.line + 1
        if "id" not in items:
            self.problem(node, "code without `id:`; give it a lowercase snake_case id")
            cid = f"<line {line}>"
        else:
            idnode = items["id"][1]
            raw = self.scalar(idnode) if isinstance(idnode, yaml.ScalarNode) else None
            cid = str(raw) if raw is not None else f"<line {line}>"
            if not isinstance(raw, str) or not ID_RE.match(raw):
                self.problem(
                    idnode,
                    f"code id {raw!r} must be lowercase snake_case (letters, digits, _), "
                    "e.g. work_sharing",
                )
            elif raw in self.seen_ids:
                self.problem(
                    idnode, f"duplicate code id {raw!r} (first used on line {self.seen_ids[raw]})"
                )
            else:
                self.seen_ids[raw] = idnode.start_mark.line + 1
        what = f"code {cid!r}"
        self.unknown_keys(items, CODE_KEYS, what)
        code = CodebookCode(id=cid, parent_id=parent, line=line)
        if "label" in items:
            code.label = self.texts(items["label"][1], f"{what} label")
            if not code.label and isinstance(items["label"][1], yaml.MappingNode):
                self.problem(items["label"][1], f"{what} has an empty label")
        else:
            self.problem(node, f"{what} has no `label:`; add one (text or {{fi: ..., en: ...}})")
        if "description" in items:
            code.description = self.texts(items["description"][1], f"{what} description")
        if "keywords" in items:
            code.keywords = self.lists(items["keywords"][1], f"{what} keywords", self.keyword_ok)
        if "examples" in items:
            code.examples = self.lists(items["examples"][1], f"{what} examples")
        if "color" in items:
            cnode = items["color"][1]
            color = self.scalar(cnode) if isinstance(cnode, yaml.ScalarNode) else None
            if not isinstance(color, str) or not COLOR_RE.match(color):
                self.problem(
                    cnode,
                    f'{what} colour {color!r} is not #rrggbb or #rgb (quote it: color: "#1f77b4")',
                )
            else:
                code.color = color.lower()
        if "children" in items:
            code.children = self.code_list(items["children"][1], cid, f"{what} children")
        return code


def _peek_id(node: yaml.Node) -> str | None:
    """The code's id before its mapping is checked, to name it in messages."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if (
                isinstance(k, yaml.ScalarNode)
                and k.value == "id"
                and isinstance(v, yaml.ScalarNode)
            ):
                return str(v.value)
    return None


def _parse(path: str | Path) -> tuple[Codebook | None, list[Problem]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(str(path), None, "no such file")]
    except UnicodeDecodeError as e:
        return None, [Problem(str(path), None, f"not UTF-8 text ({e.reason}); save it as UTF-8")]
    except OSError as e:
        return None, [Problem(str(path), None, f"cannot read it ({e.strerror})")]
    parser = _Parser(path)
    try:
        # libyaml when present: about 10x faster, and its nodes carry marks too
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(x for x in (e.context, e.problem) if x)
        return None, [Problem(str(path), line, f"YAML syntax error: {what}")]
    except yaml.YAMLError as e:
        return None, [Problem(str(path), None, f"YAML syntax error: {e}")]
    book = parser.document(root)
    # in file order, so a coder can fix them top to bottom
    return book, sorted(parser.problems, key=lambda p: p.line or 0)


def validate_codebook(path: str | Path) -> list[Problem]:
    """Every problem in the codebook at ``path`` (empty when it is valid)."""
    return _parse(path)[1]


def load_codebook(path: str | Path) -> Codebook:
    """Load and validate a codebook; raise ``FormatError`` on the first problem
    (with the number of further ones, which ``qualcode codebook validate`` lists)."""
    book, problems = _parse(path)
    if problems:
        first = problems[0]
        more = len(problems) - 1
        hint = (
            f" (and {more} more problem{'s' if more > 1 else ''}; "
            f"see `qualcode codebook validate {path}`)"
            if more
            else ""
        )
        raise FormatError(first.path, first.message + hint, first.line)
    assert book is not None
    return book


def project_codebook(project: Project) -> Codebook:
    """The codebook the project's ``qualcode.yaml`` points at."""
    path = project.codebook_path
    if path is None:
        raise QualcodeError(
            f"{project.config_path}: no codebook set; run `qualcode codebook use PATH`"
        )
    return load_codebook(path)
