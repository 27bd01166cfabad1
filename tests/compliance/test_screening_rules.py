"""The lexicon layer as a table: who said what, under which call context, and what it must yield.

Sentences here are illustrations of the rules, not the development set; the lexicons are screened without the
learned layer so that each row tests the curated data alone.
"""

from pathlib import Path

import pytest

from compliance.screening import CallContext, Category, LexiconError, Screener, Utterance
from compliance.screening.categories import LEXICON_DIR
from compliance.screening.lexicon import load_language

TV, FL, HA, TP, CR, DI = (Category.THREAT_VIOLENCE, Category.FALSE_LEGAL_THREAT, Category.HARASSMENT_ABUSE,
                          Category.THIRD_PARTY_DISCLOSURE, Category.CEASE_REQUEST, Category.DISPUTE)


@pytest.fixture(scope="module")
def lexicons() -> Screener:
    return Screener.load(learned=False)


ROWS = [
    # (speaker, text, context, expected categories)
    ("agent", "If you don't pay today we'll have you arrested.", {}, {FL}),
    ("agent", "You will not be arrested; this is a civil matter.", {}, set()),
    ("agent", "The creditor may file a civil suit if the balance stays unpaid.", {}, set()),
    ("agent", "Late payments may be reported to the credit bureaus.", {}, set()),
    ("agent", "We'll sue you next month.", {}, set()),
    ("agent", "We'll sue you next month.", {"time_barred": True}, {FL}),
    ("agent", "We'll garnish your wages, no court needed.", {}, {FL}),
    ("agent", "After a court judgment your wages could be garnished.", {}, set()),
    ("debtor", "I'll sue you for harassment.", {}, set()),
    ("debtor", "Call me again and I'll kill you.", {}, {TV}),
    ("debtor", "This job is killing me.", {}, set()),
    ("debtor", "Damn it, I lost my job again.", {}, set()),
    ("agent", "Damn it, pay the bill.", {}, {HA}),
    ("agent", "We'll call your boss and tell him about the debt.", {}, {TP}),
    ("agent", "We never tell your employer anything.", {}, set()),
    ("agent", "Your son hasn't paid his loan.", {}, {TP}),
    ("agent", "Please ask him to call us back.", {"third_party": True}, set()),
    ("agent", "Please tell him his balance is overdue.", {"third_party": True}, {TP}),
    ("debtor", "Stop calling me.", {}, {CR}),
    ("debtor", "Don't call me before nine.", {}, set()),
    ("debtor", "If I pay today, will you stop calling me?", {}, set()),
    ("debtor", "I don't owe this, it's not my account.", {}, {DI}),
    ("debtor", "I'm not saying I don't owe it.", {}, set()),
    ("agent", "你再不还钱，我们就报警抓你。", {}, {FL}),
    ("agent", "欠款是民事纠纷，不会有人来抓您的。", {}, set()),
    ("agent", "逾期记录会如实报送征信系统。", {}, set()),
    ("agent", "我們會打給你通訊錄裡的所有人。", {}, {TP}),
    ("agent", "我们不会联系您的家人。", {}, set()),
    ("agent", "你这个老赖，要不要脸？", {}, {HA}),
    ("debtor", "妈的，车又坏了。", {}, set()),
    ("debtor", "你再打过来我就弄死你！", {}, {TV}),
    ("debtor", "你们再这样我就去法院告你们。", {}, set()),
    ("agent", "抱歉打断您一下。", {}, set()),
    ("agent", "请您抓紧时间还款。", {}, set()),
    ("debtor", "以后別再打給我了。", {}, {CR}),
    ("debtor", "你们能不能别打了？", {}, {CR}),
    ("debtor", "上班时间别打我电话。", {}, set()),
    ("debtor", "这笔钱不是我借的。", {}, {DI}),
    ("debtor", "我不是不想还，是真的没钱。", {}, set()),
    ("agent", "我们下周就去法院起诉你。", {}, set()),
    ("agent", "我们下周就去法院起诉你。", {"time_barred": True}, {FL}),
]


@pytest.mark.parametrize(("speaker", "text", "context", "expected"), ROWS, ids=[r[1][:30] for r in ROWS])
def test_rule_table(lexicons: Screener, speaker: str, text: str, context: dict, expected: set) -> None:  # type: ignore[type-arg]
    lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"
    verdict = lexicons.screen([Utterance("u", text, lang, speaker)], CallContext(**context))[0]
    assert set(verdict.categories) == expected, [s.source for s in verdict.spans]


def test_every_rule_names_its_source_and_span(lexicons: Screener) -> None:
    verdict = lexicons.screen([Utterance("u", "你们再不还钱，我们就找人打断你的腿。", "zh", "agent")])[0]
    assert verdict.severity is not None and verdict.severity.label == "critical"
    span = verdict.spans[0]
    assert span.source.startswith("lexicon:zh/threat_violence/")
    assert verdict.utterance.text[span.start:span.end] == span.text


def test_a_broken_lexicon_is_refused(tmp_path: Path) -> None:
    for name in ("categories.yaml", "en.yaml", "zh.yaml", "disclosures.yaml"):
        (tmp_path / name).write_text((LEXICON_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    en = tmp_path / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8").replace("<third>", "<nope>", 1), encoding="utf-8")
    with pytest.raises(LexiconError, match="unknown macro"):
        load_language("en", tmp_path)
    en.write_text(en.read_text(encoding="utf-8").replace("rules:\n", "rules:\n  insults_galore: []\n", 1), encoding="utf-8")
    with pytest.raises(LexiconError):
        load_language("en", tmp_path)
