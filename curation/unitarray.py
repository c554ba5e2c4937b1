"""The units of many texts at once, as numpy arrays: what `curation.text.units` gives one text at a time.

A batch of texts becomes one array of code points; a table of character classes (one byte per code point,
built once per process from the same regular expressions as `curation.text`) marks CJK characters, word
characters and letters, and units, their ids and lengths fall out of a few vectorised passes. The filters that
count units, n-grams or letters on every document (quality, the classifier's input, language) use this instead
of a regex and a Python list per document. Same answers as `units()` (tests compare them on random text).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence

import numpy as np

from curation.text import CJK_RANGES

# Character classes, one bit each.
CJK = 1  # a unit on its own: Han (all blocks), hiragana, katakana (text.CJK_RANGES)
WORD = 2  # part of a word unit: a word character (`\w`) that is not CJK
LETTER = 4  # a letter of any script, CJK included: `[^\W\d_]`
HAN = 8  # Han characters of the BMP blocks the language filter counts
KANA = 16  # hiragana and katakana
SPACE = 32  # space, newline, tab: what the quality rules do not count as characters

_HAN_BMP = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_N_CODEPOINTS = 0x110000
_B = np.uint64(0x100000001B3)  # odd multiplier of the polynomial hash of a word (FNV's 64-bit prime)
_WORD_ID_BIT = np.uint64(1 << 63)  # word ids have the top bit set; a CJK unit's id is its code point


@functools.cache
def char_classes() -> np.ndarray:
    """uint8[0x110000]: the class bits of every code point, from the same patterns the regex path uses (~0.2 s)."""
    table = np.zeros(_N_CODEPOINTS, dtype=np.uint8)
    every = np.arange(_N_CODEPOINTS, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    for pattern, bit in (
        (f"[{CJK_RANGES}]+", CJK),
        (rf"[^\W{CJK_RANGES}]+", WORD),
        (r"[^\W\d_]+", LETTER),
        (f"[{_HAN_BMP}]+", HAN),
        ("[\u3040-\u30ff]+", KANA),
        ("[ \n\t]+", SPACE),
    ):
        for m in re.finditer(pattern, every):
            table[m.start() : m.end()] |= bit
    table.setflags(write=False)
    return table


def codepoints(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(code points of all texts end to end as uint32, offsets int64[len(texts) + 1] where each text starts)."""
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    joined = "".join(texts).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(joined, dtype=np.uint32), offsets


def per_text(mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """How many True values of mask (or the sum of an integer array) fall in each text's range."""
    csum = np.zeros(len(mask) + 1, dtype=np.int64)
    np.cumsum(mask, out=csum[1:])
    return csum[offsets[1:]] - csum[offsets[:-1]]


def class_counts(texts: Sequence[str], bits: Sequence[int]) -> dict[int, np.ndarray]:
    """For each class bit, how many characters of each text have it (counted on the texts as given)."""
    cp, offsets = codepoints(texts)
    cls = char_classes()[cp]
    return {bit: per_text((cls & bit) != 0, offsets) for bit in bits}


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the bits of a polynomial hash (uint64, wrapping)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@dataclasses.dataclass(frozen=True)
class Units:
    """The units of a batch of lower-cased texts: unit i of text d is at index doc_start[d] + i."""

    doc_start: np.ndarray  # int64[D + 1]: where each text's units begin in the arrays below
    start: np.ndarray  # int64: where each unit starts in `cp`
    chars: np.ndarray  # int64: length of each unit in characters
    is_word: np.ndarray  # bool: a word (else a CJK character)
    cp: np.ndarray  # uint32: code points of the lower-cased texts, end to end
    offsets: np.ndarray  # int64[D + 1]: where each text starts in `cp`
    kept: np.ndarray  # bool per code point: inside a unit (punctuation and spaces are not)

    @property
    def counts(self) -> np.ndarray:
        """Number of units of each text."""
        return np.diff(self.doc_start)

    @property
    def first(self) -> np.ndarray:
        """The first code point of each unit."""
        return self.cp[self.start]

    @functools.cached_property
    def ids(self) -> np.ndarray:
        """uint64 per unit, equal for equal units: a CJK unit's code point; a word's 64-bit hash, top bit set."""
        ids = self.first.astype(np.uint64)
        if not self.is_word.any():
            return ids
        # A word's hash: the sum of cp[j] * B^(j - start) over its characters (uint64, wrapping), from one prefix sum
        # over the word characters alone.
        lengths = self.chars[self.is_word]
        first_c = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=first_c[1:])
        pos = np.arange(first_c[-1], dtype=np.int64) - np.repeat(first_c[:-1], lengths)  # position inside the word
        powers = np.full(int(lengths.max()), _B, dtype=np.uint64)
        powers[0] = 1
        np.cumprod(powers, out=powers)
        prefix = np.zeros(len(pos) + 1, dtype=np.uint64)
        chars = self.cp[np.repeat(self.start[self.is_word], lengths) + pos].astype(np.uint64)
        np.cumsum(chars * powers[pos], out=prefix[1:])
        h = prefix[first_c[1:]] - prefix[first_c[:-1]]
        ids[self.is_word] = mix64(h + lengths.astype(np.uint64)) | _WORD_ID_BIT
        return ids

    def strings(self, d: int) -> list[str]:
        """The units of text d as strings (for tests and debugging: slow)."""
        lo, hi = self.doc_start[d], self.doc_start[d + 1]
        return [
            self.cp[s : s + n].tobytes().decode("utf-32-le", "surrogatepass")
            for s, n in zip(self.start[lo:hi], self.chars[lo:hi], strict=True)
        ]


def unit_arrays(texts: Sequence[str], lowered: bool = False) -> Units:
    """The units of every text, as `curation.text.units` splits them (texts are lower-cased unless lowered)."""
    cp, offsets = codepoints(texts if lowered else [t.lower() for t in texts])
    n = len(cp)
    cls = char_classes()[cp]
    cjk = (cls & CJK) != 0
    word = (cls & WORD) != 0
    nonempty = offsets[:-1] < offsets[1:]
    prev_word = np.zeros(n, dtype=bool)
    prev_word[1:] = word[:-1]
    prev_word[offsets[:-1][nonempty]] = False  # a word never continues from the previous text
    next_word = np.zeros(n, dtype=bool)
    next_word[:-1] = word[1:]
    next_word[offsets[1:][nonempty] - 1] = False
    starts = np.flatnonzero(cjk | (word & ~prev_word))
    is_word = word[starts]
    chars = np.ones(len(starts), dtype=np.int64)
    chars[is_word] = np.flatnonzero(word & ~next_word) + 1 - starts[is_word]
    doc_start = np.searchsorted(starts, offsets)
    return Units(doc_start, starts, chars, is_word, cp, offsets, cjk | word)


def unit_lines(texts: Sequence[str]) -> list[str]:
    """`" ".join(units(t))` for every text: lower-cased units separated by single spaces."""
    if not texts:
        return []
    u = unit_arrays(texts)
    n = len(u.cp)
    space = np.zeros(n, dtype=bool)
    space[u.start] = True
    space[u.start[u.doc_start[:-1][u.counts > 0]]] = False  # no space before the first unit of a text
    vals = np.empty((n, 2), dtype=np.uint32)
    vals[:, 0] = 32
    vals[:, 1] = u.cp
    mask = np.empty((n, 2), dtype=bool)
    mask[:, 0] = space
    mask[:, 1] = u.kept
    out = vals[mask].tobytes().decode("utf-32-le", "surrogatepass")
    ends = np.zeros(len(texts) + 1, dtype=np.int64)
    ends[1:] = per_text(space, u.offsets) + per_text(u.kept, u.offsets)
    np.cumsum(ends, out=ends)
    return [out[a:b] for a, b in zip(ends[:-1].tolist(), ends[1:].tolist(), strict=True)]
