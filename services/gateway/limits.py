"""Bounds every input of the API is held to at the edge, so nothing out of range reaches the database.

PostgreSQL's `integer` holds up to 2^31 - 1 and its text holds no NUL byte: a value past either
used to come back as a 500 from the driver. Each path, query, form and body field takes one of
these types; tests/services/gateway/test_limits.py walks the OpenAPI document and fails on any
integer without a maximum or string without a length, pattern or set of values.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, Field, field_validator

INT32_MAX = 2**31 - 1  # PostgreSQL integer columns: rounds, runs, ledger indexes, key ids
# Hospital, federation and task ids: a letter or digit first, then letters, digits, ".", "_", "-"
# (no "/", no spaces, never empty): they name rows, and hospital ids appear in URLs and file names.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TEXT_MAX = 500
WORD = r"^[a-z_]+$"  # enum-like query values (verdict, status)


def no_control_characters(value: str) -> str:
    """Text without NUL or other C0 control characters (tab and newline are allowed)."""
    bad = next((c for c in value if ord(c) < 32 and c not in "\t\n\r"), None)
    if bad is not None:
        raise ValueError(f"control character U+{ord(bad):04X} is not allowed in text")
    return value


Text = Annotated[str, Field(max_length=TEXT_MAX), AfterValidator(no_control_characters)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(no_control_characters)]
Identifier = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
Positive = Annotated[int, Field(ge=1, le=INT32_MAX)]
NonNegative = Annotated[int, Field(ge=0, le=INT32_MAX)]

# Path and query parameters.
IdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
UuidPath = Annotated[str, Path(pattern=UUID_PATTERN, max_length=36, description="a UUID")]
RoundPath = Annotated[int, Path(ge=1, le=INT32_MAX)]
IndexPath = Annotated[int, Path(ge=0, le=INT32_MAX)]
Offset = Annotated[int, Query(ge=0, le=INT32_MAX)]
IdQuery = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]


class InputModel(BaseModel):
    """A request body: every string in it, at any depth (recipes are free-form), holds no control character."""

    @field_validator("*", mode="after")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        _check(value)
        return value


def _check(value: Any) -> None:
    if isinstance(value, str):
        no_control_characters(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item)
