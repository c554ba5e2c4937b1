"""The batch unit arrays give what curation.text.units gives one text at a time."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.text import cjk_count, units
from curation.unitarray import CJK, HAN, KANA, LETTER, SPACE, char_classes, class_counts, unit_arrays, unit_lines

# Characters where the unit rules have edges: CJK (BMP, astral, compatibility), kana, half-width katakana, Latin with
# accents and combining marks, a character whose lower case is longer (İ), digits of other scripts, underscores,
# punctuation, emoji, spaces and newlines, a lone surrogate.
ALPHABET = list("中文字漢あカｶ𠀀豈aZéİß_0٣½ ,.，。!\n\t-") + ["e\u0301", "😀", "\ud800", "ǅ"]
texts_strategy = st.lists(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join), max_size=12)


@settings(max_examples=300, deadline=None)
@given(texts_strategy)
def test_units_equal_the_regex_units(texts: list[str]) -> None:
    u = unit_arrays(texts)
    assert u.counts.tolist() == [len(units(t)) for t in texts]
    for d, t in enumerate(texts):
        assert u.strings(d) == units(t)
    assert unit_lines(texts) == [" ".join(units(t)) for t in texts]


@settings(max_examples=200, deadline=None)
@given(texts_strategy)
def test_equal_units_have_equal_ids(texts: list[str]) -> None:
    u = unit_arrays(texts)
    strings = [s for d in range(len(texts)) for s in u.strings(d)]
    by_string: dict[str, int] = {}
    by_id: dict[int, str] = {}
    for s, i in zip(strings, u.ids.tolist(), strict=True):
        assert by_string.setdefault(s, i) == i
        assert by_id.setdefault(i, s) == s  # no two different units share an id here
    cjk_units = [i for s, i in zip(strings, u.ids.tolist(), strict=True) if len(s) == 1 and i < 1 << 63]
    assert all(0 <= i < 0x110000 for i in cjk_units)


@settings(max_examples=200, deadline=None)
@given(texts_strategy)
def test_class_counts_equal_the_regex_counts(texts: list[str]) -> None:
    got = class_counts(texts, (CJK, LETTER, HAN, KANA, SPACE))
    assert got[CJK].tolist() == [cjk_count(t) for t in texts]
    assert got[LETTER].tolist() == [len(re.findall(r"[^\W\d_]", t)) for t in texts]
    assert got[HAN].tolist() == [len(re.findall("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", t)) for t in texts]
    assert got[KANA].tolist() == [len(re.findall("[\u3040-\u30ff]", t)) for t in texts]
    assert got[SPACE].tolist() == [t.count(" ") + t.count("\n") + t.count("\t") for t in texts]


def test_words_across_texts_stay_apart_and_long_words_hash() -> None:
    texts = ["abc", "def", "", "x" * 5000, "x" * 4999 + "y", "中文abc"]
    u = unit_arrays(texts)
    assert [u.strings(d) for d in range(3)] == [["abc"], ["def"], []]
    ids = u.ids.tolist()
    assert ids[0] != ids[1] and ids[2] != ids[3]  # the two 5,000-letter words differ in their last letter only
    assert ids[0] == ids[-1]  # "abc" is "abc" wherever it stands
    assert unit_arrays([]).counts.tolist() == [] and unit_lines([]) == []
    assert np.array_equal(unit_arrays(["a", "b"]).doc_start, [0, 1, 2])


def test_lower_casing_keeps_class_counts_of_every_code_point() -> None:
    """Units.count reads the lower-cased code points; that is the count of the text as given only because
    lower-casing keeps, for every code point, how many CJK characters, letters, Han, kana and spaces it is."""
    import sys

    table = char_classes()
    for c in range(sys.maxunicode + 1):
        ch = chr(c)
        low = ch.lower()
        if low != ch:
            for bit in (CJK, LETTER, HAN, KANA, SPACE):
                assert bool(table[c] & bit) == sum(bool(table[ord(x)] & bit) for x in low), (hex(c), bit)


def test_unit_counts_equal_class_counts_of_the_texts_as_given() -> None:
    texts = ["İSTANBUL Straße ΣΑΣ", "中文 カタカナ", "", "ǅemal 1 2"]
    u = unit_arrays(texts)
    want = class_counts(texts, (CJK, LETTER, SPACE))
    for bit in (CJK, LETTER, SPACE):
        assert u.count(bit).tolist() == want[bit].tolist()


def test_lower_casing_is_idempotent_so_folded_text_needs_no_second_pass() -> None:
    import sys

    assert all(chr(c).lower().lower() == chr(c).lower() for c in range(sys.maxunicode + 1))
    texts = ["İSTANBUL ΣΑΣ 中文", "Straße"]
    assert unit_lines([t.lower() for t in texts], lowered=True) == unit_lines(texts)
