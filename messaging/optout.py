"""Opt-out replies: a mobile-originated "STOP", "TD", "退订" or "UNSUBSCRIBE" (any case, surrounding blanks and a
final full stop ignored) asks for no more messages on that channel. Only the whole reply counts: "don't stop
calling" is not an opt-out."""

from __future__ import annotations

OPT_OUT_WORDS = frozenset({"stop", "td", "退订", "unsubscribe"})


def is_opt_out(text: str) -> bool:
    return text.strip().rstrip(".。!！").strip().casefold() in OPT_OUT_WORDS
