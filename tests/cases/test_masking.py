import logging
from datetime import date

from cases.masking import PersonalDataFilter, mask_birth_date, mask_name, mask_national_id, mask_phone, scrub


def test_masks_keep_only_what_identifies_the_record_to_its_owner() -> None:
    assert mask_phone("+8613812345678") == "+86138****5678"
    assert mask_national_id("110101199003074512") == "11************4512"
    assert mask_birth_date(date(1990, 3, 7)) == "1990-**-**"
    assert mask_name("张三丰") == "张**"
    assert mask_phone("+12125550123") == "+121****0123"
    assert mask_phone(None) == "" and mask_national_id("") == ""


def test_log_records_are_scrubbed(caplog) -> None:  # type: ignore[no-untyped-def]
    logger = logging.getLogger("dunline.test")
    logger.addFilter(PersonalDataFilter())
    with caplog.at_level(logging.INFO, logger="dunline.test"):
        logger.info("dialling %s for debtor %s", "+8613812345678", "110101199003074512")
    assert "13812345678" not in caplog.text and "199003074512" not in caplog.text
    assert "+86138****5678" in caplog.text
    assert scrub("no personal data here") == "no personal data here"


def test_probe_16_scrub_masks_bare_mobiles_encoded_plus_and_birth_dates(caplog) -> None:  # type: ignore[no-untyped-def]
    logger = logging.getLogger("dunline.test.probe16")
    logger.addFilter(PersonalDataFilter())
    with caplog.at_level(logging.INFO, logger="dunline.test.probe16"):
        logger.info("GET /api/cases?phone=%s&alt=%s&dob=%s&id=%s", "13868106871", "%2B8613868106871", "1977-09-16",
                    "ID11010119900307451X")
        logger.info("numbers %s / %s / %s / %s", "+86 138 6810 6871", "+86-138-6810-6871", "8613868106871",
                    "138-6810-6871")
    for leaked in ("13868106871", "6810", "1977-09-16", "09-16", "1101011990030"):
        assert leaked not in caplog.text, leaked
    assert "%2B86138****6871" in caplog.text and "138****6871" in caplog.text and "1977-**-**" in caplog.text
    # Timestamps say when something happened, not who someone is: ordinary messages keep them; bare dates go.
    assert scrub("kept at 2024-05-01T10:00:00Z, due 2024/06/01") == "kept at 2024-05-01T10:00:00Z, due 2024-**-**"
    plain = "campaign 12 paced 3 lines at 0.03 for 150 agents, attempt 20240916 on port 5060"
    assert scrub(plain) == plain


def test_probe_16_tracebacks_are_scrubbed_too(caplog) -> None:  # type: ignore[no-untyped-def]
    logger = logging.getLogger("dunline.test.probe16.exc")
    logger.addFilter(PersonalDataFilter())
    with caplog.at_level(logging.INFO, logger="dunline.test.probe16.exc"):
        try:
            raise ValueError("no debtor with phone 13868106871 born 1977-09-16")
        except ValueError:
            logger.exception("lookup failed")
    assert "lookup failed" in caplog.text and "13868106871" not in caplog.text and "09-16" not in caplog.text
