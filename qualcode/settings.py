"""Settings files read strictly: every key known, every value of the type
and range its field declares, each refusal naming the file, line and what
to give instead.

``qualcode.yaml`` and the stages' option sections (``segment:``,
``suggest:``) are dataclasses; a mistyped key or a value out of range would
otherwise surface as a traceback deep inside a stage, or silently do
nothing. Kept apart from ``qualcode.project`` (which opens projects) so the
rules live in one place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import MISSING, Field, fields
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from qualcode.errors import QualcodeError

CONFIG_NAME = "qualcode.yaml"


_Options = TypeVar("_Options")


def _key_line(path: Path, key: str) -> int:
    """The line of a top-level key in a YAML file (1 if it cannot be told)."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return 1
    line = 1
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if getattr(k, "value", None) == key:
                line = int(k.start_mark.line) + 1  # the last one wins, as in loading
    return line


def options_from_section(cls: type[_Options], section: str, config: Any) -> _Options:
    """Build a stage's options dataclass from its ``qualcode.yaml`` section
    (``segment:``, ``suggest:``), refusing unknown keys, values of the wrong
    type and values out of the range the field declares."""
    return _dataclass_from(cls, config, CONFIG_NAME, section)


def _dataclass_from(
    cls: type[_Options],
    data: Any,
    where: str,
    section: str = "",
    line_of: Callable[[str], int] | None = None,
) -> _Options:
    """``cls(**data)`` once every key is a field and every value fits the
    field's annotation and the bounds in its metadata (see ``_check_bounds``).

    Checked here rather than where the values are used: a wrong one would
    otherwise surface as a traceback deep inside a stage, or not at all.
    """
    what = f"{section} setting" if section else "setting"
    if data is None:  # a section left empty, its keys all commented out
        data = {}
    if not isinstance(data, dict):
        raise QualcodeError(
            f"{where}: {section or 'the file'} is {_show(data)}, not a mapping; "
            f"give the {what}s as `key: value` lines"
        )
    spec = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(spec), key=str)
    if unknown:
        at = f"{where}:{line_of(str(unknown[0]))}" if line_of else where
        raise QualcodeError(
            f"{at}: unknown {what}(s) {', '.join(map(str, unknown))}; "
            f"known: {', '.join(sorted(spec))}"
        )
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    try:
        for key, value in data.items():
            values[key] = _convert(value, hints[key])
        for key, value in values.items():
            if value is not None:
                _check_bounds(value, spec[key], spec, values)
    except _Refused as e:
        f = spec[key]
        advice = e.advice or f"give {_expected(f, hints[key])}"
        at = f"{where}:{line_of(key)}" if line_of else where
        raise QualcodeError(
            f"{at}: {what} {key}: {_show(data[key])} {e.problem}; {advice}{_default_text(f)}"
        ) from None
    return cls(**values)


class _Refused(Exception):
    """A value a field does not take; ``_dataclass_from`` says where it was.
    ``advice`` replaces the usual "give <what the field takes>"."""

    def __init__(self, problem: str, advice: str = "") -> None:
        super().__init__(problem)
        self.problem, self.advice = problem, advice


def _convert(value: Any, hint: Any) -> Any:
    """``value`` as a field annotated ``hint`` keeps it; ``_Refused`` if it
    is not one."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType):
        if value is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        return _convert(value, others[0]) if len(others) == 1 else value
    if hint is dict or origin is dict:
        if value is None:  # a section whose keys are all commented out
            return {}
        if not isinstance(value, dict):
            raise _Refused("is not a mapping")
        return value
    if value is None:
        raise _Refused("is not allowed")
    if hint is bool:
        if isinstance(value, str):  # "no" would count as true
            raise _Refused("is text, not true or false", "write true or false without quotes")
        if not isinstance(value, bool):
            raise _Refused("is not true or false")
        return value
    if hint is int:
        # YAML's true/false are ints to Python, and 2.0 is not a count
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Refused("is not a whole number")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Refused("is not a number")
        if not math.isfinite(value):  # nan passes every range check
            raise _Refused("is not a finite number")
        # 1 and 1.0 alike: the options' repr keys the model cache
        return float(value)
    if hint is str:
        if not isinstance(value, str):  # language: no is false to YAML
            raise _Refused("is not text", "put it in quotes")
        return value
    if origin in (list, tuple, frozenset, set) and args and args[0] is str:
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise _Refused("is not a list of words", "give a list such as [joo, mm]")
        return origin(value)
    return value


def _check_bounds(value: Any, f: Field, spec: dict[str, Field], values: dict[str, Any]) -> None:
    """The bounds a field declares in its metadata: ``min``/``max`` (closed),
    ``above``/``below`` (open), ``order``: ``("<=" or "<", other field)``
    checked against the other field's given or default value."""
    meta = f.metadata
    if (
        ("min" in meta and value < meta["min"])
        or ("max" in meta and value > meta["max"])
        or ("above" in meta and value <= meta["above"])
        or ("below" in meta and value >= meta["below"])
    ):
        raise _Refused("is out of range")
    if "order" in meta:
        op, other = meta["order"]
        limit = values[other] if other in values else _default(spec[other])
        if limit is not None and not (value <= limit if op == "<=" else value < limit):
            word, bound = ("more than", "at most") if op == "<=" else ("not below", "below")
            raise _Refused(
                f"is {word} {other} ({_show(limit)})",
                f"give a value {bound} {other}, or raise {other}",
            )


def _expected(f: Field, hint: Any) -> str:
    """What a field takes, in words (without its default)."""
    args = get_args(hint)
    nullable = get_origin(hint) in (Union, UnionType) and type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if nullable else hint
    nouns = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    noun = nouns.get(base, "`key: value` lines" if base is dict else "a list of words")
    meta = f.metadata
    if "min" in meta and "max" in meta:
        noun += f" from {meta['min']} to {meta['max']}"
    elif "above" in meta and "below" in meta:
        noun += f" strictly between {meta['above']} and {meta['below']}"
    else:
        words = {"min": "at least", "above": "above", "max": "at most", "below": "below"}
        bounds = [f"{w} {meta[k]}" for k, w in words.items() if k in meta]
        if bounds:
            noun += " of " + " and ".join(bounds)
    return noun + (", or null" if nullable else "")


def _default(f: Field) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def _default_text(f: Field) -> str:
    default = _default(f)
    return "" if default is MISSING else f" (default {_show(default)})"


def _show(value: Any) -> str:
    """A value as YAML writes it (null, true) where Python's repr would differ."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and not value:
        return "{}"
    return repr(value)
