"""Script-aware text units, shingles and folding shared by dedup, filters and the audit.

Chinese and Japanese are written without spaces, so a "unit" is one CJK character there
and one lower-cased word elsewhere; shingles are n-grams of units, so mixed text works too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# Han (basic, extension A, compatibility, extensions B-G), hiragana, katakana.
CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_UNIT_RE = re.compile(rf"[{CJK_RANGES}]|[^\W{CJK_RANGES}]+")
_CJK_RE = re.compile(rf"[{CJK_RANGES}]")


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


# --- Folding: one spelling per string before lexicon matching ------------------------------------------------
#
# fold() = NFKC, traditional -> simplified Chinese, lower case. The traditional -> simplified step uses OpenCC's
# own t2s tables (TSCharacters.txt, TSPhrases.txt from opencc-python-reimplemented) but not its converter, which
# runs at about 1.5 ms per 1 KB (650 docs/s): far too slow for the filter chain. Instead, once per process:
#   - the character table becomes a `str.translate` table (first candidate, as OpenCC picks);
#   - of the 277 phrases, only those whose character-by-character result differs from the phrase table are kept
#     (乾隆 stays 乾隆, 瞭解 -> 了解, 覆蓋 -> 覆盖 ...), indexed by the characters where they differ; a phrase is
#     tried only where such a character occurs.
# Plain simplified text costs two regex scans (~10 us per 1 KB); traditional text ~100-200 us. On People's Daily
# paragraphs converted to traditional script the result equals OpenCC's (tests/curation/test_lexicon.py).


_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


class _T2S:
    """OpenCC's t2s tables compiled for speed: a translate table and the phrases that override it."""

    def __init__(self) -> None:
        from curation.sources import package_dir

        folder = (
            package_dir(
                "opencc",
                "the traditional -> simplified tables ship in `opencc-python-reimplemented`, which is not installed; "
                "run `pip install opencc-python-reimplemented`",
            )
            / "dictionary"
        )
        chars = _read_opencc_table(folder / "TSCharacters.txt")
        phrases = _read_opencc_table(folder / "TSPhrases.txt")
        self.table: dict[int, str] = {ord(k): v for k, v in chars.items() if len(k) == 1 and k != v}
        for k, v in self.table.items():  # 薴 -> 苧 -> 苎: resolve chains, so that folding is idempotent
            while len(v) == 1 and ord(v) in self.table and self.table[ord(v)] != v:
                v = self.table[ord(v)]
            self.table[k] = v
        # Phrases the character table gets wrong, indexed by each character where they disagree.
        self.phrases: dict[str, str] = {}
        self.index: dict[str, list[tuple[str, int]]] = {}
        for src, dst in phrases.items():
            by_char = src.translate(self.table)
            if by_char == dst:
                continue
            self.phrases[src] = dst
            differ = [i for i, (a, b) in enumerate(zip(by_char, dst, strict=False)) if a != b]
            if len(src) != len(dst):  # never in OpenCC's table today; be safe if it changes
                differ = list(range(len(src)))
            for i in differ:
                self.index.setdefault(src[i], []).append((src, i))
        for dst in list(self.phrases.values()):  # 蕭乾 -> 萧乾, and 萧乾 must stay 萧乾 when folded again
            if dst not in self.phrases and dst.translate(self.table) != dst:
                self.phrases[dst] = dst
                for i, (a, b) in enumerate(zip(dst, dst.translate(self.table), strict=True)):
                    if a != b:
                        self.index.setdefault(dst[i], []).append((dst, i))
        # A class of ~3,700 BMP characters scans 1 KB in ~5 us; the same class with the ~350 astral keys in it
        # takes ~600 us (sre's slow path), so astral keys are checked apart, only in texts that have astral text.
        self.key_re = re.compile("[" + re.escape("".join(sorted(chr(k) for k in self.table if k <= 0xFFFF))) + "]")
        self.astral_keys = frozenset(chr(k) for k in self.table if k > 0xFFFF)
        # Trigger characters also occur in simplified text (什么 has 么, 沈 is a surname): most texts that have one
        # need no phrase, and no translation either.
        self.trigger_re = re.compile("[" + re.escape("".join(sorted(self.index))) + "]") if self.index else None
        # One scan decides for most texts: no key, no trigger, no astral character -> nothing to convert.
        either = {chr(k) for k in self.table if k <= 0xFFFF} | set(self.index)
        self.any_re = re.compile("[" + re.escape("".join(sorted(either))) + "\U00010000-\U0010ffff]")

    def _has_key(self, text: str) -> bool:
        if self.key_re.search(text) is not None:
            return True
        astral = _ASTRAL_RE.findall(text)
        return bool(astral) and not self.astral_keys.isdisjoint(astral)

    def convert(self, text: str) -> str:
        """Traditional -> simplified: overriding phrases where one may occur, the character table elsewhere."""
        if self.any_re.search(text) is None:
            return text
        has_key = self._has_key(text)
        spans: list[tuple[int, int, str]] = []
        if self.trigger_re is not None and self.trigger_re.search(text) is not None:
            for m in self.trigger_re.finditer(text):
                for phrase, offset in self.index[m.group()]:
                    start = m.start() - offset
                    if start >= 0 and text.startswith(phrase, start):
                        spans.append((start, start + len(phrase), phrase))
        if not spans:
            return text.translate(self.table) if has_key else text
        spans.sort(key=lambda s: (s[0], -s[1]))  # leftmost, then longest, as OpenCC matches
        out: list[str] = []
        pos = 0
        for start, end, phrase in spans:
            if start < pos:
                continue
            gap = text[pos:start]
            out.append(gap.translate(self.table) if has_key else gap)
            out.append(self.phrases[phrase])
            pos = end
        out.append(text[pos:].translate(self.table) if has_key else text[pos:])
        return "".join(out)


def _read_opencc_table(path: object) -> dict[str, str]:
    """An OpenCC dictionary file: `key<TAB>candidate [candidate ...]`; the first candidate is the conversion."""
    from pathlib import Path

    table: dict[str, str] = {}
    for line in Path(str(path)).read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if key and values:
            table[key] = values.split(" ")[0]
    return table


_t2s: _T2S | None = None


def t2s(text: str) -> str:
    """Traditional -> simplified Chinese with OpenCC's t2s tables (characters and phrases)."""
    global _t2s
    if _t2s is None:
        _t2s = _T2S()
    return _t2s.convert(text)


def fold(text: str) -> str:
    """One spelling for matching: NFKC (full-width -> ASCII, compatibility forms), traditional -> simplified, lower.

    Idempotent. Lengths may change (NFKC expands a few compatibility characters such as ㈱), so offsets
    into the folded text do not point into the original.
    """
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text)
    return t2s(text).lower()


_last_folds: dict[str, str] = {}


def fold_all(texts: Sequence[str]) -> list[str]:
    """fold() of every text. The folds of the previous call are remembered: the lexicon and the classifier filters
    fold the same batch one after the other, and the second gets the first's work for the price of a lookup."""
    global _last_folds
    memo = _last_folds
    out = [memo[t] if t in memo else fold(t) for t in texts]
    _last_folds = dict(zip(texts, out, strict=True))
    return out
