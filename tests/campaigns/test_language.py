"""A campaign's language: the one language its segment picks, else none (its cases' own then apply)."""

from campaigns.language import campaign_language


def test_a_campaign_has_a_language_when_its_segment_picks_one() -> None:
    assert campaign_language({"segment": {"languages": ["zh"]}}) == "zh"
    assert campaign_language({"segment": {"languages": ["zh", "en"]}}) is None
    assert campaign_language({"segment": {"languages": None}}) is None
    assert campaign_language({"segment": {}}) is None and campaign_language(None) is None
