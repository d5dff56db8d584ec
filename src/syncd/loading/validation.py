"""A strictly read document → a `Destination`, or problems at the key or value concerned.

Pydantic's errors are translated, never echoed: they are taken without their input
(an inline API key must not be printed back), placed at the best line and column
the YAML reader recorded, and worded for a person editing YAML:

    spec.mapping.email: required field is missing
    spec.bogus: unknown key (allowed: displayName, suspend, ...)
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from syncd.destinations import (
    CUSTOM_FIELD_NAME_PATTERN,
    LIST_ID_PATTERN,
    NAME_PATTERN,
    Destination,
)
from syncd.loading.problems import Problem, format_path, mask_secrets
from syncd.loading.yaml_reading import DataPath, Document, NodeInfo, Place

_PATTERN_HINTS = {
    NAME_PATTERN: (
        "should be a lowercase name of at most 63 characters: a-z, 0-9 and '-', "
        "starting and ending with a letter or digit"
    ),
    LIST_ID_PATTERN: (
        "should be the id of a SendGrid list, a UUID such as 7f3c2a9e-1b4d-4c8e-9a52-3e6f0b1d2c4a"
    ),
    CUSTOM_FIELD_NAME_PATTERN: (
        "should be a custom field name: letters, digits and _, not starting with a digit, "
        "at most 100 characters"
    ),
}
_MAPPING_TYPES = {"model_type", "model_attributes_type", "dict_type"}
_COLLECTIONS = {"a mapping", "a list"}


def validate(document: Document, file: str) -> tuple[Destination | None, tuple[Problem, ...]]:
    """The destination a document declares, or every reason it does not declare one."""
    if document.data is None:
        return None, document.problems
    try:
        return Destination.model_validate(document.data), ()
    except ValidationError as error:
        details = error.errors(include_input=False, include_url=False, include_context=True)
        return None, tuple(_problem(detail, document.nodes, file) for detail in details)
    except Exception as error:  # one file must never break the whole catalog
        # A validator raising something pydantic does not convert (an OverflowError from
        # a huge duration, say). Only the type is shown: its message may quote the value.
        message = f"could not be validated ({type(error).__name__}); please report this syncd bug"
        return None, (Problem(file, None, None, message),)


def _problem(detail: ErrorDetails, nodes: Mapping[DataPath, NodeInfo], file: str) -> Problem:
    loc = tuple(detail["loc"])
    about_key = bool(loc) and loc[-1] == "[key]"
    path: DataPath = loc[:-1] if about_key else loc
    node = nodes.get(path)
    place = place_of(path, node, nodes, entry=about_key or detail["type"] == "extra_forbidden")
    message = _message(detail, path, node)
    if about_key:
        message = f"invalid key: {message}"
    return Problem(file, place.line, place.column, f"{format_path(path)}: {mask_secrets(message)}")


def place_of(
    path: DataPath, node: NodeInfo | None, nodes: Mapping[DataPath, NodeInfo], *, entry: bool
) -> Place:
    """The node itself if it exists (its key for key errors and mappings), else its nearest
    ancestor's entry: a missing `email` is reported at `mapping:`."""
    if node is not None:
        return node.entry if entry or node.kind in _COLLECTIONS else node.place
    for length in range(len(path) - 1, -1, -1):
        ancestor = nodes.get(path[:length])
        if ancestor is not None:
            return ancestor.entry
    return Place(1, 1)


def _message(detail: ErrorDetails, path: DataPath, node: NodeInfo | None) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = allowed_keys(path[:-1])
        return f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
    if kind == "string_pattern_mismatch":
        pattern = (detail.get("ctx") or {}).get("pattern")
        text = _PATTERN_HINTS.get(str(pattern)) or _reworded(detail["msg"])
    elif kind in _MAPPING_TYPES:
        text = "should be a mapping (key: value)"
    elif kind == "list_type":
        text = "should be a list"
    elif kind == "string_type" and node is not None and node.plain and node.kind != "null":
        return (
            f"should be text, but YAML reads this unquoted value as {node.kind}; put it in quotes"
        )
    else:
        text = _reworded(detail["msg"])
    if node is not None and node.kind == "null":
        return f"is empty; {text}"
    return text


def _reworded(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    for subject in ("Input ", "String ", "List ", "Dictionary ", "Value "):
        if message.startswith(subject + "should"):
            return message[len(subject) :]
    return message[:1].lower() + message[1:]


def allowed_keys(path: DataPath) -> tuple[str, ...]:
    """The keys the model accepts at `path` (as written in YAML), or () when not a model."""
    model = _model_at(path)
    if model is None:
        return ()
    return tuple(info.alias or name for name, info in model.model_fields.items())


def _model_at(path: DataPath) -> type[BaseModel] | None:
    current: Any = Destination
    for part in path:
        current = _unwrapped(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            by_alias = {info.alias or name: info for name, info in current.model_fields.items()}
            if not isinstance(part, str) or part not in by_alias:
                return None
            current = by_alias[part].annotation
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict and isinstance(part, str):
            current = get_args(current)[1]
        else:
            return None
    current = _unwrapped(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrapped(annotation: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` → X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
