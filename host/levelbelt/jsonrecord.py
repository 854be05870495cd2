"""Frozen dataclass <-> JSON-ready dict, for the records a session file stores.

Drill events and scores are written as JSON objects and read back by review tools.
Reading checks every field against the dataclass annotations, so a damaged record fails
with a one-line reason naming the field instead of surfacing later as a wrong number.
Supported shapes are the ones the records use: bool, int, float, str, Literal, `X | None`,
`tuple[X, ...]`, `dict[str, X]` and nested record dataclasses. Keys the class does not
know are ignored, so a newer writer's extra fields do not make old readers fail.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from levelbelt.errors import RecordFormatError

T = TypeVar("T")


def to_record(obj: Any) -> dict[str, Any]:
    """A dataclass instance as a dict of JSON types (tuples become lists)."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"expected a dataclass instance, got {type(obj).__name__}")
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_record(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite floats have no JSON form; use None for a missing value")
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def from_record(cls: type[T], data: Mapping[str, Any], what: str = "") -> T:
    """Build `cls` from a dict written by `to_record`; RecordFormatError when it does not fit."""
    label = what or cls.__name__
    if not isinstance(data, Mapping):
        raise RecordFormatError(f"{label}: expected an object, got {type(data).__name__}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init:
            continue
        if f.name not in data:
            has_default = (f.default is not dataclasses.MISSING
                           or f.default_factory is not dataclasses.MISSING)
            if has_default:
                continue
            raise RecordFormatError(f"{label}: missing field {f.name!r}")
        kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{label}.{f.name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise RecordFormatError(f"{label}: {e}") from None


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, where)
            except RecordFormatError as e:
                errors.append(str(e))
        raise RecordFormatError(errors[0] if len(errors) == 1 else f"{where}: unexpected "
                                f"value {value!r}")
    if origin is typing.Literal:
        if value in args and not isinstance(value, bool):
            return value
        raise RecordFormatError(f"{where}: {value!r} is not one of {list(args)}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise RecordFormatError(f"{where}: expected a list, got {type(value).__name__}")
        item = args[0]
        return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise RecordFormatError(f"{where}: expected an object, got {type(value).__name__}")
        return {str(k): _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_record(tp, value, where)
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool) \
                and math.isfinite(value):
            return float(value)
        raise RecordFormatError(f"{where}: expected a finite number, got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise RecordFormatError(f"{where}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise RecordFormatError(f"{where}: expected an integer, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise RecordFormatError(f"{where}: expected a string, got {value!r}")
    raise TypeError(f"{where}: unsupported field type {tp!r}")
