"""The engine end to end: learned layer offline, speaker attribution, call-level disclosures, the dev set."""

import json
from collections import Counter

import pytest

from compliance.screening import CallContext, Category, Screener, Speaker, Utterance
from compliance.screening.dataset import (
    DATA_DIR,
    TRAINING_FILES,
    flagged_scores,
    load_calls,
    load_examples,
    screen_examples,
)
from compliance.screening.model import load_layer
from compliance.screening.ngrams import NGRAM_DIM
from compliance.screening.normalize import normalise


@pytest.fixture(scope="module")
def screener(monkeypatch_module: pytest.MonkeyPatch) -> Screener:
    monkeypatch_module.setenv("HF_HUB_OFFLINE", "1")  # the encoder ships inside its package
    return Screener.load()


@pytest.fixture(scope="module")
def monkeypatch_module():  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_verdict_json_has_the_agreed_shape(screener: Screener) -> None:
    verdict = screener.screen([Utterance("7", "Pay today or the police will come for you.", "en", "agent", 3.2, 5.9)])[0]
    line = json.loads(json.dumps(verdict.to_json()))
    assert {"id", "flagged", "categories", "severity", "spans"} <= set(line)
    assert line["id"] == "7" and line["flagged"] and line["categories"] == ["false_legal_threat"]
    assert line["severity"] == "high" and (line["start_s"], line["end_s"]) == (3.2, 5.9)
    span = line["spans"][0]
    assert "Pay today or the police will come for you."[span["start"]:span["end"]] == span["text"]


def test_speaker_decides_the_finding(screener: Screener) -> None:
    said = "I'll sue you and have you arrested."
    agent, debtor = screener.screen([Utterance("a", said, "en", "agent"), Utterance("d", said, "en", "debtor")])
    assert Category.FALSE_LEGAL_THREAT in agent.categories and agent.speaker is Speaker.AGENT
    assert Category.FALSE_LEGAL_THREAT not in debtor.categories
    threat = screener.screen([Utterance("t", "我知道你们公司在哪，明天我拿刀过去找你。", "zh", "debtor")])[0]
    assert threat.categories == (Category.THREAT_VIOLENCE,) and threat.speaker is Speaker.DEBTOR


def test_unknown_speaker_is_read_as_anyone(screener: Screener) -> None:
    verdict = screener.screen([Utterance("x", "Stop calling me.", "en", "")])[0]
    assert verdict.speaker is Speaker.UNKNOWN and Category.CEASE_REQUEST in verdict.categories


def test_the_learned_layer_loads_offline_and_adds_paraphrases(screener: Screener) -> None:
    layer = load_layer()
    assert screener.layer is not None and layer.version in screener.ruleset
    assert set(layer.categories) == set(Category) - {Category.MISSING_DISCLOSURE}
    assert layer.embedding_weights.shape == (len(layer.categories), 512)
    assert layer.ngram_weights.shape == (NGRAM_DIM, len(layer.categories)) and layer.ngram_weights.any()
    verdict = screener.screen([Utterance("p", "Honestly, you are the most brainless human I have spoken to.", "en", "agent")])[0]
    assert [(s.category, s.source) for s in verdict.spans] == [(Category.HARASSMENT_ABUSE, f"model:{layer.version}")]
    assert verdict.spans[0].score is not None and (verdict.spans[0].start, verdict.spans[0].end) == (0, len(verdict.utterance.text))
    lexicons_only = Screener.load(learned=False)
    assert not lexicons_only.screen([verdict.utterance])[0].flagged


@pytest.mark.parametrize(("call_id", "missing"), [(c.id, c.missing) for c in load_calls()])
def test_missing_disclosures_per_jurisdiction(screener: Screener, call_id: str, missing: frozenset[str]) -> None:
    call = next(c for c in load_calls() if c.id == call_id)
    findings = [f for f in screener.screen_call(call.utterances, call.context).findings
                if f.category is Category.MISSING_DISCLOSURE]
    assert {f.source.split(":", 1)[1] for f in findings} == set(missing)
    for finding in findings:
        assert finding.speaker is Speaker.AGENT and finding.start_s == call.utterances[0].start_s


def test_no_disclosure_check_without_a_jurisdiction_or_an_agent(screener: Screener) -> None:
    lines = [Utterance("1", "Hello?", "en", "debtor")]
    assert not screener.screen_call(lines, CallContext()).findings
    assert not screener.screen_call(lines, CallContext(jurisdiction="US")).findings


def test_dev_set_composition() -> None:
    examples = load_examples()
    assert len(examples) >= 400
    langs = Counter(e.utterance.lang for e in examples)
    assert langs["en"] == langs["zh"]
    for lang in ("en", "zh"):
        counts = Counter(c for e in examples if e.utterance.lang == lang for c in e.categories)
        assert all(counts[c] >= 25 for c in Category if c is not Category.MISSING_DISCLOSURE), counts
        assert sum(e.kind == "hard_negative" for e in examples if e.utterance.lang == lang) >= 50
    assert len({e.utterance.id for e in examples}) == len(examples)
    splits = Counter(e.split for e in examples)
    assert splits["train"] > splits["dev"] > 100


def test_acceptance_on_the_dev_set(screener: Screener) -> None:
    """Issue #8: flagged recall >= 0.95 and precision >= 0.90 overall and in each language."""
    examples = load_examples()
    verdicts = screen_examples(screener, examples)
    for lang in ("en", "zh", None):
        pick = [i for i, e in enumerate(examples) if lang is None or e.utterance.lang == lang]
        scores = flagged_scores([examples[i] for i in pick], [verdicts[i] for i in pick])
        assert scores.recall >= 0.95 and scores.precision >= 0.90, (lang, scores)


def test_holdout_is_no_worse_than_measured(screener: Screener) -> None:
    """The holdout set was written after the lexicons froze: this guards the figure reported in the datasheet."""
    examples = load_examples(DATA_DIR / "holdout.jsonl")
    scores = flagged_scores(examples, screen_examples(screener, examples))
    assert scores.precision >= 0.85 and scores.recall >= 0.90, scores


def test_blind_holdout_is_no_worse_than_measured(screener: Screener) -> None:
    """holdout-b.jsonl was written by another hand from the label guide alone and never trained on."""
    examples = load_examples(DATA_DIR / "holdout-b.jsonl")
    verdicts = screen_examples(screener, examples)
    for lang in ("en", "zh"):
        pick = [i for i, e in enumerate(examples) if e.utterance.lang == lang]
        scores = flagged_scores([examples[i] for i in pick], [verdicts[i] for i in pick])
        assert scores.precision >= 0.93 and scores.recall >= 0.95, (lang, scores)


def test_abuse_buried_in_a_long_turn_is_found(screener: Screener) -> None:
    """The layer reads windows of a long utterance: one insult among routine talk flags it, though the lexicons
    miss it and the whole turn's own score stays under the threshold."""
    routine = ("so the balance on the account is four hundred and twelve dollars and the due date was the third "
               "we can set up two payments if that helps you and i can email the form today ")
    text = routine + "and you know what honestly you are the dumbest most pathetic loser i ever talked to " + routine
    assert screener.layer is not None and screener.embedder is not None
    abuse = screener.layer.categories.index(Category.HARASSMENT_ABUSE)
    whole = screener.layer.passage_scores(screener.embedder.encode([text]), [text], ["en"])[0]
    assert whole[abuse] < screener.layer.thresholds[abuse]
    assert not Screener.load(learned=False).screen([Utterance("w", text, "en", "agent")])[0].flagged
    verdict = screener.screen([Utterance("w", text, "en", "agent")])[0]
    assert verdict.categories == (Category.HARASSMENT_ABUSE,) and verdict.spans[0].source.startswith("model:")
    span = verdict.spans[0]  # the window that scored it, for the reviewer to jump to
    assert 0 < span.start < text.index("dumbest") < span.end < len(text) and text[span.start:span.end] == span.text
    assert not screener.screen([Utterance("r", routine + routine, "en", "agent")])[0].flagged


def test_training_files_never_hold_an_evaluated_utterance() -> None:
    def texts(examples: list) -> set[str]:  # type: ignore[type-arg]
        return {" ".join(normalise(e.utterance.text).text.split()) for e in examples}

    trained = [e for name in TRAINING_FILES for e in load_examples(DATA_DIR / name)]
    assert len({e.utterance.id for e in trained}) == len(trained) > 1400
    evaluated = [e for e in load_examples() if e.split == "dev"] + load_examples(DATA_DIR / "holdout.jsonl")
    assert not texts(trained) & texts(evaluated + load_examples(DATA_DIR / "holdout-b.jsonl"))


def test_ordinary_call_talk_is_rarely_flagged(screener: Screener) -> None:
    """The labelled calls' utterances are mostly ordinary talk (a few agents brusque by design) and were never
    trained on: this guards the 9 of 82 reported in the datasheet (19 before ordinary talk was trained on)."""
    verdicts = [v for call in load_calls() for v in screener.screen(call.utterances, call.context)]
    assert len(verdicts) == 82 and sum(v.flagged for v in verdicts) <= 10
    plain = ("Okay.", "好的。", "是我。", "我下周还。", "本次通话将会录音。", "麻烦您转告他回个电话，谢谢。")
    assert sum(v.utterance.text in plain for v in verdicts) == 8  # "Okay." and "好的。" twice
    assert not any(v.flagged for v in verdicts if v.utterance.text in plain)
