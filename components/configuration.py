"""Typed configuration sections, validated once by pydantic, with errors that name the field.

Every section of the training configuration (pipeline, ingest, gridded, model, loss weights,
evaluator) is declared with `section`: a frozen standard dataclass (so `dataclasses.asdict`,
equality, hashing and pickling into Beam and TFX components work as for any dataclass) whose
fields pydantic checks when it is built. Scalars are strict: a string, a boolean or a fraction
is never coerced into an integer (`train_steps: "abc"`, `true` or `2.7` is refused), nor a
number into a string; lists are accepted where a field holds a tuple, since YAML and JSON have no
tuples. Nested sections may be given as mappings.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import (
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)
from pydantic.dataclasses import dataclass

T = TypeVar("T")

Positive = Annotated[StrictInt, Field(ge=1)]
Fraction = Annotated[StrictFloat, Field(ge=0.0, le=1.0)]
OpenFraction = Annotated[StrictFloat, Field(gt=0.0, lt=1.0)]
Name = Annotated[StrictStr, Field(min_length=1)]

_UNKNOWN = {"extra_forbidden", "unexpected_keyword_argument", "unexpected_positional_argument"}
_MISSING = {"missing", "missing_argument", "missing_keyword_argument"}


class ConfigError(ValueError):
    """A configuration is invalid; the message names each bad field by its dotted path."""


def section(cls: type[T]) -> type[T]:
    """`cls` as a frozen dataclass whose fields pydantic checks; unknown keys are errors, and
    building it with bad values raises `ConfigError` (not pydantic's own error) naming them."""
    checked = dataclass(frozen=True, config=ConfigDict(extra="forbid"))(cls)
    init = checked.__init__

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except ValidationError as error:
            raise ConfigError(f"{type(self).__name__}: {describe(error)}") from None

    checked.__init__ = __init__
    return checked


class Section:
    """Conversions shared by every section: to and from the JSON form that crosses into TFX
    components (custom configs, exec and custom properties), and from a file.

    `config_error` is the `ConfigError` subclass that `from_dict`, `from_json` and `load`
    raise (a section may name its own)."""

    config_error: type[ConfigError] = ConfigError

    def to_dict(self) -> dict[str, Any]:
        """The section as JSON-able data (tuples as lists)."""
        return _adapter(type(self)).dump_python(self, mode="json")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls: type[T], data: Any) -> T:
        """The section from `to_dict`'s form; missing keys take their defaults.

        Raises:
            ConfigError: unknown keys, missing required ones, or values of the wrong type or
                out of range, each named by its dotted path.
        """
        return parse(cls, data, cls.config_error)

    @classmethod
    def from_json(cls: type[T], text: str) -> T:
        return parse(cls, json.loads(text), cls.config_error)

    @classmethod
    def load(cls: type[T], path: str | os.PathLike[str]) -> T:
        """The section from a YAML or JSON file of `to_dict`'s keys.

        Raises:
            ConfigError (`config_error`): the file is not YAML, not a mapping, or has unknown,
                missing or invalid fields; the message names the file.
            OSError: the file cannot be read.
        """
        file = Path(path)
        try:
            return parse(cls, read_mapping(file, cls.config_error), cls.config_error)
        except ConfigError as error:
            raise cls.config_error(f"{file}: {error}") from None


def check_range(name: str, pair: tuple[float, float]) -> None:
    """Refuse a (min, max) pair whose min is above its max."""
    if pair[0] > pair[1]:
        raise ValueError(f"{name} {tuple(pair)} is not (min, max) with min <= max")


def read_mapping(file: Path, error: type[ValueError] = ConfigError) -> dict[str, Any]:
    """The mapping a YAML or JSON file holds, or `error` (without the file's name) when it is
    not YAML or not a mapping."""
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as caught:
        raise error(str(caught)) from None
    if not isinstance(data, dict):
        raise error("it is not a mapping of configuration fields")
    return data


def parse(cls: type[T], data: Any, error: type[ValueError] = ConfigError) -> T:
    """`cls` built from a mapping (nested sections as mappings), or `error` naming every
    problem."""
    if not isinstance(data, Mapping):
        raise error(f"expected a mapping, got {type(data).__name__}: {data!r}")
    try:
        return _adapter(cls).validate_python(data)
    except ValidationError as caught:
        raise error(describe(caught)) from None


def describe(error: ValidationError) -> str:
    """One line per problem: `model.width: input should be a valid integer, got '8' (str)`."""
    return "; ".join(_problem(detail) for detail in error.errors(include_url=False))


def _problem(detail: Any) -> str:
    path = _path(detail["loc"])
    if detail["type"] in _UNKNOWN:
        return f"unknown key {path!r}"
    if detail["type"] in _MISSING:
        return f"missing key {path!r}"
    if detail["type"] == "value_error":  # a section's own check: its message names the field
        text = detail["msg"].removeprefix("Value error, ")
    else:
        value = detail["input"]
        text = f"{detail['msg'][:1].lower()}{detail['msg'][1:]}, got {value!r}"
        text += f" ({type(value).__name__})"
    return f"{path}: {text}" if path else text


def _path(loc: tuple[str | int, ...]) -> str:
    """("ingest", "bands", 2) -> "ingest.bands[2]"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


@functools.cache
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)
