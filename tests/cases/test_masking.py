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
