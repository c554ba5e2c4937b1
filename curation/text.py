"""Script-aware text units and shingles shared by dedup, filters and the audit.

Chinese and Japanese are written without spaces, so a "unit" is one CJK character there
and one lower-cased word elsewhere; shingles are n-grams of units, so mixed text works too.
"""

from __future__ import annotations

import re

# Han (basic, extension A, compatibility, extensions B-G), hiragana, katakana.
_CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_UNIT_RE = re.compile(rf"[{_CJK_RANGES}]|[^\W{_CJK_RANGES}]+")
_CJK_RE = re.compile(rf"[{_CJK_RANGES}]")


def units(text: str) -> list[str]:
    """Split text into units: single CJK characters and lower-cased words; punctuation is dropped."""
    return _UNIT_RE.findall(text.lower())


def cjk_count(text: str) -> int:
    """Number of CJK characters (Han, kana) in text."""
    return len(_CJK_RE.findall(text))


def shingles(text: str, n: int) -> set[str]:
    """Distinct n-grams of units, joined by a space; a text shorter than n units is one shingle."""
    us = units(text)
    if len(us) <= n:
        return {" ".join(us)} if us else set()
    return {" ".join(us[i : i + n]) for i in range(len(us) - n + 1)}


def jaccard(a: str, b: str, n: int) -> float:
    """Exact Jaccard similarity of the n-gram shingle sets of two texts (1.0 for two empty texts)."""
    sa, sb = shingles(a, n), shingles(b, n)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
