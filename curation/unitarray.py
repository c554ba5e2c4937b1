"""The units of many texts at once, as numpy arrays: what `curation.text.units` gives one text at a time.

A batch of texts becomes one array of code points; a table of character classes (one byte per code point,
built once per process from the same regular expressions as `curation.text`) marks CJK characters, word
characters and letters, and units, their ids and lengths come out of one pass over the array (a small loop
compiled by numba). The filters that count units, n-grams or letters on every document (quality, the classifier's
input, language) use this instead of a regex and a Python list per document. Same answers as `units()` (tests
compare them on random text).
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
    counts = compiled(_count_classes)(*codepoints(texts), char_classes())
    return {bit: counts[:, bit.bit_length() - 1] for bit in bits}


def _count_classes(cp: np.ndarray, offsets: np.ndarray, table: np.ndarray) -> np.ndarray:
    """int64[texts, 8]: how many characters of each text have each of the 8 class bits (compiled by numba)."""
    out = np.zeros((len(offsets) - 1, 8), dtype=np.int64)
    for d in range(len(offsets) - 1):
        for i in range(offsets[d], offsets[d + 1]):
            k = table[cp[i]]
            for b in range(8):
                out[d, b] += (k >> b) & 1
    return out


def _unit_ids(cp: np.ndarray, start: np.ndarray, chars: np.ndarray, is_word: np.ndarray) -> np.ndarray:
    """Units.ids, compiled by numba: a word's id is a polynomial hash of its code points, spread by splitmix64's
    finaliser, with the top bit set; a CJK unit's id is its code point."""
    ids = np.empty(len(start), dtype=np.uint64)
    for u in range(len(start)):
        s = start[u]
        if not is_word[u]:
            ids[u] = np.uint64(cp[s])
            continue
        h = np.uint64(chars[u])
        for j in range(s, s + chars[u]):
            h = h * _B + np.uint64(cp[j])
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        ids[u] = (h ^ (h >> np.uint64(31))) | _WORD_ID_BIT
    return ids


_compiled: dict[object, object] = {}


def compiled(fn):  # noqa: ANN001, ANN201 - returns a numba dispatcher of fn's signature
    """fn compiled by numba on first use (numba is imported only then), cached on disk beside fn's module, so the
    first process compiles (a second or two) and later ones load it."""
    if fn not in _compiled:
        import numba

        _compiled[fn] = numba.njit(cache=True, nogil=True)(fn)
    return _compiled[fn]


@dataclasses.dataclass(frozen=True)
class Units:
    """The units of a batch of lower-cased texts: unit i of text d is at index doc_start[d] + i."""

    doc_start: np.ndarray  # int64[D + 1]: where each text's units begin in the arrays below
    start: np.ndarray  # int64: where each unit starts in `cp`
    chars: np.ndarray  # int64: length of each unit in characters
    is_word: np.ndarray  # bool: a word (else a CJK character)
    cp: np.ndarray  # uint32: code points of the lower-cased texts, end to end
    offsets: np.ndarray  # int64[D + 1]: where each text starts in `cp`

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
        return compiled(_unit_ids)(self.cp, self.start, self.chars, self.is_word)

    def count(self, bit: int) -> np.ndarray:
        """How many characters of each text have the class bit. Lower-casing keeps the number of CJK characters,
        letters, Han, kana and spaces of every code point (tested over all of them), so these counts hold for the
        texts as given too."""
        return self._class_counts[:, bit.bit_length() - 1]

    @functools.cached_property
    def _class_counts(self) -> np.ndarray:
        return compiled(_count_classes)(self.cp, self.offsets, char_classes())

    def strings(self, d: int) -> list[str]:
        """The units of text d as strings (for tests and debugging: slow)."""
        lo, hi = self.doc_start[d], self.doc_start[d + 1]
        return [
            self.cp[s : s + n].tobytes().decode("utf-32-le", "surrogatepass")
            for s, n in zip(self.start[lo:hi], self.chars[lo:hi], strict=True)
        ]


def _split_units(cp: np.ndarray, offsets: np.ndarray, table: np.ndarray):  # noqa: ANN202 - numba
    """One pass over the code points (compiled by numba): (unit starts, lengths, is-word flags, unit offsets per
    text). A CJK character is a unit; a run of word characters is one, never across texts."""
    n = len(cp)
    start = np.empty(n, dtype=np.int64)
    chars = np.empty(n, dtype=np.int64)
    is_word = np.empty(n, dtype=np.bool_)
    doc_start = np.empty(len(offsets), dtype=np.int64)
    u = 0
    for d in range(len(offsets) - 1):
        doc_start[d] = u
        in_word = False
        for i in range(offsets[d], offsets[d + 1]):
            k = table[cp[i]]
            if k & CJK:
                start[u] = i
                chars[u] = 1
                is_word[u] = False
                u += 1
                in_word = False
            elif k & WORD:
                if in_word:
                    chars[u - 1] += 1
                else:
                    start[u] = i
                    chars[u] = 1
                    is_word[u] = True
                    u += 1
                    in_word = True
            else:
                in_word = False
    doc_start[len(offsets) - 1] = u
    return start[:u].copy(), chars[:u].copy(), is_word[:u].copy(), doc_start


def _join_units(cp: np.ndarray, start: np.ndarray, chars: np.ndarray, doc_start: np.ndarray):  # noqa: ANN202
    """The code points of each text's units joined by single spaces, end to end, and where each text's line
    starts (compiled by numba)."""
    out = np.empty(int(chars.sum()) + len(start), dtype=np.uint32)
    line_start = np.empty(len(doc_start), dtype=np.int64)
    o = 0
    for d in range(len(doc_start) - 1):
        line_start[d] = o
        for u in range(doc_start[d], doc_start[d + 1]):
            if u > doc_start[d]:
                out[o] = 32
                o += 1
            for j in range(start[u], start[u] + chars[u]):
                out[o] = cp[j]
                o += 1
    line_start[len(doc_start) - 1] = o
    return out[:o], line_start


def unit_arrays(texts: Sequence[str], lowered: bool = False) -> Units:
    """The units of every text, as `curation.text.units` splits them (texts are lower-cased unless lowered)."""
    cp, offsets = codepoints(texts if lowered else [t.lower() for t in texts])
    table = char_classes()
    start, chars, is_word, doc_start = compiled(_split_units)(cp, offsets, table)
    return Units(doc_start, start, chars, is_word, cp, offsets)


def unit_lines(texts: Sequence[str], lowered: bool = False) -> list[str]:
    """`" ".join(units(t))` for every text: lower-cased units separated by single spaces (lowered: the texts are
    lower case already; lower-casing is idempotent, for every code point)."""
    if not texts:
        return []
    u = unit_arrays(texts, lowered)
    out, ends = compiled(_join_units)(u.cp, u.start, u.chars, u.doc_start)
    joined = out.tobytes().decode("utf-32-le", "surrogatepass")
    return [joined[a:b] for a, b in zip(ends[:-1].tolist(), ends[1:].tolist(), strict=True)]
