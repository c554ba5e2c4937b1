"""Unicode normalisation of document text: NFKC, full-width to half-width, control characters, whitespace.

It changes only how text is written, never what it says; the normalised text is what later stages see.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from curation.config import ConfigError


@dataclasses.dataclass(frozen=True)
class NormalizeConfig:
    """How text is normalised before filtering and deduplication."""

    nfkc: bool = True  # folds compatibility forms (full-width letters, ligatures, circled digits) as Unicode says
    fullwidth_to_halfwidth: bool = True  # full-width ASCII and the ideographic space; NFKC does this already
    remove_control: bool = True  # C0/C1 controls except tab and newline, plus invisible format characters
    collapse_whitespace: bool = True  # runs of spaces to one, 3+ newlines to a paragraph break, trim lines
    keep_original: bool = False  # also store the text as read, in `text_original`
    max_chars: int = 10_000_000  # longer texts are cut here (and counted), so one document cannot exhaust memory

    def __post_init__(self) -> None:
        if self.max_chars < 1:
            raise ConfigError(f"NormalizeConfig.max_chars = {self.max_chars} must be >= 1")


# Full-width ASCII (U+FF01..U+FF5E) to ASCII, and the ideographic space to a space.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_FULLWIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")
_FULLWIDTH_STR = {chr(k): chr(v) for k, v in _FULLWIDTH.items()}


def _halfwidth(m: re.Match[str]) -> str:
    return _FULLWIDTH_STR[m.group()]


# Invisible characters that carry no text: zero-width space, word joiner, BOM, soft hyphen, bidi controls.
# ZWJ/ZWNJ (U+200C/D) stay: Indic scripts and emoji sequences need them.
_INVISIBLE = "\u00ad\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_CONTROL_RE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_INVISIBLE}]")
_HSPACE_RE = re.compile(r"[^\S\n]+")  # whitespace other than newline
_SPACE_AROUND_NL_RE = re.compile(r" ?\n ?")
_MANY_NL_RE = re.compile(r"\n{3,}")
# Whitespace other than space and newline, as an explicit class (`\s` is str.isspace; all of it lies below U+3001):
# one scan of a plain class, plus substring tests, tells whether the whitespace substitutions would change anything.
_ODD_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in " \n")
_ODD_SPACE_RE = re.compile(f"[{re.escape(_ODD_SPACES)}]")


def _needs_whitespace_fix(text: str) -> bool:
    return "  " in text or " \n" in text or "\n " in text or _ODD_SPACE_RE.search(text) is not None


def normalize(text: str, config: NormalizeConfig) -> str:
    """Return text normalised as config says."""
    if len(text) > config.max_chars:
        text = text[: config.max_chars]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if config.nfkc and not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        # Full-width ASCII and U+3000 are most of what NFKC changes in Chinese web text. Mapping them first, as NFKC
        # itself does (each is its own compatibility decomposition), leaves NFKC's result unchanged, and often a
        # text that is NFKC already, which is cheap to check: 3x faster than normalising every such text.
        text = _FULLWIDTH_RE.sub(_halfwidth, text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    if config.fullwidth_to_halfwidth and not config.nfkc and not text.isascii():
        text = text.translate(_FULLWIDTH)  # NFKC already maps full-width ASCII and U+3000 the same way
    if config.remove_control:
        text = _CONTROL_RE.sub("", text)
    if config.collapse_whitespace:
        if _needs_whitespace_fix(text):
            text = _HSPACE_RE.sub(" ", text)
            text = _SPACE_AROUND_NL_RE.sub("\n", text)
        if "\n\n\n" in text:
            text = _MANY_NL_RE.sub("\n\n", text)
        text = text.strip()
    return text
