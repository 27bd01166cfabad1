"""Templates in the case store: save a new version (checked and screened first, audited), list and show them,
resolve the one in use, render it for a case — the call the SMS and e-mail senders make — and give the agent
desktop the scripts with the saved script templates in place (`desk_scripts`).

The template in use for (stage, channel, language) is its newest saved version, else the built-in one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.scripts import Scripts, load_scripts
from campaigns.templates import Template, TemplateError, builtins, case_values, check, lint, render
from cases.audit import record
from cases.models import Account, Debtor, MessageTemplate
from compliance.screening import Screener

Key = tuple[str, str, str]  # (stage, channel, language)


@dataclass(frozen=True)
class Rendered:
    template: Template
    account_id: int
    subject: str | None
    body: str

    def json(self) -> dict[str, Any]:
        return {"template_id": self.template.id, "stage": self.template.stage, "channel": self.template.channel,
                "language": self.template.language, "version": self.template.version,
                "account_id": self.account_id, "subject": self.subject, "body": self.body}


def _template(row: MessageTemplate) -> Template:
    return Template(row.stage, row.channel, row.language, row.body, row.subject, row.version, row.id, row.created_by)


def stages() -> tuple[str, ...]:
    return tuple(stage.name for stage in load_scripts().stages)


def save(session: Session, template: Template, *, screener: Screener, actor: str) -> Template:
    """Write `template` as the next version of its key, once `check` and `lint` pass (TemplateError otherwise,
    nothing written); audited."""
    check(template, stages())
    lint(template, screener)
    key = (template.stage, template.channel, template.language)
    last = session.scalar(select(func.max(MessageTemplate.version)).where(
        MessageTemplate.stage == key[0], MessageTemplate.channel == key[1], MessageTemplate.language == key[2]))
    row = MessageTemplate(stage=key[0], channel=key[1], language=key[2], version=(last or 0) + 1,
                          subject=template.subject, body=template.body, created_by=actor)
    session.add(row)
    session.flush()
    record(session, actor=actor, action="template.saved", entity="template", entity_id=row.id,
           details={"stage": row.stage, "channel": row.channel, "language": row.language, "version": row.version})
    return _template(row)


def in_use(session: Session) -> dict[Key, Template]:
    """The template in use for every key: the newest saved version, else the built-in."""
    newest = (select(MessageTemplate.stage, MessageTemplate.channel, MessageTemplate.language,
                     func.max(MessageTemplate.version).label("version"))
              .group_by(MessageTemplate.stage, MessageTemplate.channel, MessageTemplate.language).subquery())
    rows = session.scalars(select(MessageTemplate).join(newest, (MessageTemplate.stage == newest.c.stage)
                                                        & (MessageTemplate.channel == newest.c.channel)
                                                        & (MessageTemplate.language == newest.c.language)
                                                        & (MessageTemplate.version == newest.c.version)))
    return builtins() | {(row.stage, row.channel, row.language): _template(row) for row in rows}


def versions(session: Session, key: Key) -> list[Template]:
    """Every saved version of `key`, newest first, then the built-in one (if any)."""
    rows = session.scalars(select(MessageTemplate).where(
        MessageTemplate.stage == key[0], MessageTemplate.channel == key[1], MessageTemplate.language == key[2])
        .order_by(MessageTemplate.version.desc()))
    builtin = builtins().get(key)
    return [_template(row) for row in rows] + ([builtin] if builtin else [])


def by_id(session: Session, template_id: int) -> Template:
    row = session.get(MessageTemplate, template_id)
    if row is None:
        raise TemplateError(f"no template {template_id}", field="id")
    return _template(row)


def render_for_case(session: Session, account_id: int, *, today: date, channel: str | None = None,
                    template_id: int | None = None, stage: str | None = None, language: str | None = None,
                    agent: str = "") -> Rendered:
    """A template filled for an account: the one given by id, or the one in use for the stage (by default the
    account's on `today`, by days past due) on `channel` in `language` (by default the debtor's)."""
    found = session.execute(select(Account, Debtor).join(Debtor, Debtor.id == Account.debtor_id)
                            .where(Account.id == account_id)).first()
    if found is None:
        raise TemplateError(f"no account {account_id}", field="account")
    account, debtor = found
    days = account.days_past_due(today)
    if template_id is not None:
        template = by_id(session, template_id)
    elif channel is None:
        raise TemplateError("give a template id, or a channel (and optionally stage and language)", field="channel")
    else:
        key = (stage or load_scripts().stage(days).name, channel, language or debtor.language.value)
        template = in_use(session).get(key)  # type: ignore[assignment]
        if template is None:
            raise TemplateError(f"no {key[1]} template for stage {key[0]} in {key[2]}", field="channel")
    values = case_values(channel=template.channel, full_name=debtor.full_name, national_id=debtor.national_id,
                         creditor=account.creditor, account_ref=account.account_ref, currency=account.currency,
                         balance=account.balance, overdue_amount=account.overdue_amount, due_date=account.due_date,
                         days_past_due=days, agent=agent)
    subject, body = render(template, values)
    return Rendered(template, account_id, subject, body)


def desk_scripts(session: Session) -> Scripts:
    """`campaigns/scripts.yaml`'s scripts with each stage's saved script template (per language) in place."""
    saved = {(key[0], key[2]): tuple(template.body.splitlines()) for key, template in in_use(session).items()
             if key[1] == "script" and template.version}
    return load_scripts().with_lines(saved) if saved else load_scripts()
