"""The legal library (issue 17): every citation of a rule pack line and a screening category names an entry, the
library documents each pack's version, receipts' checks find their texts, and search works in zh and en."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from compliance.library import CATEGORIES_FILE, LIBRARY_DIR, LibraryError, load_library, split_source
from compliance.rulepack import PACK_DIR, load_packs
from compliance.screening.categories import Category, load_policies


@pytest.fixture(scope="module")
def library():  # type: ignore[no-untyped-def]
    return load_library()


def test_every_pack_line_cites_an_entry_that_exists(library) -> None:  # type: ignore[no-untyped-def]
    packs = load_packs()
    lines = [(name, source) for name, pack in packs.items() for source in pack.sources]
    assert len(lines) == 16
    for name, source in lines:
        text, cites = split_source(source)
        assert cites, f"{name}: {source!r} cites no library entry"
        assert text and not text.endswith(" ") and "[library" not in text
        for entry_id in cites:
            assert entry_id in library.entries, (name, entry_id)
            assert library.entries[entry_id].jurisdiction.split("-")[0] == name.split("-")[0], (name, entry_id)


def test_every_screening_category_cites_entries_that_exist(library) -> None:  # type: ignore[no-untyped-def]
    load_policies()  # the categories' loader still reads the file with its citations
    assert set(library.category_cites) == {c.value for c in Category}
    for category in Category:
        assert library.for_category(category.value), category
    threats = {e.id for e in library.for_category("false_legal_threat")}
    assert {"us.fdcpa.807", "uk.conc.7.3", "cn.standard.post-loan-collection"} == threats


def test_each_entry_is_complete_and_bilingual(library) -> None:  # type: ignore[no-untyped-def]
    assert len(library.entries) >= 20
    for entry in library.entries.values():
        assert entry.text.zh and entry.text.en and entry.title.zh and entry.title.en, entry.id
        assert any("\u4e00" <= c <= "\u9fff" for c in entry.text.zh), entry.id
        assert entry.source.startswith("http") and entry.effective[:2] in ("19", "20"), entry.id
    jurisdictions = {e.jurisdiction for e in library.entries.values()}
    assert {"CN", "UK", "US", "US-FL"} <= jurisdictions


def test_a_receipt_check_finds_its_texts_through_the_pack_and_what_it_extends(library) -> None:  # type: ignore[no-untyped-def]
    assert [e.id for e in library.for_check("US", "attempts_per_debt_7d")] == ["us.reg-f.1006.14b2iA"]
    florida = [e.id for e in library.for_check("US-FL", "calling_window")]
    assert florida[0] == "us.fl.559.72-17" and "us.reg-f.1006.6b1" in florida  # its own line first, then US's
    assert [e.id for e in library.for_check("US-FL", "attempts_per_debt_24h")] == ["us.fl.559.72-7"]
    assert "uk.ofcom.persistent-misuse" in [e.id for e in library.for_check("UK", "abandoned_call_lockout")]
    assert library.for_check("UK", "consent") == []  # the UK pack cites nothing for a rule it does not have
    assert library.for_check("CN", "unanswered_per_number_day")
    lines, categories = library.cited_by("us.fdcpa.806")
    assert not lines and {"threat_violence", "harassment_abuse"} <= set(categories)


def test_search_in_chinese_and_english_by_word_citation_and_rule(library) -> None:  # type: ignore[no-untyped-def]
    def ids(query: str) -> list[str]:
        return [e.id for e in library.search(query)]
    assert "cn.civil-code.1033" in ids("私人生活安宁")
    assert "us.fdcpa.806" in ids("骚扰")  # a Chinese word in an English law's translation
    assert "cn.civil-code.1033" in ids("peace private life")  # English words, any order, in a Chinese law's
    assert ids("1006.14") == ["us.reg-f.1006.14b2iA", "us.reg-f.1006.14b2iB"]
    assert ids("ＣＯＮＣ ７.１４") == ["uk.conc.7.14"]  # full-width forms fold to half-width
    assert ids("conversation_cooldown") == ["us.reg-f.1006.14b2iB"]  # a rule name: the citation ranks first
    assert ids("calling_window")[0] in {e.id for e in library.entries.values() if "calling_window" in e.rules}
    assert ids("threat_violence") == ["cn.criminal-law.293-1", "cn.standard.post-loan-collection", "uk.conc.7.3",
                                      "us.fdcpa.806"]  # a category name finds what it cites, in file order
    assert ids("harassment florida") == ["us.fl.559.72-7"]
    assert ids("no such words anywhere") == []
    assert len(ids("")) == len(library.entries)


def test_the_library_is_versioned_with_the_packs(tmp_path: Path, library) -> None:  # type: ignore[no-untyped-def]
    assert library.documents("US", "2026.11.1") and library.documents("US", "2026.11.1+campaign")
    assert not library.documents("US", "2025.1.1")
    packs = tmp_path / "packs"
    shutil.copytree(PACK_DIR, packs)
    us = packs / "US.yaml"
    us.write_text(us.read_text(encoding="utf-8").replace('version: "2026.11.1"', 'version: "2027.1.0"'), encoding="utf-8")
    with pytest.raises(LibraryError, match="pack US is version 2027.1.0"):
        load_library(packs_dir=packs)


def test_a_citation_naming_no_entry_is_refused(tmp_path: Path) -> None:
    packs, shelf = tmp_path / "packs", tmp_path / "library"
    shutil.copytree(PACK_DIR, packs)
    shutil.copytree(LIBRARY_DIR, shelf)
    uk = packs / "UK.yaml"
    uk.write_text(uk.read_text(encoding="utf-8").replace("[library: uk.conc.7.9]", "[library: uk.conc.9.9]"),
                  encoding="utf-8")
    with pytest.raises(LibraryError, match="uk.conc.9.9"):
        load_library(shelf, packs)
    categories = tmp_path / "categories.yaml"
    raw = yaml.safe_load(CATEGORIES_FILE.read_text(encoding="utf-8"))
    raw["categories"]["dispute"]["cites"] = ["us.fdcpa.999"]
    categories.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LibraryError, match="category dispute cites 'us.fdcpa.999'"):
        load_library(categories_file=categories)
    us = shelf / "us.yaml"
    us.write_text(us.read_text(encoding="utf-8") + us.read_text(encoding="utf-8").split("entries:\n", 1)[1],
                  encoding="utf-8")
    with pytest.raises(LibraryError, match="used twice"):
        load_library(shelf)
