"""The counter's procedure ranking (issue 15): the first hit is what Enter takes, so the right
procedure must come first — checked on the whole demo catalogue, not on a hand-picked list."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine.catalogue_search import Match, match, rank
from engine.text import fold
from workflows.loader import load_catalogue

_LOADED = load_catalogue()  # the demo catalogue `make run` loads (workflows/catalogue/)
CATALOGUE = [_LOADED[code] for code in _LOADED]
CODES = [p.code for p in CATALOGUE]


def first(query: str, recent=()) -> str:
    return rank(query, CATALOGUE, recent)[0].entry.code


@pytest.mark.parametrize("procedure", CATALOGUE, ids=CODES)
def test_every_procedure_is_first_for_its_own_name_with_or_without_accents(procedure):
    for query in (procedure.name, fold(procedure.name), procedure.name.upper(),
                  f"  {fold(procedure.name)}  "):
        assert first(query) == procedure.code, query
        assert rank(query, CATALOGUE)[0].match is Match.EXACT


@pytest.mark.parametrize("procedure", CATALOGUE, ids=CODES)
def test_a_recent_procedure_never_beats_an_exact_name_match(procedure):
    others = [code for code in CODES if code != procedure.code]
    assert first(fold(procedure.name), recent=others) == procedure.code


@pytest.mark.parametrize("procedure", CATALOGUE, ids=CODES)
def test_a_code_typed_exactly_wins(procedure):
    others = [code for code in CODES if code != procedure.code]
    hits = rank(procedure.code, CATALOGUE, recent=others)
    assert hits[0].entry.code == procedure.code and hits[0].match is Match.CODE


def test_dang_ky_khai_sinh_is_birth_registration_not_the_linked_procedure():
    hits = rank("dang ky khai sinh", CATALOGUE)
    assert [h.entry.name for h in hits[:2]] == [
        "Đăng ký khai sinh",
        "Liên thông thủ tục hành chính về đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo "
        "hiểm y tế cho trẻ em dưới 6 tuổi"]


def test_giay_phep_xay_dung_is_the_building_permit_not_the_foreign_contractor_licence():
    hits = rank("giay phep xay dung", CATALOGUE)
    assert hits[0].entry.code == "1.013225"  # Cấp giấy phép xây dựng mới … nhà ở riêng lẻ
    assert hits[0].match is Match.PHRASE
    assert hits[1].entry.code == "1.013222"  # … hoạt động xây dựng cho nhà thầu nước ngoài
    assert hits[1].match is Match.WORDS


def test_the_word_still_being_typed_counts_as_the_beginning_of_a_word():
    assert first("giay phep xay d") == "1.013225"
    assert first("dang ky khai si") == "1.001193"


def test_shorter_names_first_among_equal_matches():
    hits = rank("dang ky k", CATALOGUE)
    prefixes = [h for h in hits if h.match is Match.PREFIX]
    assert [h.entry.name for h in prefixes] == ["Đăng ký kết hôn", "Đăng ký khai tử",
                                                "Đăng ký khai sinh"]  # equal length: by name


def test_recent_procedures_come_first_among_equal_matches_only():
    # "khai sinh" stands together in three names (PHRASE); the clerk's recent one goes first.
    plain = rank("khai sinh", CATALOGUE)
    assert [h.match for h in plain[:3]] == [Match.PHRASE] * 3
    assert plain[0].entry.code == "1.001193"  # the shortest name
    recent = rank("khai sinh", CATALOGUE, recent=["2.000635"])
    assert recent[0].entry.code == "2.000635" and recent[0].recent
    assert [h.entry.code for h in recent[1:3]] == ["1.001193", "2.000986"]
    # … but not over a better match: the exact name stays first.
    assert first("dang ky khai sinh", recent=["2.000986"]) == "1.001193"
    # most recently received first among several recent ones
    both = rank("khai sinh", CATALOGUE, recent=["2.000986", "2.000635"])
    assert [h.entry.code for h in both[:2]] == ["2.000986", "2.000635"]


def test_an_empty_query_lists_the_recent_procedures_first_then_the_catalogue_by_name():
    hits = rank("", CATALOGUE, recent=["1.013222", "1.001193"])
    assert [h.entry.code for h in hits[:2]] == ["1.013222", "1.001193"]
    assert [h.recent for h in hits[:3]] == [True, True, False]
    rest = [fold(h.entry.name) for h in hits[2:]]
    assert rest == sorted(rest) and len(hits) == len(CATALOGUE)
    assert all(h.match is None for h in hits)


def test_partial_matches_still_find_words_inside_words_and_the_field():
    assert match("ho tich", next(p for p in CATALOGUE if p.code == "1.000894")) is Match.PARTIAL
    assert rank("xyz khong co", CATALOGUE) == []


@dataclass
class Entry:
    code: str
    name: str
    field: str = ""


def test_punctuation_glued_to_a_word_is_not_part_of_it():
    entries = [Entry("1", "Cấp bản sao Trích lục hộ tịch, bản sao Giấy khai sinh")]
    assert match("trich luc ho tich", entries[0]) is Match.PHRASE
