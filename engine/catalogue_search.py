"""Ranking the procedure catalogue for what a clerk types at the counter (issue 15).

The counter's search box takes the first hit on Enter, so the order *is* the choice: sorted by
name alone, "dang ky khai sinh" put the linked birth + residence + health-insurance procedure
before "Đăng ký khai sinh" ("L" < "Đ"), and "giay phep xay dung" put the licence for foreign
contractors before the building permit. The order here is, best first (see docs/counter.md):

1. ``CODE``    — the query is a procedure code, exactly ("1.001193");
2. ``EXACT``   — the folded name equals the folded query;
3. ``PREFIX``  — the folded name starts with the folded query;
4. ``PHRASE``  — the query's words stand together, in order, as whole words of the name;
5. ``WORDS``   — every query word is a whole word of the name, in any order;
6. ``PARTIAL`` — every query word is inside the code, the name or the field.

"Whole word" allows the *last* query word to be the beginning of a name word: the clerk is
still typing it ("giay phep xay d"). Within one tier, a procedure the clerk received recently
comes first (most recent first), then the shorter name, then the name, then the code. A
recent procedure never rises above a better tier: an exact name match of another procedure
still wins. An empty query lists the recent procedures first, then the rest by folded name.

Pure functions over anything with ``code``, ``name`` and ``field``; folding is
:func:`engine.text.fold` (diacritics and case ignored, đ = d).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Generic, Protocol, TypeVar

from engine.text import fold


class Listed(Protocol):
    """A catalogue entry as the ranking sees it."""

    code: str
    name: str
    field: str


T = TypeVar("T", bound=Listed)


class Match(IntEnum):
    """How well an entry matches the query; lower is better."""

    CODE = 0
    EXACT = 1
    PREFIX = 2
    PHRASE = 3
    WORDS = 4
    PARTIAL = 5


@dataclass(frozen=True, slots=True)
class Ranked(Generic[T]):
    """One hit: the entry, how it matched (``None`` for an empty query) and whether the clerk
    received this procedure recently."""

    entry: T
    match: Match | None
    recent: bool


def _word_matches(query_word: str, name_word: str, *, last: bool) -> bool:
    """A whole word, or the beginning of one for the word still being typed."""
    return name_word == query_word or (last and name_word.startswith(query_word))


def _is_phrase(words: Sequence[str], name_words: Sequence[str]) -> bool:
    """The query words appear together and in order among the name's words."""
    n = len(words)
    for start in range(len(name_words) - n + 1):
        if all(_word_matches(w, name_words[start + i], last=i == n - 1)
               for i, w in enumerate(words)):
            return True
    return False


def _all_words(words: Sequence[str], name_words: Sequence[str]) -> bool:
    """Every query word is a whole word of the name (the last may be a beginning)."""
    n = len(words)
    return all(any(_word_matches(w, nw, last=i == n - 1) for nw in name_words)
               for i, w in enumerate(words))


def _words(folded: str) -> list[str]:
    """Words of a folded text; punctuation glued to a word is not part of it ("sinh,")."""
    return [w.strip(".,;:()\"'“”-–") for w in folded.split() if w.strip(".,;:()\"'“”-–")]


def match(query: str, entry: Listed) -> Match | None:
    """How ``entry`` matches ``query`` (any case, with or without diacritics), or ``None``."""
    folded = fold(query)
    if not folded:
        return None
    if folded == entry.code.lower():
        return Match.CODE
    name = fold(entry.name)
    if name == folded:
        return Match.EXACT
    if name.startswith(folded):
        return Match.PREFIX
    words, name_words = _words(folded), _words(name)
    if words and _is_phrase(words, name_words):
        return Match.PHRASE
    if words and _all_words(words, name_words):
        return Match.WORDS
    haystack = fold(f"{entry.code} {entry.name} {entry.field}")
    if all(w in haystack for w in folded.split()):
        return Match.PARTIAL
    return None


def rank(query: str, entries: Iterable[T], recent: Sequence[str] = ()) -> list[Ranked[T]]:
    """The entries matching ``query``, best first (module docstring); ``recent`` is the
    clerk's recent procedure codes, most recent first. An empty query keeps every entry."""
    order = {code: i for i, code in reversed(list(enumerate(recent)))}
    never = len(order)
    hits: list[tuple[tuple, Ranked[T]]] = []
    empty = not fold(query)
    for entry in entries:
        place = order.get(entry.code, never)
        if empty:  # the recent ones in the order they were used, then the catalogue by name
            hits.append(((place, fold(entry.name), entry.code), Ranked(entry, None, place < never)))
            continue
        found = match(query, entry)
        if found is not None:
            key = (int(found), place, len(entry.name), fold(entry.name), entry.code)
            hits.append((key, Ranked(entry, found, place < never)))
    hits.sort(key=lambda pair: pair[0])
    return [ranked for _key, ranked in hits]
