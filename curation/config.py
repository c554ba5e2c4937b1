"""Shared helpers for the typed, frozen stage configs: validation messages and JSON round trips."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, TypeVar, get_args, get_type_hints

T = TypeVar("T")


class ConfigError(ValueError):
    """A config field holds a value outside its allowed range."""


def check_range(owner: object, name: str, lo: float | None = None, hi: float | None = None) -> None:
    """Raise ConfigError naming the field, its value and the allowed range when out of bounds."""
    value = getattr(owner, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{type(owner).__name__}.{name} must be a number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        lo_s = "-inf" if lo is None else lo
        hi_s = "inf" if hi is None else hi
        raise ConfigError(f"{type(owner).__name__}.{name} = {value!r} is outside the allowed range [{lo_s}, {hi_s}]")


def to_dict(config: object) -> dict[str, Any]:
    """A config (nested dataclasses) as plain JSON data (tuples become lists), as config.json holds it."""
    return json.loads(json.dumps(dataclasses.asdict(config)))  # type: ignore[arg-type]


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a config from plain data, recursing into nested configs; unknown keys are an error."""
    if not isinstance(data, dict):
        raise ConfigError(f"a {cls.__name__} is a JSON object of its fields, got {type(data).__name__} {data!r:.60}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} field(s) {unknown}; known fields are {sorted(fields)}")
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        nested = [h for h in (hint, *get_args(hint)) if dataclasses.is_dataclass(h)]  # X, or X | None
        if nested and isinstance(value, dict):
            value = from_dict(nested[0], value)  # type: ignore[arg-type]
        elif nested and value is not None and not dataclasses.is_dataclass(value):
            raise ConfigError(f"{cls.__name__}.{name} is an object of {nested[0].__name__} fields, got {value!r:.60}")
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


def load(cls: type[T], path: Path) -> T:
    """Read a config from a JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read config {path}: {e}") from e
    return from_dict(cls, data)
