"""Script and message templates (话术模板): what a template may say, and how it is filled for a case.

Pure: a template is a stage (the scripts' stages by days past due), a channel (`script` for the agent, `sms`,
`email`), a language, a body (and an e-mail subject) with `{variables}` from `VARIABLES`. Before a template
is saved, `check` refuses it when it names a variable we do not know (or uses any other format syntax: a
field's attribute or index could reach past the value), naming the variable, and `lint` refuses it when the
transcript screener (`compliance.screening`) finds a threat, a false legal claim, harassment or a third-party
disclosure in it read as an agent's words, with the finding. Built-in templates (`campaigns/templates.yaml`
for messages, `campaigns/scripts.yaml` for the scripts) pass both; saved versions live in the case store
(`campaigns.templates_store`).

Rendering never shows a whole national ID number or phone number: the values a case gives (`case_values`)
are masked where the channel needs them masked, and there is no variable for an unmasked one.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from campaigns.scripts import LANGUAGES, Scripts, load_scripts
from cases.masking import mask_name, mask_national_id
from compliance.screening.engine import CallContext, Screener, Utterance

TEMPLATES = Path(__file__).parent / "templates.yaml"
CHANNELS = ("script", "sms", "email")
MAX_BODY = 4000
MAX_SUBJECT = 200
VARIABLES: dict[str, str] = {
    "name": "the debtor's name (masked in SMS and e-mail: 张**, J*** S****)",
    "amount": "the overdue amount",
    "balance": "the balance owed",
    "currency": "the account's currency",
    "due_date": "the oldest unpaid due date (YYYY-MM-DD)",
    "days_past_due": "days past due",
    "creditor": "the creditor",
    "account": "the last four characters of the account reference",
    "id_number": "the national ID number, masked (11**************34)",
    "agent": "the agent's name",
}
# What the screener is shown in place of each variable, so that it reads a sentence as the debtor would.
SAMPLE: dict[str, str] = {"name": "张**", "amount": "1,200.00", "balance": "5,600.00", "currency": "CNY",
                          "due_date": "2026-11-30", "days_past_due": "12", "creditor": "Acme", "account": "1234",
                          "id_number": "11**************34", "agent": "Li"}


class TemplateError(ValueError):
    """A template refused; `field` names the part (body, subject, stage, ...), `variable` the unknown one."""

    def __init__(self, message: str, *, field: str, variable: str | None = None,
                 findings: tuple[dict[str, Any], ...] = ()) -> None:
        super().__init__(message)
        self.field, self.variable, self.findings = field, variable, findings


@dataclass(frozen=True)
class Template:
    stage: str
    channel: str
    language: str
    body: str
    subject: str | None = None
    version: int = 0  # 0: built in
    id: int | None = None  # the case store's row, for a saved version
    created_by: str | None = None

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "stage": self.stage, "channel": self.channel, "language": self.language,
                "version": self.version, "builtin": self.version == 0, "subject": self.subject, "body": self.body,
                "created_by": self.created_by}


def variables(text: str, where: str) -> list[str]:
    """The variables `text` uses; TemplateError for an unknown one or for any format syntax beyond `{name}`."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None]
    except ValueError:
        raise TemplateError(f"{where}: unbalanced braces; write {{{{ or }}}} for a literal brace",
                            field=where) from None
    used = []
    for name, spec, conversion in fields:
        if name not in VARIABLES:
            raise TemplateError(f"{where}: unknown variable {{{name}}}; known: {', '.join(VARIABLES)}",
                                field=where, variable=name)
        if spec or conversion:
            raise TemplateError(f"{where}: {{{name}}} takes no format or conversion", field=where, variable=name)
        used.append(name)
    return used


def check(template: Template, stages: tuple[str, ...]) -> None:
    """Refuse a template whose stage, channel, language, lengths or variables are wrong (TemplateError)."""
    if template.stage not in stages:
        raise TemplateError(f"stage: {template.stage!r} is not a stage; stages: {', '.join(stages)}", field="stage")
    if template.channel not in CHANNELS:
        raise TemplateError(f"channel: {template.channel!r}; channels: {', '.join(CHANNELS)}", field="channel")
    if template.language not in LANGUAGES:
        raise TemplateError(f"language: {template.language!r}; languages: {', '.join(LANGUAGES)}", field="language")
    if not template.body.strip() or len(template.body) > MAX_BODY:
        raise TemplateError(f"body: must be 1 to {MAX_BODY} characters", field="body")
    if (template.subject is not None) != (template.channel == "email"):
        raise TemplateError("subject: an e-mail needs a subject, other channels take none", field="subject")
    if template.subject is not None and (not template.subject.strip() or len(template.subject) > MAX_SUBJECT):
        raise TemplateError(f"subject: must be 1 to {MAX_SUBJECT} characters", field="subject")
    variables(template.body, "body")
    if template.subject is not None:
        variables(template.subject, "subject")


def lint(template: Template, screener: Screener) -> None:
    """Refuse a template the screener flags (TemplateError with the findings): each part is read, filled with
    sample values, as an agent speaking to the debtor."""
    parts = [("body", template.body)] + ([("subject", template.subject)] if template.subject else [])
    utterances = [Utterance(f"{part}:{n}", line.format_map(SAMPLE), template.language, "agent")
                  for part, text in parts for n, line in enumerate(text.splitlines()) if line.strip()]
    findings = tuple({"part": verdict.utterance.id.split(":")[0], "category": span.category.value,
                      "text": span.text, "source": span.source}
                     for verdict in screener.screen(utterances, CallContext())
                     for span in verdict.spans if not screener.policies[span.category].action)
    if findings:
        named = "; ".join(f"{f['category']} in {f['part']}: {f['text']!r}" for f in findings)
        raise TemplateError(f"the screener refuses this template: {named}", field=findings[0]["part"],
                            findings=findings)


def render(template: Template, values: dict[str, str]) -> tuple[str | None, str]:
    """(subject, body) filled with `values` (every variable must have one: `case_values` gives them all)."""
    return (None if template.subject is None else template.subject.format_map(values),
            template.body.format_map(values))


def case_values(*, channel: str, full_name: str, national_id: str | None, creditor: str, account_ref: str,
                currency: str, balance: Decimal, overdue_amount: Decimal, due_date: date | None, days_past_due: int,
                agent: str) -> dict[str, str]:
    """Every variable's value for one case. The agent's script carries the debtor's whole name (the agent
    verifies who answered, as the case pop shows it); a message, which anyone holding the phone may read, the
    masked one. The ID number is masked everywhere."""
    return {"name": full_name if channel == "script" else mask_name(full_name),
            "amount": f"{overdue_amount:,.2f}", "balance": f"{balance:,.2f}", "currency": currency,
            "due_date": due_date.isoformat() if due_date else "-", "days_past_due": str(days_past_due),
            "creditor": creditor, "account": account_ref[-4:], "id_number": mask_national_id(national_id),
            "agent": agent}


def _builtin(where: str, raw: Any, stages: tuple[str, ...]) -> Template:
    if not isinstance(raw, dict) or set(raw) - {"stage", "channel", "language", "body", "subject"}:
        raise TemplateError(f"{where}: expected stage, channel, language, body (and subject)", field="file")
    template = Template(str(raw.get("stage")), str(raw.get("channel")), str(raw.get("language")),
                        str(raw.get("body") or ""), raw.get("subject"))
    try:
        check(template, stages)
    except TemplateError as error:
        raise TemplateError(f"{where}: {error}", field=error.field, variable=error.variable) from None
    return template


def parse_builtins(data: Any, scripts: Scripts, where: str = TEMPLATES.name) -> dict[tuple[str, str, str], Template]:
    """The built-in templates by (stage, channel, language): the messages of `data` and the scripts' stages."""
    stages = tuple(stage.name for stage in scripts.stages)
    if not isinstance(data, dict) or not data.get("version") or not isinstance(data.get("templates"), list):
        raise TemplateError(f"{where}: a mapping with a version and a list of templates", field="file")
    found: dict[tuple[str, str, str], Template] = {}
    for stage in scripts.stages:
        for lang in LANGUAGES:
            found[(stage.name, "script", lang)] = Template(stage.name, "script", lang,
                                                           "\n".join(getattr(line, lang) for line in stage.lines))
    for n, raw in enumerate(data["templates"]):
        template = _builtin(f"{where}: templates[{n}]", raw, stages)
        key = (template.stage, template.channel, template.language)
        if key in found:
            raise TemplateError(f"{where}: templates[{n}]: {key} given twice", field="file")
        found[key] = template
    return found


@cache
def builtins(path: Path = TEMPLATES) -> dict[tuple[str, str, str], Template]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"{path.name}: {error}", field="file") from None
    return parse_builtins(data, load_scripts(), path.name)
