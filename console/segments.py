"""Segments as the API reads them: from /api/cases' query string, or from a campaign body's `segment` object.
Both are bounded the same way (`console.validation`); an unknown days-past-due bucket is `bad_segment`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from cases.segments import Segment, UnknownBucket
from console.errors import BadParameter
from console.validation import amount, integer, json_object, strings

if TYPE_CHECKING:
    from multidict import MultiMapping

MAX_VALUES = 50  # values one list filter may hold
MAX_VALUE_LENGTH = 64
MAX_DAYS = 3650

AMOUNTS = ("min_balance", "max_balance")
DAYS = ("not_contacted_for_days", "contacted_within_days")
LISTS = tuple(f.name for f in dataclasses.fields(Segment) if str(f.type).startswith("tuple"))
QUERY_LISTS = {"dpd": "dpd", "region": "regions", "product": "products", "language": "languages",
               "jurisdiction": "jurisdictions"}  # query parameter -> Segment field


class BadSegment(BadParameter):
    error_id = "bad_segment"


def _segment(values: dict[str, Any], dpd_name: str) -> Segment:
    try:
        return Segment(**values)
    except UnknownBucket as error:
        raise BadSegment(dpd_name, str(error)) from None


def _values(raw: object, name: str) -> tuple[str, ...]:
    return strings(raw, name, max_items=MAX_VALUES, max_length=MAX_VALUE_LENGTH)


def segment_from_query(query: MultiMapping[str]) -> Segment:
    """`?dpd=31-60,61-90&region=Guangdong&min_balance=100`: lists repeat or use commas."""
    values: dict[str, Any] = {
        field: _values([v for value in query.getall(name, ()) for v in value.split(",") if v], name)
        for name, field in QUERY_LISTS.items()}
    values.update({name: amount(query[name], name) for name in AMOUNTS if name in query})
    return _segment(values, "dpd")


def segment_from_body(raw: object, name: str = "segment") -> Segment:
    data = json_object(raw, name, fields=LISTS + AMOUNTS + DAYS)
    values: dict[str, Any] = {}
    for key, value in data.items():
        label = f"{name}.{key}"
        if value is not None:
            values[key] = (amount(value, label) if key in AMOUNTS
                           else integer(value, label, minimum=0, maximum=MAX_DAYS) if key in DAYS
                           else _values(value, label))
    return _segment(values, f"{name}.dpd")
