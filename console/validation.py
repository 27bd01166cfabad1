"""Bounded readers for what arrives over HTTP: query parameters, header values, JSON bodies and their fields.

Pure: a raw value and the name the client knows it by go in; a checked value comes out, or `BadParameter` /
`BadJson` naming what was wrong in our words. Nothing here trusts a length, a number's size or a nesting
depth it has not checked first, and no message quotes Python's own error text.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from console.errors import BadJson, BadParameter

MAX_BODY_BYTES = 64 * 1024  # the largest JSON body the API reads: a campaign with a long segment is ~2 KB
MAX_JSON_DEPTH = 16  # a campaign nests 3 deep; json.loads recurses once per level, so this is checked first
MAX_AMOUNT = Decimal(10) ** 12  # balances are stored with 2 places; a trillion is past any one debt
MAX_AMOUNT_PLACES = 4
MAX_AMOUNT_TEXT = 32

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,18}")  # ASCII digits only: int() would also take "٣" and "1_000"
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def integer(raw: object, name: str, *, minimum: int, maximum: int) -> int:
    """A whole number: JSON's own, or a query string's decimal digits."""
    if isinstance(raw, str) and _WHOLE_NUMBER.fullmatch(raw):
        value = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        raise BadParameter(name, "expected a whole number")
    if not minimum <= value <= maximum:
        raise BadParameter(name, f"must be from {minimum} to {maximum}")
    return value


def number(raw: object, name: str, *, minimum: float, maximum: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise BadParameter(name, "expected a number")
    if not minimum <= raw <= maximum:  # compared before float(): a 400-digit int would overflow; NaN fails here
        raise BadParameter(name, f"must be from {minimum} to {maximum}")
    return float(raw)


def amount(raw: object, name: str, *, minimum: Decimal = -MAX_AMOUNT, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A finite decimal (no NaN, sNaN or Infinity, which SQL cannot compare) of bounded size and precision."""
    problem = f"expected an amount from {minimum} to {maximum} with at most {MAX_AMOUNT_PLACES} decimal places"
    if isinstance(raw, bool) or not isinstance(raw, str | int | float) or len(str(raw)) > MAX_AMOUNT_TEXT:
        raise BadParameter(name, problem)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BadParameter(name, problem) from None
    exponent = value.as_tuple().exponent
    if not value.is_finite() or not isinstance(exponent, int) or exponent < -MAX_AMOUNT_PLACES \
            or not minimum <= value <= maximum:
        raise BadParameter(name, problem)
    return value


def text(raw: object, name: str, *, max_length: int, min_length: int = 0) -> str:
    """A string of bounded length, free of control characters (PostgreSQL refuses NUL) and lone surrogates
    (which no database encoding can store)."""
    if not isinstance(raw, str):
        raise BadParameter(name, "expected text")
    if not min_length <= len(raw) <= max_length:
        raise BadParameter(name, f"must be {min_length} to {max_length} characters long")
    if any(unicodedata.category(character) in ("Cc", "Cs") for character in raw):
        raise BadParameter(name, "must not contain control characters")
    return raw


def optional_text(raw: object, name: str, *, max_length: int) -> str | None:
    return None if raw is None else text(raw, name, max_length=max_length)


def choice(raw: object, name: str, choices: Collection[str]) -> str:
    if not isinstance(raw, str) or raw not in choices:
        raise BadParameter(name, f"must be one of {sorted(choices)}")
    return raw


def items(raw: object, name: str, *, max_items: int) -> list[Any]:
    if not isinstance(raw, list):
        raise BadParameter(name, "expected a list")
    if len(raw) > max_items:
        raise BadParameter(name, f"at most {max_items} items")
    return raw


def strings(raw: object, name: str, *, max_items: int, max_length: int) -> tuple[str, ...]:
    return tuple(text(item, name, max_length=max_length) for item in items(raw, name, max_items=max_items))


def json_object(raw: object, name: str, *, fields: Collection[str]) -> dict[str, Any]:
    """A JSON object whose keys are all known: a misspelt filter must not widen a campaign silently."""
    if not isinstance(raw, dict):
        raise BadParameter(name, "expected an object")
    unknown = [key for key in raw if key not in fields]
    if unknown:
        raise BadParameter(f"{name}.{unknown[0][:64]}" if name else unknown[0][:64],
                           f"unknown field; known: {sorted(fields)}")
    return raw


def required(body: Mapping[str, Any], field: str) -> Any:
    if body.get(field) is None:
        raise BadParameter(field, "is required")
    return body[field]


def nesting_depth(document: str) -> int:
    """How deep brackets nest, counted in one pass over the text (strings removed) without recursion."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", document)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _no_constant(constant: str) -> Any:
    raise BadJson(f"{constant} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise BadJson("a number in the body is out of range")
    return value


def parse_json_object(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """One JSON object from a body already bounded in size (see MAX_BODY_BYTES)."""
    try:
        document = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadJson("the body is not UTF-8 text") from None
    if nesting_depth(document) > max_depth:
        raise BadJson(f"the body nests too deep (at most {max_depth} levels)")
    try:
        value = json.loads(document, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        raise BadJson(f"the body is not valid JSON (line {error.lineno}, column {error.colno})") from None
    except ValueError:  # an integer literal past Python's digit limit
        raise BadJson("a number in the body is out of range") from None
    if not isinstance(value, dict):
        raise BadJson("the body must be a JSON object")
    return value
