"""Script and message templates: saving refuses unknown variables (named) and what the real screener flags
(with the finding), writes versions, audited; rendering fills a case's values with personal data masked; the
agent's desk script for the stage is the saved script template. Case store: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from campaigns import templates_store
from campaigns.scripts import load_scripts
from campaigns.templates import Template, TemplateError, builtins, check, lint
from cases import Store
from cases.models import AuditEntry, Language
from compliance.screening import Screener
from tests.campaigns.assignment_seed import TODAY, add_case


@pytest.fixture(scope="module")
def screener() -> Iterator[Screener]:
    yield Screener.load()  # the whole screener: lexicons and the learned layer


STAGES = tuple(stage.name for stage in load_scripts().stages)


def test_every_built_in_template_passes_the_checks_and_the_screener(screener: Screener) -> None:
    found = builtins()
    assert {(stage, channel, lang) for stage in STAGES for channel in ("script", "sms", "email")
            for lang in ("zh", "en")} == set(found)
    for template in found.values():
        check(template, STAGES)
        lint(template, screener)


@pytest.mark.parametrize(("body", "subject", "variable", "field"), [
    ("您好{name}，请还款{amont}元。", None, "amont", "body"),
    ("Dear {name}, pay {amount}.", "{creditr}: reminder", "creditr", "subject"),
    ("{name.__class__}", None, "name.__class__", "body"),
    ("{amount!r}", None, "amount", "body"),
])
def test_a_template_naming_an_unknown_variable_is_refused_naming_it(body: str, subject: str | None, variable: str,
                                                                    field: str) -> None:
    with pytest.raises(TemplateError) as refused:
        check(Template("reminder", "email" if subject else "sms", "zh", body, subject), STAGES)
    assert refused.value.variable == variable and refused.value.field == field
    assert variable.split(".")[0] in str(refused.value)


@pytest.mark.parametrize(("language", "body", "category"), [
    ("zh", "{name}您好，再不还款我们就通知您的家人和单位领导。", "third_party_disclosure"),
    ("en", "Pay {amount} by {due_date} or we will have you arrested.", "false_legal_threat"),
    ("zh", "{name}，不还钱就让你全家不得安宁。", "harassment_abuse"),
])
def test_a_template_the_screener_flags_is_refused_with_the_finding(store: Store, screener: Screener, language: str,
                                                                   body: str, category: str) -> None:
    with store.session() as session, pytest.raises(TemplateError) as refused:
        templates_store.save(session, Template("early", "sms", language, body), screener=screener, actor="ann")
    assert category in [f["category"] for f in refused.value.findings]
    assert category in str(refused.value) and refused.value.findings[0]["text"]
    with store.reading() as session:
        assert templates_store.versions(session, ("early", "sms", language))[0].version == 0  # nothing saved


def test_saving_writes_the_next_version_audited_and_it_is_the_one_in_use(store: Store, screener: Screener) -> None:
    key = ("reminder", "sms", "zh")
    with store.session() as session:
        first = templates_store.save(session, Template(*key, "【{creditor}】{name}您好，{due_date}应还{amount}元。"),
                                     screener=screener, actor="ann")
        second = templates_store.save(session, Template(*key, "【{creditor}】{name}您好，请于{due_date}前还款{amount}元。"),
                                      screener=screener, actor="bea")
    assert (first.version, second.version) == (1, 2)
    with store.reading() as session:
        assert templates_store.in_use(session)[key] == second
        assert [t.version for t in templates_store.versions(session, key)] == [2, 1, 0]
        assert templates_store.in_use(session)[("reminder", "sms", "en")].version == 0  # still the built-in
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "template.saved")
                                 .order_by(AuditEntry.seq)).all()
        assert [(a.actor, a.details["version"]) for a in audits] == [("ann", 1), ("bea", 2)]


def test_render_fills_the_case_and_masks_personal_data(store: Store, screener: Screener) -> None:
    account = add_case(store, "LN-20261234", dpd=45, balance="5600", overdue="1200.5", name="王小明",
                       national_id="110101199001011234")
    with store.session() as session:
        saved = templates_store.save(session, Template(
            "early", "sms", "zh", "{name}（证件{id_number}）：尾号{account}已逾期{days_past_due}天，应还{amount}{currency}，"
            "余额{balance}，到期日{due_date}。{creditor}"), screener=screener, actor="ann")
    with store.reading() as session:
        by_stage = templates_store.render_for_case(session, account, today=TODAY, channel="sms")
        by_id = templates_store.render_for_case(session, account, today=TODAY, template_id=saved.id)
        script = templates_store.render_for_case(session, account, today=TODAY, channel="script", agent="Amy")
        english = templates_store.render_for_case(session, account, today=TODAY, channel="email", language="en")
    assert by_stage.body == by_id.body == ("王**（证件11************1234）：尾号1234已逾期45天，应还1,200.50CNY，"
                                           "余额5,600.00，到期日2026-10-14。Acme")
    assert by_stage.template.version == 1 and by_stage.template.stage == "early"
    assert "110101199001011234" not in by_stage.body
    assert script.template.channel == "script" and script.subject is None
    assert english.subject == "Acme: your account is past due" and "Dear 王**" in english.body


def test_render_for_an_unknown_account_or_template_is_refused(store: Store) -> None:
    account = add_case(store, "X1", language=Language.EN)
    with store.reading() as session:
        with pytest.raises(TemplateError, match="no account 999"):
            templates_store.render_for_case(session, 999, today=TODAY, channel="sms")
        with pytest.raises(TemplateError, match="no template 77"):
            templates_store.render_for_case(session, account, today=TODAY, template_id=77)
        assert templates_store.render_for_case(session, account, today=TODAY, channel="sms").template.language == "en"


def test_the_desk_shows_the_saved_script_for_the_stage(store: Store, screener: Screener) -> None:
    with store.session() as session:
        templates_store.save(session, Template("late", "script", "zh", "先核实身份。\n说明余额，提出分期方案。\n记录对方选择。"),
                             screener=screener, actor="ann")
    with store.reading() as session:
        scripts = templates_store.desk_scripts(session)
    late = scripts.stage(120)
    shipped = load_scripts().stage(120)
    assert len(shipped.lines) == 4  # the English side stays as shipped; the Chinese side's fourth line is empty
    assert [line.zh for line in late.lines] == ["先核实身份。", "说明余额，提出分期方案。", "记录对方选择。", ""]
    assert [line.en for line in late.lines] == [line.en for line in shipped.lines]
    assert scripts.stage(0) == load_scripts().stage(0)  # other stages as shipped
