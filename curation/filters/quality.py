"""Quality heuristics in the spirit of Gopher (Rae et al. 2021, appendix A) and C4 (Raffel et al. 2020),
adapted to Chinese: lengths and repetition are counted in units (a CJK character or a word), not words.

Each rule has its own reason code `quality_<rule>`; the first rule a document breaks decides.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import numpy as np

from curation.config import check_range
from curation.filters.base import Drop, Filter
from curation.unitarray import CJK, LETTER, SPACE, Units, compiled, per_text, unit_arrays

_URL_RE = re.compile(r"(?:https?://|www\.)[!-~]+", re.IGNORECASE)  # URLs are ASCII; CJK text follows unspaced
_BULLET_RE = re.compile(r"^\s*(?:[-*•●◆■▪·>]|\d+[.)、])\s")
_ELLIPSIS_END = ("...", "…", "。。。")


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

    def judge_one(self, text: str) -> Drop | None:
        """The decision for one document."""
        return self.judge([text], [None])[0]

    def judge(self, texts: Sequence[str], urls: Sequence[str | None]) -> list[Drop | None]:
        """Counts for the whole batch at once (unitarray), then the rules in order, document by document; the
        n-gram repetition shares are computed, again for the batch at once, for the documents that reach them."""
        if not texts:
            return []
        c = self.config
        u = unit_arrays(texts)
        n_units = u.counts.tolist()
        n_cjk, n_letters, n_spaces = (u.count(bit).tolist() for bit in (CJK, LETTER, SPACE))
        # Gopher's words, where the text is nearly CJK-free: units other than single CJK characters of U+3040-U+9FFF.
        first = u.first
        is_word = (u.chars > 1) | (first < 0x3040) | (first > 0x9FFF)
        n_words = per_text(is_word, u.doc_start).tolist()
        word_chars = per_text(np.where(is_word, u.chars, 0), u.doc_start).tolist()
        out: list[Drop | None] = [None] * len(texts)
        repetition: list[tuple[int, int]] = []  # (document, units per word) of those that reach the n-gram rules
        for d, text in enumerate(texts):
            n = n_units[d]
            if c.min_units is not None and n < c.min_units:
                out[d] = Drop("quality_too_short", float(n))
                continue
            if c.max_units is not None and n > c.max_units:
                out[d] = Drop("quality_too_long", float(n))
                continue
            non_space = len(text) - n_spaces[d]
            cjk_share = n_cjk[d] / max(1, non_space)
            if cjk_share < 0.1 and n_words[d]:
                mean = word_chars[d] / n_words[d]
                if (c.min_mean_word_chars is not None and mean < c.min_mean_word_chars) or (
                    c.max_mean_word_chars is not None and mean > c.max_mean_word_chars
                ):
                    out[d] = Drop("quality_mean_word_length", mean)
                    continue
            if c.max_symbol_ratio is not None:
                ratio = (text.count("#") + text.count("...") + text.count("…")) / max(1, n)
                if ratio > c.max_symbol_ratio:
                    out[d] = Drop("quality_symbol_ratio", ratio)
                    continue
            if text.count("\n") + 1 >= c.min_lines_for_line_rules:  # fewer lines than that: no line rule applies
                drop = self._line_rules(text)
                if drop is not None:
                    out[d] = drop
                    continue
            if c.min_letter_share is not None:
                share = n_letters[d] / max(1, non_space)
                if share < c.min_letter_share:
                    out[d] = Drop("quality_letter_share", share)
                    continue
            if c.min_cjk_share_zh is not None and n_cjk[d] and n_cjk[d] * 4 > n and cjk_share < c.min_cjk_share_zh:
                out[d] = Drop("quality_cjk_share", cjk_share)
                continue
            if c.max_url_char_share is not None and ("http" in text or "www." in text):
                share = sum(len(m) for m in _URL_RE.findall(text)) / max(1, len(text))
                if share > c.max_url_char_share:
                    out[d] = Drop("quality_url_share", share)
                    continue
            if n >= c.min_units_for_repetition:
                repetition.append((d, c.cjk_units_per_word if n_cjk[d] * 2 > n else 1))  # mostly CJK: characters
        for k in sorted({k for _, k in repetition}):
            docs = np.array([d for d, kd in repetition if kd == k], dtype=np.int64)
            for d, drop in zip(docs.tolist(), self._repetition_rules(u, docs, k), strict=True):
                out[d] = drop
        return out

    def _line_rules(self, text: str) -> Drop | None:
        c = self.config
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if len(lines) < c.min_lines_for_line_rules:
            return None
        if c.max_bullet_line_share is not None:
            share = sum(1 for ln in lines if _BULLET_RE.match(ln)) / len(lines)
            if share > c.max_bullet_line_share:
                return Drop("quality_bullet_lines", share)
        if c.max_ellipsis_line_share is not None:
            share = sum(1 for ln in lines if ln.rstrip().endswith(_ELLIPSIS_END)) / len(lines)
            if share > c.max_ellipsis_line_share:
                return Drop("quality_ellipsis_lines", share)
        if c.max_dup_line_share is not None:  # Gopher: 0.3
            share = 1 - len(set(lines)) / len(lines)
            if share > c.max_dup_line_share:
                return Drop("quality_dup_lines", share)
        return None

    def _repetition_rules(self, u: Units, docs: np.ndarray, k: int) -> list[Drop | None]:
        """Top 2-gram, top 4-gram and duplicate 5-gram shares (n-grams of k-unit words) of the given documents."""
        c = self.config
        grams = _DocGrams(u, docs)
        rules: list[tuple[float | None, str, np.ndarray]] = []
        if c.max_top_2gram_share is not None:
            rules.append((c.max_top_2gram_share, "quality_top_ngram", grams.top_share(2 * k)))
        if c.max_top_4gram_share is not None:
            rules.append((c.max_top_4gram_share, "quality_top_ngram", grams.top_share(4 * k)))
        max_dup = c.max_dup_ngram_share_cjk if k > 1 else c.max_dup_5gram_share
        if max_dup is not None:
            rules.append((max_dup, "quality_dup_ngram", grams.dup_share(5 * k)))
        out: list[Drop | None] = [None] * len(docs)
        for i in range(len(docs)):
            for limit, reason, shares in rules:
                if shares[i] > limit:  # type: ignore[operator]
                    out[i] = Drop(reason, float(shares[i]))
                    break
        return out


class _DocGrams:
    """The units of some documents end to end, for n-gram counts within each document (Gopher's repetition)."""

    def __init__(self, u: Units, docs: np.ndarray) -> None:
        lens = u.counts[docs]
        self.lens = lens
        self.lo = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(lens, out=self.lo[1:])
        idx = np.arange(int(self.lo[-1]), dtype=np.int64) + np.repeat(u.doc_start[docs] - self.lo[:-1], lens)
        self.ids = u.ids[idx]
        self.char_prefix = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(u.chars[idx], out=self.char_prefix[1:])

    def top_share(self, n: int) -> np.ndarray:
        """Share of each document's characters covered by its most frequent n-gram (0 below 2n units or when
        no n-gram repeats); of n-grams equally frequent, the one that occurs first."""
        best, first, _ = compiled(_gram_stats)(self.ids, self.lo, n)
        p = self.lo[:-1] + first
        gram_chars = self.char_prefix[np.minimum(p + n, len(self.ids))] - self.char_prefix[p]
        doc_chars = self.char_prefix[self.lo[1:]] - self.char_prefix[self.lo[:-1]]
        return np.where(best >= 2, best * gram_chars / np.maximum(1, doc_chars), 0.0)

    def dup_share(self, n: int) -> np.ndarray:
        """Share of each document's units inside n-grams that occur more than once in it (0 below 2n units)."""
        _, _, covered = compiled(_gram_stats)(self.ids, self.lo, n)
        return covered / np.maximum(1, self.lens)


_GRAM_B = np.uint64(0x9E3779B97F4A7C15)  # odd multipliers: the n-gram hash, and the spread of a hash over slots
_SLOT_B = np.uint64(0xBF58476D1CE4E5B9)


def _gram_stats(ids: np.ndarray, lo: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per document (units ids[lo[d]:lo[d+1]]) of at least 2n units, in one pass over its n-grams with an
    open-addressing table of their 64-bit hashes: the count of its most frequent n-gram, where that n-gram first
    occurs (the earliest of equally frequent ones), and how many units lie inside n-grams that occur more than once.
    Documents shorter than 2n units get zeros. Compiled by numba (unitarray.compiled)."""
    docs = len(lo) - 1
    best = np.zeros(docs, dtype=np.int64)
    first = np.zeros(docs, dtype=np.int64)
    covered = np.zeros(docs, dtype=np.int64)
    most = 0
    for d in range(docs):
        most = max(most, lo[d + 1] - lo[d] - n + 1)
    size = 2
    while size < 2 * most:
        size *= 2
    lead = np.uint64(1)  # B^(n-1): the weight of an n-gram's first unit
    for _ in range(n - 1):
        lead = lead * _GRAM_B
    keys = np.zeros(size, dtype=np.uint64)
    counts = np.zeros(size, dtype=np.int64)
    slot = np.zeros(max(most, 1), dtype=np.int64)
    for d in range(docs):
        start = lo[d]
        length = lo[d + 1] - start
        if length < 2 * n:
            continue
        m = length - n + 1
        table = 2
        while table < 2 * m:
            table *= 2
        mask = np.uint64(table - 1)
        counts[:table] = 0
        h = np.uint64(0)
        for j in range(n - 1):
            h = h * _GRAM_B + ids[start + j]
        for i in range(m):
            # rolling: the hash of units i..i+n-1 is sum ids[i+j] * B^(n-1-j); drop unit i-1, take unit i+n-1
            if i > 0:
                h = h - ids[start + i - 1] * lead
            h = h * _GRAM_B + ids[start + i + n - 1]
            s = np.int64(((h ^ (h >> np.uint64(31))) * _SLOT_B >> np.uint64(17)) & mask)
            while counts[s] != 0 and keys[s] != h:
                s = np.int64((np.uint64(s) + np.uint64(1)) & mask)
            keys[s] = h
            counts[s] += 1
            slot[i] = s
        top = 0
        at = 0
        for i in range(m):
            if counts[slot[i]] > top:
                top = counts[slot[i]]
                at = i
        best[d] = top
        first[d] = at
        end = 0
        inside = 0
        for i in range(m):
            if counts[slot[i]] > 1:
                inside += i + n - max(i, end)
                end = i + n
        covered[d] = inside
    return best, first, covered
