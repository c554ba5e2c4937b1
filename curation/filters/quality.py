"""Quality heuristics in the spirit of Gopher (Rae et al. 2021, appendix A) and C4 (Raffel et al. 2020),
adapted to Chinese: lengths and repetition are counted in units (a CJK character or a word), not words.

Each rule has its own reason code `quality_<rule>`; the first rule a document breaks decides.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Sequence

from curation.config import check_range
from curation.filters.base import Drop, Filter
from curation.text import cjk_count, units

_URL_RE = re.compile(r"(?:https?://|www\.)[!-~]+", re.IGNORECASE)  # URLs are ASCII; CJK text follows unspaced
_BULLET_RE = re.compile(r"^\s*(?:[-*•●◆■▪·>]|\d+[.)、])\s")
_ELLIPSIS_END = ("...", "…", "。。。")
_LETTER_RE = re.compile(r"[^\W\d_]")  # a letter of any script


@dataclasses.dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the quality rules; a rule whose threshold is None is off."""

    enabled: bool = True
    min_units: int | None = 20  # Gopher: 50 words; a CJK character carries more than a word, reviews are short
    max_units: int | None = 200_000  # Gopher: 100k words; beyond this it is a dump, not a document
    min_mean_word_chars: float | None = 3.0  # Gopher (space-delimited text only): shorter is word salad
    max_mean_word_chars: float | None = 12.0  # Gopher uses 10; 12 keeps technical English (identifiers)
    max_symbol_ratio: float | None = 0.1  # Gopher: '#' and ellipses per word
    max_bullet_line_share: float | None = 0.9  # Gopher: pages that are nothing but bullet lists
    max_ellipsis_line_share: float | None = 0.3  # Gopher: truncated snippets, typical of link farms
    min_letter_share: float | None = 0.4  # letters (any script) among non-space characters; Gopher: 80% of words
    min_cjk_share_zh: float | None = 0.3  # a document that is mostly CJK-free is not Chinese prose
    max_dup_line_share: float | None = 0.3  # Gopher: share of lines that repeat an earlier line
    max_top_2gram_share: float | None = 0.2  # Gopher: units covered by the most frequent 2-gram
    max_top_4gram_share: float | None = 0.16  # Gopher: ... by the most frequent 4-gram
    max_dup_5gram_share: float | None = 0.15  # Gopher: units inside 5-grams that occur more than once
    max_dup_ngram_share_cjk: float | None = 0.25  # CJK: news repeats long proper names (15+ characters) by nature
    min_units_for_repetition: int = 100  # repetition shares are noise on short texts (one phrase said twice)
    min_lines_for_line_rules: int = 5  # bullet/ellipsis/duplicate-line shares of 3 lines are one line's whim
    cjk_units_per_word: int = 3  # in CJK text n-grams of words become n-grams of 3n characters (news repeats names)
    max_url_char_share: float | None = 0.3  # characters inside URLs: SEO link lists, not prose

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name != "enabled" and getattr(self, f.name) is not None:
                check_range(self, f.name, 0, None)


def _top_ngram_share(us: list[str], n: int, total_chars: int) -> float:
    """Share of the characters of units covered by the most frequent n-gram (Gopher's 'top n-gram')."""
    if len(us) < n * 2:
        return 0.0
    grams = Counter(zip(*(us[i:] for i in range(n)), strict=False))
    count = max(grams.values())
    if count < 2:
        return 0.0
    gram = max(grams, key=grams.__getitem__)
    return count * sum(map(len, gram)) / max(1, total_chars)


def _dup_ngram_share(us: list[str], n: int) -> float:
    """Share of units inside n-grams that occur more than once (Gopher's 'duplicate n-gram' fraction)."""
    if len(us) < n * 2:
        return 0.0
    grams = list(zip(*(us[i:] for i in range(n)), strict=False))
    counts = Counter(grams)
    covered = bytearray(len(us))
    for i, g in enumerate(grams):
        if counts[g] > 1:
            covered[i : i + n] = b"\x01" * n
    return sum(covered) / len(us)


class QualityFilter(Filter):
    """Gopher/C4-style rules, adapted to text without spaces."""

    name = "quality"
    reasons = (
        "quality_too_short",
        "quality_too_long",
        "quality_mean_word_length",
        "quality_symbol_ratio",
        "quality_bullet_lines",
        "quality_ellipsis_lines",
        "quality_letter_share",
        "quality_cjk_share",
        "quality_dup_lines",
        "quality_top_ngram",
        "quality_dup_ngram",
        "quality_url_share",
    )

    def __init__(self, config: QualityConfig) -> None:
        self.config = config

    def judge(self, texts: Sequence[str], urls: Sequence[str | None]) -> list[Drop | None]:
        return [self.judge_one(t) for t in texts]

    def judge_one(self, text: str) -> Drop | None:  # noqa: C901 - one rule after another reads best
        c = self.config
        us = units(text)
        n = len(us)
        if c.min_units is not None and n < c.min_units:
            return Drop("quality_too_short", float(n))
        if c.max_units is not None and n > c.max_units:
            return Drop("quality_too_long", float(n))
        non_space = len(text) - text.count(" ") - text.count("\n") - text.count("\t")
        n_cjk = cjk_count(text)
        cjk_share = n_cjk / max(1, non_space)
        words = [u for u in us if len(u) > 1 or not ("\u3040" <= u <= "\u9fff")] if cjk_share < 0.1 else []
        if words:
            mean = sum(len(w) for w in words) / len(words)
            if (c.min_mean_word_chars is not None and mean < c.min_mean_word_chars) or (
                c.max_mean_word_chars is not None and mean > c.max_mean_word_chars
            ):
                return Drop("quality_mean_word_length", mean)
        if c.max_symbol_ratio is not None:
            ratio = (text.count("#") + text.count("...") + text.count("…")) / max(1, n)
            if ratio > c.max_symbol_ratio:
                return Drop("quality_symbol_ratio", ratio)
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if lines:
            if c.max_bullet_line_share is not None and len(lines) >= c.min_lines_for_line_rules:
                share = sum(1 for ln in lines if _BULLET_RE.match(ln)) / len(lines)
                if share > c.max_bullet_line_share:
                    return Drop("quality_bullet_lines", share)
            if c.max_ellipsis_line_share is not None and len(lines) >= c.min_lines_for_line_rules:
                share = sum(1 for ln in lines if ln.rstrip().endswith(_ELLIPSIS_END)) / len(lines)
                if share > c.max_ellipsis_line_share:
                    return Drop("quality_ellipsis_lines", share)
            if c.max_dup_line_share is not None and len(lines) >= c.min_lines_for_line_rules:  # Gopher: 0.3
                share = 1 - len(set(lines)) / len(lines)
                if share > c.max_dup_line_share:
                    return Drop("quality_dup_lines", share)
        if c.min_letter_share is not None:
            letters = len(_LETTER_RE.findall(text))
            share = letters / max(1, non_space)
            if share < c.min_letter_share:
                return Drop("quality_letter_share", share)
        if c.min_cjk_share_zh is not None and n_cjk and n_cjk * 4 > len(us) and cjk_share < c.min_cjk_share_zh:
            return Drop("quality_cjk_share", cjk_share)
        if c.max_url_char_share is not None and ("http" in text or "www." in text):
            share = sum(len(m) for m in _URL_RE.findall(text)) / max(1, len(text))
            if share > c.max_url_char_share:
                return Drop("quality_url_share", share)
        if n < c.min_units_for_repetition:
            return None
        k = c.cjk_units_per_word if n_cjk * 2 > n else 1  # mostly CJK: units are characters, not words
        total_chars = sum(map(len, us))
        if c.max_top_2gram_share is not None:
            share = _top_ngram_share(us, 2 * k, total_chars)
            if share > c.max_top_2gram_share:
                return Drop("quality_top_ngram", share)
        if c.max_top_4gram_share is not None:
            share = _top_ngram_share(us, 4 * k, total_chars)
            if share > c.max_top_4gram_share:
                return Drop("quality_top_ngram", share)
        max_dup = c.max_dup_ngram_share_cjk if k > 1 else c.max_dup_5gram_share
        if max_dup is not None:
            share = _dup_ngram_share(us, 5 * k)
            if share > max_dup:
                return Drop("quality_dup_ngram", share)
        return None
