"""The messages the rules require, and the checks that keep them within what the rules allow.

Safe-harbour (played within 2 s when an answered call finds no agent): it must name the company, give a
number to call back, and offer a key to opt out of further calls. Limited-content voicemail (dropped
after the beep): only the company's name (one that does not say debt collection), a request to call
back, a person's name and a phone number; nothing about a debt, an amount, a due date or the debtor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_FIELD = re.compile(r"\{(\w+)(?:\|(\w+))?\}")
VOICEMAIL_FIELDS = frozenset({"company", "person", "phone"})
# Words that would tell a third party (who may hear the voicemail) that this is about a debt.
DEBT_WORDS = ("debt", "collect", "overdue", "owe", "balance", "payment", "arrears", "loan", "credit",
              "欠款", "催收", "逾期", "还款", "债", "余额", "贷款", "欠")


class MessageError(ValueError):
    """A required-message template that does not meet its rule."""


@dataclass(frozen=True)
class MessageTemplates:
    safe_harbour: Mapping[str, str]
    voicemail: Mapping[str, str]


DEFAULT_TEMPLATES = MessageTemplates(
    safe_harbour={
        "zh": "您好，这里是{company}。刚才的来电暂时无法为您接通，请拨打{phone}回电。如不希望再接到我们的电话，请按9。",
        "en": "Hello, this is {company}. We are sorry we could not connect your call. Please call us back on "
              "{phone}. To stop further calls from us, press 9.",
    },
    voicemail={
        "zh": "您好，我是{company}的{person}，请回电{phone}。谢谢。",
        "en": "Hello, this is {person} from {company}. Please call us back on {phone}. Thank you.",
    },
)


def check_voicemail(template: str, company: str) -> None:
    fields = {match.group(1) for match in _FIELD.finditer(template)}
    if fields - VOICEMAIL_FIELDS:
        raise MessageError(f"voicemail may only use {sorted(VOICEMAIL_FIELDS)}, not {sorted(fields - VOICEMAIL_FIELDS)}")
    if not {"company", "phone"} <= fields:
        raise MessageError("voicemail must give the company's name and a phone number")
    for text, what in ((template, "voicemail text"), (company, "company name")):
        lowered = _FIELD.sub("", text).lower()
        found = [word for word in DEBT_WORDS if word in lowered]
        if found:
            raise MessageError(f"{what} must not reveal a debt (found {found[0]!r})")


def check_safe_harbour(template: str) -> None:
    fields = {match.group(1) for match in _FIELD.finditer(template)}
    if not {"company", "phone"} <= fields:
        raise MessageError("safe-harbour message must name the company and give a number to call back")
    if not re.search(r"(press|按)\s*\d", template, re.IGNORECASE):
        raise MessageError("safe-harbour message must offer a key to opt out of further calls")


def message_text(template: str, values: Mapping[str, str]) -> str:
    return _FIELD.sub(lambda match: values[match.group(1)], template)
