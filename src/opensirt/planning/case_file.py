"""Reading a case file: YAML in, a validated :class:`~opensirt.planning.case.Case` out.

Every failure becomes a :class:`~opensirt.errors.CaseFileError` whose message names the
file, the key path (``territories[0].tumours[0].tn_ratio``), the value received, what was
expected and the fix; for an unknown key it suggests the closest known key.
"""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from opensirt.errors import CaseFileError
from opensirt.planning.case import Case

__all__ = ["format_location", "load_case", "parse_case"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (the second would
    silently win)."""


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


def format_location(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a key path.

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
    if isinstance(value, dict | list):
        return f"{path}: {message}"
    return f"{path} is {value!r}: {message}"


def parse_case(data: Any, *, source: str = "case", base_dir: Path | None = None) -> Case:
    """Validate already-parsed case data (a mapping) into a :class:`Case`.

    Parameters
    ----------
    data : mapping
        The case as read from YAML or JSON.
    source : str
        Name of the file, for messages.
    base_dir : Path, optional
        Folder that relative image paths are relative to.

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
        return Case.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors(include_url=False)]
        raise CaseFileError(f"{source}: invalid case file:\n  " + "\n  ".join(lines)) from None


def load_case(path: str | Path) -> Case:
    """Read and validate a case file (YAML, format version 1).

    Relative image paths are resolved against the folder of the case file.

    Raises
    ------
    CaseFileError
        If the file is missing, is not valid YAML (a key given twice included), or does not
        follow the case-file contract; the message names the key path and the fix.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read the case file ({exc.strerror})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CaseFileError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
    return parse_case(data, source=str(path), base_dir=path.resolve().parent)
