"""Reading a case file: YAML in, a validated :class:`~opensirt.planning.case.Case` out.

Every failure becomes a :class:`~opensirt.errors.CaseFileError` whose message names the
file, the key path (``territories[0].tumours[0].tn_ratio``), the value received, what was
expected and the fix; for an unknown key it suggests the closest known key.

The reading is bounded, so a hostile or mistaken file fails fast: only a regular file of at
most :data:`MAX_CASE_FILE_BYTES` is read (UTF-8, or UTF-16 with a byte-order mark); YAML
aliases of mappings and lists are refused (an "alias bomb" expands a few lines into
billions of values; an alias of a single value is harmless and allowed), as are
nesting deeper than :data:`MAX_NESTING` and more than :data:`MAX_NODES` values.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from opensirt.errors import CaseFileError, InputError
from opensirt.fileio import read_text_file
from opensirt.planning.case import Case

__all__ = ["MAX_CASE_FILE_BYTES", "MAX_NESTING", "MAX_NODES", "format_location", "load_case",
           "parse_case", "parse_yaml"]  # fmt: skip

#: Largest case file read (bytes). A case with 100 tumours is about 10 kB; 1 MiB leaves a
#: hundredfold margin and keeps parsing under a second.
MAX_CASE_FILE_BYTES = 2**20
#: Deepest nesting of mappings and lists (the contract needs 5 levels).
MAX_NESTING = 32
#: Most YAML values (scalars, mappings, lists) in one case file.
MAX_NODES = 100_000
#: Longest value quoted in a message (characters).
_VALUE_CHARS = 80


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (the second would
    silently win), aliases of mappings and lists, nesting deeper than :data:`MAX_NESTING`
    and more than :data:`MAX_NODES` values."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose one node, refusing aliases and bounding depth and count."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if not isinstance(self.anchors.get(event.anchor), yaml.ScalarNode):
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    "a YAML alias (*name) of a mapping or list is not allowed in a case file "
                    "(it can expand a few lines into billions of values); write the value out",
                    event.start_mark,
                )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_NODES} values in one case file", None
            )
        if self._depth >= MAX_NESTING:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"nested deeper than {MAX_NESTING} levels (a case file needs 5)",
                self.peek_event().start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)

# Numbers as YAML 1.2 reads them: plain decimals only. YAML 1.1 (PyYAML's default) reads
# 0150 as octal 104, 1:30 as 90 (base 60) and 5_2 as 52; here those stay text, which the
# case-file check then refuses as "not a valid number", and 1e5 is a number.
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(_INT_TAG, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_UniqueKeyLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _construct_int(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if not re.fullmatch(r"[-+]?[0-9]+", text):
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a decimal integer", node.start_mark
        )
    return int(text)


_UniqueKeyLoader.add_constructor(_INT_TAG, _construct_int)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text with the bounds of a case file (no aliases of mappings or lists, no
    key given twice, at most :data:`MAX_NESTING` levels and :data:`MAX_NODES` values, YAML
    1.2 numbers).

    Parameters
    ----------
    text : str
        The YAML text (read with :func:`opensirt.fileio.read_text_file`, which bounds its size).
    source : str
        The file's name, for the message.

    Returns
    -------
    Any
        The parsed data (mappings, lists, scalars; dates as :class:`datetime.date`).

    Raises
    ------
    InputError
        If the text is not valid YAML or breaks a bound; the message names ``source``.
    """
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}".replace("\n", " ")) from None


def format_location(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a key path.

    Parameters
    ----------
    loc : tuple of int or str
        The location of a pydantic error: keys (str) and list indices (int).

    Returns
    -------
    str
        The key path as the case-file messages write it.

    >>> format_location(("territories", 0, "tumours", 1, "tn_ratio"))
    'territories[0].tumours[1].tn_ratio'
    """
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc`` (None if not a model)."""
    current: Any = Case
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip ``X | None`` and ``Annotated``; keep tuples and models."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(options[0]) if len(options) == 1 else annotation
    return annotation


def _describe(error: ErrorDetails) -> str:
    loc = tuple(error["loc"])
    path = format_location(loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        known = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return (
            f"{path}: unknown key{hint} Known keys here: {', '.join(known)}. "
            "Fix: correct or remove the key."
        )
    if kind == "missing":
        return f"{path}: required key is missing. Fix: add it (see the case-file format)."
    message = error["msg"].removeprefix("Value error, ")
    if kind == "timezone_aware":
        message += " (write it as 2026-11-25T10:00:00+01:00)"
    value = error.get("input")
    if not loc:  # a check across keys: its message names them
        return message
    if isinstance(value, dict | list | tuple):
        return f"{path}: {message}"
    text = repr(value)
    if len(text) > _VALUE_CHARS:
        text = f"{text[:_VALUE_CHARS]}... ({len(text)} characters)"
    return f"{path} is {text}: {message}"


def parse_case(
    data: Any, *, source: str = "case", base_dir: Path | None = None, measured: bool = False
) -> Case:
    """Validate already-parsed case data (a mapping) into a :class:`Case`.

    Parameters
    ----------
    data : mapping
        The case as read from YAML or JSON.
    source : str
        Name of the file, for messages.
    base_dir : Path, optional
        Folder that relative image paths are relative to.
    measured : bool
        The volumes, T/N ratios and lung mass were measured from the images, not typed:
        they are not held to the typed-value ranges of :mod:`opensirt.planning.plausibility`.

    Returns
    -------
    Case
        The validated case.

    Raises
    ------
    CaseFileError
        With one line per problem, each naming the key path, the value and the fix.
    """
    if not isinstance(data, dict):
        raise CaseFileError(
            f"{source}: expected a mapping of keys (opensirt_case: 1, patient: ..., ...), "
            f"found {type(data).__name__}"
        )
    if "opensirt_case" in data and data["opensirt_case"] != 1:
        raise CaseFileError(
            f"{source}: opensirt_case is {data['opensirt_case']!r}, expected 1 (the only case-"
            "file format this version reads); check the file's format version"
        )
    try:
        return Case.model_validate(data, context={"base_dir": base_dir, "measured": measured})
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors(include_url=False)]
        raise CaseFileError(f"{source}: invalid case file:\n  " + "\n  ".join(lines)) from None


def load_case(path: str | Path) -> Case:
    """Read and validate a case file (YAML, format version 1).

    Relative image paths are resolved against the folder of the case file.

    Parameters
    ----------
    path : str or Path
        The case file (YAML, at most :data:`MAX_CASE_FILE_BYTES`).

    Returns
    -------
    Case
        The validated case.

    Raises
    ------
    CaseFileError
        If the file is missing, is not valid YAML (a key given twice included), or does not
        follow the case-file contract; the message names the key path and the fix.
    """
    path = Path(path)
    try:
        text = read_text_file(path, what="case file", max_bytes=MAX_CASE_FILE_BYTES)
    except InputError as exc:
        raise CaseFileError(str(exc)) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CaseFileError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
    return parse_case(data, source=str(path), base_dir=path.resolve().parent)
