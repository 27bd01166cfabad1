"""Character error rate for Chinese: simplified and traditional alike, digits as characters, no punctuation."""

from speech.wer import cer, char_errors, corpus_cer, normalise_zh


def test_traditional_and_punctuation_do_not_count() -> None:
    assert normalise_zh("您的欠款，還沒還！") == list("您的欠款还没还")
    assert cer("您的欠款还没还。", "您的欠款還沒還") == 0.0


def test_digits_are_compared_as_chinese_digits() -> None:
    assert cer("还五千元", "还五千元") == 0.0
    assert normalise_zh("3天") == list("三天")


def test_edits_are_counted_per_character() -> None:
    assert char_errors("我下周五还钱", "我下周还钱了") == (2, 6)  # one deletion, one insertion
    assert cer("", "多") == 1.0


def test_corpus_cer_weights_by_reference_length() -> None:
    pairs = [("一二三四五六七八九十", "一二三四五六七八九十"), ("好的", "")]
    assert corpus_cer(pairs) == 2 / 12
