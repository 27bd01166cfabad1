"""Prompt text templates: `{name}` inserts a variable, `{name|amount}` speaks it with `speech.spoken`.

Filters: `amount` (uses the `currency` variable), `date`, `digits`, `number`. A missing variable is an
error naming it: a prompt must never be spoken with a hole in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from speech import spoken

_FIELD = re.compile(r"\{(\w+)(?:\|(\w+))?\}")


class TemplateError(KeyError):
    """A template that names a variable or filter that is not there."""


def render(template: str, variables: Mapping[str, Any], language: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, how = match.group(1), match.group(2)
        if name not in variables:
            raise TemplateError(f"prompt needs variable {name!r}")
        value = variables[name]
        if how is None:
            return str(value)
        if how == "amount":
            return spoken.amount(Decimal(str(value)), str(variables.get("currency", "CNY")), language)
        if how == "date":
            return spoken.date(value if isinstance(value, date) else date.fromisoformat(str(value)), language)
        if how == "digits":
            return spoken.digits(str(value), language)
        if how == "number":
            return spoken.number(int(value), language)
        raise TemplateError(f"unknown filter {how!r} for {name!r}")
    return _FIELD.sub(replace, template)
