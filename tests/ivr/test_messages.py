"""Required messages: safe-harbour names the company, a number and an opt-out key; voicemail says nothing
of a debt."""

import pytest

from ivr.messages import DEFAULT_TEMPLATES, MessageError, check_safe_harbour, check_voicemail, message_text


def test_the_default_templates_pass_their_rules() -> None:
    for language in ("zh", "en"):
        check_safe_harbour(DEFAULT_TEMPLATES.safe_harbour[language])
        check_voicemail(DEFAULT_TEMPLATES.voicemail[language], company="Dunline Services")
    assert message_text(DEFAULT_TEMPLATES.voicemail["en"], {"company": "Dunline Services", "person": "Amy",
                                                           "phone": "400 800 1234"}).startswith("Hello, this is Amy")


@pytest.mark.parametrize("template, company, reason", [
    ("Hi, {person} from {company} about your overdue balance, call {phone}.", "Dunline", "reveal a debt"),
    ("Hi from {company}, call {phone}, you owe {amount}.", "Dunline", "may only use"),
    ("Hi, please call {phone}.", "Dunline", "company's name and a phone number"),
    ("您好，我是{company}的{person}，关于您的欠款，请回电{phone}。", "敦行", "reveal a debt"),
    ("Hello, this is {person} from {company}, please call {phone}.", "Dunline Debt Collection", "company name"),
])
def test_voicemail_that_could_tell_a_third_party_about_the_debt_is_refused(template: str, company: str,
                                                                           reason: str) -> None:
    with pytest.raises(MessageError, match=reason):
        check_voicemail(template, company)


def test_safe_harbour_without_an_opt_out_key_is_refused() -> None:
    with pytest.raises(MessageError, match="opt out"):
        check_safe_harbour("This is {company}. Call us on {phone}.")
