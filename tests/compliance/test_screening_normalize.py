"""Normalisation keeps a map back to the original characters, whatever it folds."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.screening.normalize import chinese_number, normalise


@pytest.mark.parametrize(("raw", "folded"), [
    ("ＳＴＯＰ　Ｃａｌｌｉｎｇ！", "stop calling!"),          # full width -> half width, case
    ("我們會打給你的通訊錄", "我们会打给你的通讯录"),          # traditional -> simplified
    ("一天打一百个电话，打二十次", "一天打100个电话,打20次"),  # numerals with a place value
    ("千万别挂电话，万一有事", "千万别挂电话,万一有事"),        # adverbs stay words
    ("you’ll regret it", "you'll regret it"),                 # curly apostrophe
])
def test_folds(raw: str, folded: str) -> None:
    assert normalise(raw).text == folded


@pytest.mark.parametrize(("run", "value"), [("一百", 100), ("二十", 20), ("十五", 15), ("三千五百", 3500),
                                           ("两万", 20000), ("一百零五", 105), ("二零二四", 2024), ("万一", None)])
def test_chinese_numbers(run: str, value: int | None) -> None:
    assert chinese_number(run) == value


def test_spans_map_back_to_the_original() -> None:
    raw = "你再不還錢，我們就打一百個電話給你"
    norm = normalise(raw)
    start = norm.text.index("100个电话")
    s, e = norm.original_span(start, start + len("100个电话"))
    assert raw[s:e] == "一百個電話"


@given(st.text(alphabet=st.sampled_from("abcＡＢ１２一二十百千万們會，。 ’x"), max_size=30))
def test_every_normalised_character_has_an_origin(raw: str) -> None:
    norm = normalise(raw)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for i in range(len(norm.text)):
        assert 0 <= norm.starts[i] < norm.ends[i] <= len(raw)
    if norm.text:
        assert norm.original_span(0, len(norm.text)) == (0, len(raw))
