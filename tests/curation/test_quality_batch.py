"""The quality filter judges a batch with numpy (unit arrays, hashed n-grams): the same decisions and scores as
the rules written plainly, one document at a time, with Python lists and Counters (the reference below)."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from curation.classifier import english_paragraphs, people_daily_paragraphs
from curation.filters.base import Drop
from curation.filters.quality import _BULLET_RE, _ELLIPSIS_END, _URL_RE, QualityConfig, QualityFilter
from curation.spam_corpus import spam_documents
from curation.text import cjk_count, units


def _top_ngram_share(us: list[str], n: int, total_chars: int) -> float:
    if len(us) < n * 2:
        return 0.0
    grams = Counter(zip(*(us[i:] for i in range(n)), strict=False))
    count = max(grams.values())
    if count < 2:
        return 0.0
    gram = max(grams, key=grams.__getitem__)  # the first of the most frequent, in order of first occurrence
    return count * sum(map(len, gram)) / max(1, total_chars)


def _dup_ngram_share(us: list[str], n: int) -> float:
    if len(us) < n * 2:
        return 0.0
    grams = list(zip(*(us[i:] for i in range(n)), strict=False))
    counts = Counter(grams)
    covered = bytearray(len(us))
    for i, g in enumerate(grams):
        if counts[g] > 1:
            covered[i : i + n] = b"\x01" * n
    return sum(covered) / len(us)


def reference(c: QualityConfig, text: str) -> Drop | None:  # noqa: C901 - the rules in order, as documented
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
    if len(lines) >= c.min_lines_for_line_rules:
        if c.max_bullet_line_share is not None:
            share = sum(1 for ln in lines if _BULLET_RE.match(ln)) / len(lines)
            if share > c.max_bullet_line_share:
                return Drop("quality_bullet_lines", share)
        if c.max_ellipsis_line_share is not None:
            share = sum(1 for ln in lines if ln.rstrip().endswith(_ELLIPSIS_END)) / len(lines)
            if share > c.max_ellipsis_line_share:
                return Drop("quality_ellipsis_lines", share)
        if c.max_dup_line_share is not None:
            share = 1 - len(set(lines)) / len(lines)
            if share > c.max_dup_line_share:
                return Drop("quality_dup_lines", share)
    if c.min_letter_share is not None:
        share = len(re.findall(r"[^\W\d_]", text)) / max(1, non_space)
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
    k = c.cjk_units_per_word if n_cjk * 2 > n else 1
    total_chars = sum(map(len, us))
    for limit, size in ((c.max_top_2gram_share, 2 * k), (c.max_top_4gram_share, 4 * k)):
        if limit is not None:
            share = _top_ngram_share(us, size, total_chars)
            if share > limit:
                return Drop("quality_top_ngram", share)
    max_dup = c.max_dup_ngram_share_cjk if k > 1 else c.max_dup_5gram_share
    if max_dup is not None:
        share = _dup_ngram_share(us, 5 * k)
        if share > max_dup:
            return Drop("quality_dup_ngram", share)
    return None


def corpus() -> list[str]:
    """Real news and prose, generated spam, and texts that repeat phrases of them a random number of times."""
    rnd = random.Random(7)
    zh = people_daily_paragraphs()[:600]
    en = english_paragraphs()[:300]
    spam = [t for cat in ("gambling", "adult", "spam") for t in spam_documents(cat, 60, 3)]
    texts = zh + en + spam + ["".join(rnd.sample(zh, 3)) for _ in range(100)]
    for _ in range(400):
        base = rnd.choice(zh + en)
        sep = "，" if "，" in base else " "
        parts = base.split(sep)
        texts.append(sep.join(rnd.choice(parts) for _ in range(rnd.randint(3, 80))))
    texts += ["", "。。。", "a", "\n".join(["same line here"] * 8), "#tag " * 50, "1 2 3 " * 40]
    rnd.shuffle(texts)
    return texts


@pytest.mark.parametrize(
    "config",
    [
        QualityConfig(),
        QualityConfig(max_top_2gram_share=None, max_top_4gram_share=None),  # the duplicate n-gram rule decides more
        QualityConfig(min_units=None, cjk_units_per_word=2, min_units_for_repetition=30, min_lines_for_line_rules=2),
    ],
)
def test_batch_decisions_equal_the_reference(config: QualityConfig) -> None:
    texts = corpus()
    got = QualityFilter(config).judge(texts, [None] * len(texts))
    want = [reference(config, t) for t in texts]
    for text, g, w in zip(texts, got, want, strict=True):
        assert (g is None) == (w is None), text[:80]
        if g is not None and w is not None:
            assert g.reason == w.reason, text[:80]
            assert g.score == pytest.approx(w.score, rel=1e-12), text[:80]
    reasons = Counter(d.reason for d in want if d)
    assert reasons["quality_top_ngram"] + reasons["quality_dup_ngram"] >= 50  # the n-gram code really decides


def test_batches_of_any_size_give_the_same_decisions() -> None:
    texts = corpus()[:300]
    flt = QualityFilter(QualityConfig())
    whole = flt.judge(texts, [None] * len(texts))
    one_by_one = [flt.judge_one(t) for t in texts]
    assert whole == one_by_one
