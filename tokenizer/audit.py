"""Audit a tokenizer's vocabulary: which tokens are spam phrases, broken bytes, invisible, repetitive, unreachable,
special or under-trained, with reasons and scores, and each token's script(s) and length.

Content categories (gambling, adult, spam) come from the curate stage's own lexicon (`Lexicon.match_token`) and
content classifier, on the folded token text; structural ones from the token itself and its tokenizer's encoder.
Corpus provenance is tokenizer/provenance.py, embedding indicators tokenizer/undertrained.py. Nothing here renders:
reports/ takes `AuditResult.to_dict()`, a plain dict whose schema is SCHEMA.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import regex

from curation.config import ConfigError, check_range, to_dict
from curation.lexicon import TOKEN_PREFIXES, Lexicon
from curation.progress import Progress
from curation.text import cjk_count, fold, units
from tokenizer.vocab import _HIDDEN, Token, Vocab, render_token

log = logging.getLogger(__name__)

SCHEMA = "sieve.audit/1"
CONTENT_CATEGORIES: tuple[str, ...] = ("gambling", "adult", "spam")
STRUCTURAL_CATEGORIES: tuple[str, ...] = ("partial_utf8", "control", "repetition", "unreachable", "special")
CATEGORIES: tuple[str, ...] = (*CONTENT_CATEGORIES, *STRUCTURAL_CATEGORIES, "undertrained")
NO_SPLIT_PATTERN = r"[\s\S]+"  # a tiktoken file without its split regex (tiktoken needs one; see bpe_merge)
RANK_BUCKETS = 20  # bars in the "flagged share by merge rank" plot


class NoEncoderError(ValueError):
    """No encoder can be built for a vocabulary's format here (the message says why and what to do)."""


@dataclasses.dataclass(frozen=True)
class AuditConfig:
    """Everything `audit` does, in one object: written into the JSON report as `config`."""

    categories: tuple[str, ...] = CATEGORIES  # every check; drop `unreachable` to skip the encoder (~0.7 s on o200k)
    lexicon_min_weight: float = 0.0  # every lexicon term flags; its weight (0.3 for everyday 彩票) becomes the score
    use_classifier: bool = True  # the lexicon misses new brands and spellings; off gives a lexicon-only audit
    classifier_model: str | None = None  # None: curate's default model (curation/data/models/content.bin)
    classifier_min_cjk_chars: int = 3  # a 2-character token is one Chinese word: too little for a topic
    classifier_min_words: int = 2  # one English word is the lexicon's job; a phrase gives fastText context
    classifier_min_prob: float = 0.9  # fastText is overconfident on fragments: on o200k most of 0.5-0.9 is noise
    classifier_clean_max_count: int = 0  # a phrase that clean text uses (人力资源, 广播电视) is no spam, whatever
    # fastText says of it alone: the classifier's flag alone is dropped when the phrase occurs more often than this
    # in the clean side of its own training sources (People's Daily 1998, reviews, CPython docs)
    # fastText scores a short fragment from a few hashed n-grams, and one stray n-gram can decide it (包括红楼梦:
    # gambling 0.99; 包括红楼 and 括红楼梦: clean). A classifier-only flag on a token of this many units or more
    # stands only if the token without its first or its last unit is still that label (p >= 0.5); shorter tokens
    # lose too much with a unit (在线国产 -> 线国产). 0 turns the check off.
    classifier_stable_min_units: int = 5
    repetition_min_copies: int = 4  # '啊啊啊啊', '===='; three copies are ordinary text ('...', '哈哈哈', 'www')
    repetition_max_unit_chars: int = 3  # units of 1-3 characters ('=', 'ha', '-=-'); longer repeats are phrases
    include_all: bool = False  # list every token, not only flagged ones (o200k: 200k rows, ~60 MB of JSON)
    text_column: str = "text"  # corpus: the column `sieve curate` writes
    top_documents: int = 5  # corpus: documents named per flagged token, enough to see where it comes from
    top_domains: int = 5  # corpus: domains named per flagged token
    corpus_batch_rows: int = 1024  # corpus: documents encoded at once; bounds memory with long documents
    encode_threads: int = 4  # corpus: tiktoken encoder threads (HF tokenizers uses its own pool)
    embedding_tensor: str | None = None  # model: None picks the 2-D tensor named like wte/embed_tokens/tok_embeddings
    unused_ids: tuple[int, ...] = ()  # model: ids known never to occur, beside reserved specials and padding rows
    undertrained_min_cosine: float = 0.5  # model: below it a row is not near the unused rows' shared direction
    undertrained_min_z: float = 4.0  # model: and an outlier (robust z) among ordinary rows; in few dimensions random
    # rows reach 0.5 by chance. Without known-unused rows: a norm this many robust SDs below the median

    def __post_init__(self) -> None:
        if isinstance(self.categories, str) or not self.categories:
            raise ConfigError(f"AuditConfig.categories must be a non-empty list of {list(CATEGORIES)}")
        unknown = sorted(set(self.categories) - set(CATEGORIES))
        if unknown:
            raise ConfigError(f"AuditConfig.categories has unknown {unknown}; categories are {list(CATEGORIES)}")
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "unused_ids", tuple(self.unused_ids))
        check_range(self, "lexicon_min_weight", 0.0, 10.0)
        check_range(self, "classifier_min_cjk_chars", 1, 1000)
        check_range(self, "classifier_min_words", 1, 1000)
        check_range(self, "classifier_min_prob", 0.0, 1.0)
        check_range(self, "classifier_clean_max_count", 0, None)
        check_range(self, "repetition_min_copies", 2, 1000)
        check_range(self, "repetition_max_unit_chars", 1, 16)
        check_range(self, "top_documents", 0, 1000)
        check_range(self, "top_domains", 0, 1000)
        check_range(self, "corpus_batch_rows", 1, 1 << 20)
        check_range(self, "encode_threads", 1, 256)
        check_range(self, "undertrained_min_cosine", -1.0, 1.0)
        check_range(self, "undertrained_min_z", 0.0, 1000.0)
        if not self.text_column:
            raise ConfigError("AuditConfig.text_column must not be empty")


# ------------------------------------------------------------------------------------------------ scripts

# Scripts named in reports; any other letter is `other`. Hiragana and katakana are reported together as `kana`.
SCRIPTS = (
    "Han", "Hiragana", "Katakana", "Hangul", "Latin", "Cyrillic", "Greek", "Arabic", "Hebrew", "Devanagari",
    "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala", "Thai", "Lao",
    "Tibetan", "Myanmar", "Georgian", "Armenian", "Ethiopic", "Khmer", "Bopomofo", "Syriac", "Thaana",
)  # fmt: skip
_SCRIPT_LABEL = {"Hiragana": "kana", "Katakana": "kana"}
_CHAR_KIND = regex.compile(
    "|".join(f"(?P<{s}>\\p{{Script={s}}})" for s in SCRIPTS)
    + r"|(?P<_digit>\p{N})|(?P<_space>\s)|(?P<_mark>\p{M})|(?P<_neutral>(?=\p{L})\p{Script=Common})"
    + r"|(?P<_other>\p{L})|(?P<_symbol>.)",
    regex.DOTALL,
)
_KIND_CACHE: dict[str, str] = {}


def char_kind(c: str) -> str:
    """A character's script label (Han, kana, Latin, ... other), or _digit/_space/_symbol/_mark/_neutral."""
    kind = _KIND_CACHE.get(c)
    if kind is None:
        m = _CHAR_KIND.match(c)
        name = m.lastgroup if m is not None and m.lastgroup else "_symbol"
        kind = _SCRIPT_LABEL.get(name, "other" if name == "_other" else name)
        _KIND_CACHE[c] = kind
    return kind


_ASCII_LETTER = re.compile("[A-Za-z]")
_ASCII_DIGIT = re.compile("[0-9]")


def token_script(text: str) -> tuple[str, tuple[str, ...]]:
    """(script, scripts): one letter script; `kana` for kana with or without Han; `mixed` for several;
    else digits, whitespace or symbols. scripts lists the letter scripts found (sorted)."""
    if text.isascii():  # two thirds of a typical vocabulary: skip the per-character lookups
        if _ASCII_LETTER.search(text):
            return "Latin", ("Latin",)
        if _ASCII_DIGIT.search(text):
            return "digits", ()
        return ("whitespace" if text.isspace() else "symbols"), ()
    kinds = {char_kind(c) for c in set(text)}
    letters = tuple(sorted(k for k in kinds if k[0] != "_"))
    if len(letters) == 1:
        return letters[0], letters
    if letters == ("Han", "kana"):
        return "kana", letters
    if letters:
        return "mixed", letters
    if "_digit" in kinds:
        return "digits", ()
    if kinds <= {"_space"}:
        return "whitespace", ()
    return "symbols", ()


def script_and_chars(t: Token) -> tuple[str, tuple[str, ...], int]:
    """A token's script(s) and length in characters; a partial-UTF-8 token counts each stray byte sequence as one
    character, and is `bytes` when nothing else is left."""
    if t.special:
        return "special", (), len(t.text)
    if not t.partial_utf8:
        return (*token_script(t.text), len(t.text))
    whole = t.raw.decode("utf-8", "ignore")
    script = token_script(whole) if whole.strip() else ("bytes", ())
    return (*script, len(t.raw.decode("utf-8", "replace")))


# ------------------------------------------------------------------------------------------------ encoders


class Encoder:
    """Encodes text to vocabulary ids with the tokenizer's own rules (no special tokens are recognised)."""

    name: str = "encoder"
    exact: bool = True  # False where the split pattern is unknown: results are a lower bound on unreachability

    def encode_batch(self, texts: list[str], threads: int = 1) -> list[list[int]]:
        raise NotImplementedError


def bpe_merge(raw: bytes, ranks: dict[bytes, int]) -> list[bytes]:
    """Byte-level BPE as tiktoken merges one piece: repeatedly join the adjacent pair whose join has the lowest rank
    (without tiktoken's shortcut of looking the whole piece up first)."""
    parts = [raw[i : i + 1] for i in range(len(raw))]
    while len(parts) > 1:
        best, at = None, -1
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and (best is None or r < best):
                best, at = r, i
        if best is None:
            break
        parts[at : at + 2] = [parts[at] + parts[at + 1]]
    return parts


class TiktokenEncoder(Encoder):
    """tiktoken.Encoding built from a tiktoken or tekken vocabulary's ranks and split pattern (never downloads)."""

    def __init__(self, vocab: Vocab) -> None:
        try:
            import tiktoken
        except ImportError as e:
            raise NoEncoderError("tiktoken is not installed; pip install tiktoken") from e
        ranks: dict[bytes, int] = {}
        offsets: set[int] = set()
        for t in vocab.tokens:
            if not t.special:
                rank = t.id if t.merge_rank is None else t.merge_rank
                ranks[t.raw] = rank
                offsets.add(t.id - rank)
        missing = [b for b in range(256) if bytes([b]) not in ranks]
        if missing:
            raise NoEncoderError(f"{vocab.name} has no token for {len(missing)} single bytes: tiktoken cannot encode")
        if len(offsets) != 1:
            raise NoEncoderError(f"{vocab.name}: ids are not ranks plus one offset; cannot map tiktoken ranks to ids")
        self.offset = offsets.pop()
        self.exact = vocab.pattern is not None
        self.name = "tiktoken" if self.exact else "BPE merges only (no split pattern)"
        self.ranks = ranks
        try:
            self.enc = tiktoken.Encoding(
                name=f"sieve-{vocab.name}",
                pat_str=vocab.pattern or NO_SPLIT_PATTERN,
                mergeable_ranks=ranks,
                special_tokens={},
            )
        except Exception as e:  # tiktoken raises ValueError for a bad regex, others for bad ranks
            raise NoEncoderError(f"tiktoken rejects {vocab.name}'s ranks or pattern: {e}") from e

    def encode_batch(self, texts: list[str], threads: int = 1) -> list[list[int]]:
        if not self.exact:  # tiktoken looks a whole piece up before merging: without the split, merge by hand
            return [[self.ranks[p] + self.offset for p in bpe_merge(t.encode("utf-8"), self.ranks)] for t in texts]
        if threads > 1 and len(texts) > 1:
            out = self.enc.encode_ordinary_batch(texts, num_threads=threads)
        else:  # a plain loop: the batch call's thread pool costs ~50 us per text, more than a short text
            encode = self.enc.encode_ordinary
            out = [encode(t) for t in texts]
        if self.offset:
            out = [[i + self.offset for i in ids] for ids in out]
        return out


class HfEncoder(Encoder):
    """Hugging Face tokenizers reading the vocabulary's own tokenizer.json."""

    name = "tokenizers"

    def __init__(self, vocab: Vocab) -> None:
        from tokenizers import Tokenizer

        try:
            self.tok = Tokenizer.from_file(vocab.source)
        except Exception as e:  # tokenizers raises a plain Exception for files it cannot build
            raise NoEncoderError(f"tokenizers cannot load {vocab.source}: {e}") from e

    def encode_batch(self, texts: list[str], threads: int = 1) -> list[list[int]]:
        return [e.ids for e in self.tok.encode_batch(texts, add_special_tokens=False)]


class SentencePieceEncoder(Encoder):
    """The sentencepiece package on the vocabulary's .model file (optional: only for corpus provenance)."""

    name = "sentencepiece"

    def __init__(self, vocab: Vocab) -> None:
        try:
            import sentencepiece as spm
        except ImportError as e:
            raise NoEncoderError(
                f"{vocab.format} needs the sentencepiece package to encode a corpus; pip install sentencepiece"
            ) from e
        self.sp = spm.SentencePieceProcessor(model_file=vocab.source)

    def encode_batch(self, texts: list[str], threads: int = 1) -> list[list[int]]:
        return self.sp.encode(texts, num_threads=threads)


def build_encoder(vocab: Vocab, for_corpus: bool = False) -> Encoder:
    """An encoder for the vocabulary; raises NoEncoderError saying why there is none.

    The unreachable check needs pieces that stand alone: byte-level BPE (tiktoken, tekken, HF ByteLevel). Pieces
    of SentencePiece-style vocabularies depend on their place in a word (a `▁` prefix, `##`), so only corpus
    provenance encodes with them.
    """
    fmt = vocab.format
    if fmt in ("tiktoken", "tekken"):
        enc: Encoder = TiktokenEncoder(vocab)
        if for_corpus and not enc.exact:
            raise NoEncoderError(
                f"{vocab.source} records no split pattern, so corpus counts would not match the real tokenizer; "
                f"audit it by its known name (e.g. o200k_base, qwen) or as a tokenizer.json"
            )
        return enc
    if fmt.startswith("hf-") and (for_corpus or fmt.endswith("bytelevel")):
        return HfEncoder(vocab)
    if fmt.startswith("sentencepiece") and for_corpus:
        return SentencePieceEncoder(vocab)
    raise NoEncoderError(
        f"{fmt} pieces depend on their place in a word (a ▁ prefix or ## continuation), so a piece encoded alone "
        f"proves nothing"
        if not for_corpus
        else f"no encoder for the {fmt} format"
    )


# ------------------------------------------------------------------------------------------------ result


@dataclasses.dataclass
class AuditResult:
    """An audit's findings; `to_dict()` is the plain, JSON-ready form every renderer takes."""

    tokenizer: dict[str, Any]
    config: AuditConfig
    summary: dict[str, Any]
    tokens: list[dict[str, Any]]  # flagged tokens (every token with include_all), by id
    distributions: dict[str, Any]
    checks: dict[str, Any]
    notes: list[str]
    timings: dict[str, float]
    provenance: dict[str, Any] | None = None
    undertrained: dict[str, Any] | None = None
    compare: dict[str, Any] | None = None
    vocab: Vocab | None = dataclasses.field(default=None, repr=False)  # not serialised: for compare()

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: {"schema", "tokenizer", "config", "summary", "tokens", "distributions", "checks",
        "notes", "timings", "provenance", "undertrained", "compare"}."""
        return {
            "schema": SCHEMA,
            "tokenizer": self.tokenizer,
            "config": to_dict(self.config),
            "summary": self.summary,
            "tokens": self.tokens,
            "distributions": self.distributions,
            "checks": self.checks,
            "notes": self.notes,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "provenance": self.provenance,
            "undertrained": self.undertrained,
            "compare": self.compare,
        }


class _Flags:
    """id -> category -> (score, reasons)."""

    def __init__(self) -> None:
        self.by_id: dict[int, dict[str, tuple[float, list[str]]]] = {}

    def add(self, tid: int, category: str, score: float, reason: str) -> None:
        cats = self.by_id.setdefault(tid, {})
        old = cats.get(category)
        if old is None:
            cats[category] = (score, [reason])
        else:
            old[1].append(reason)
            cats[category] = (max(old[0], score), old[1])


# ------------------------------------------------------------------------------------------------ checks


def _strip_prefix(text: str) -> str:
    while text.startswith(TOKEN_PREFIXES):
        text = text[1:]
    return text


def _classifier_text(text: str, cfg: AuditConfig) -> str | None:
    """The folded token text when it is long enough for the classifier: enough CJK characters, enough words, or
    as many CJK characters and words together as the CJK minimum (亚洲AV: two characters and a word)."""
    bare = _strip_prefix(text)
    if bare.isascii() and " " not in bare.strip():
        return None  # one English word (or none): the lexicon's job
    folded = fold(bare).strip()
    n_cjk = cjk_count(folded)
    n_words = sum(1 for w in folded.split() if any(c.isalpha() and not cjk_count(c) for c in w))
    if n_cjk >= cfg.classifier_min_cjk_chars or n_words >= cfg.classifier_min_words:
        return folded
    return folded if n_cjk and n_cjk + n_words >= cfg.classifier_min_cjk_chars else None


@functools.lru_cache(maxsize=1)
def _clean_reference() -> tuple[str, ...]:
    """The clean side of the content classifier's sources (People's Daily 1998, reviews, CPython docs), folded."""
    from curation.classifier import SOURCES, clean_texts

    return tuple(fold(t) for source in SOURCES for t in clean_texts(source))


def clean_text_counts(phrases: Iterable[str]) -> dict[str, int]:
    """How often each folded phrase occurs in the clean reference text the classifier learnt `clean` from."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for p in phrases:
        automaton.add_word(p, p)
    if len(automaton) == 0:
        return {}
    automaton.make_automaton()
    counts: Counter[str] = Counter()
    for text in _clean_reference():
        for _, p in automaton.iter(text):
            counts[p] += 1
    return dict(counts)


def _content(tokens: list[Token], cfg: AuditConfig, flags: _Flags, notes: list[str]) -> dict[str, int]:
    """Lexicon on every ordinary token; the classifier on tokens long enough to mean something."""
    wanted = [c for c in CONTENT_CATEGORIES if c in cfg.categories]
    if not wanted:
        return {}
    lexicon = Lexicon.default()
    weights = {c: lexicon.terms(c) for c in wanted}
    candidates: list[tuple[int, str]] = []
    checked = [t for t in tokens if not t.special or t.matches_text]
    for t in checked:
        for cat, term in lexicon.match_token(t.text, cfg.lexicon_min_weight):
            if cat in weights:
                flags.add(t.id, cat, min(1.0, weights[cat].get(term, 1.0)), f"{cat}: lexicon {term}")
        if cfg.use_classifier and not t.partial_utf8 and (folded := _classifier_text(t.text, cfg)) is not None:
            candidates.append((t.id, folded))
    stats = {"lexicon_checked": len(checked), "classifier_checked": len(candidates)}
    if cfg.use_classifier and candidates:
        from curation.classifier import ContentClassifier, default_model_path

        clf = ContentClassifier.load(cfg.classifier_model or default_model_path())
        found = []
        for (tid, folded), (label, prob) in zip(candidates, clf.predict([f for _, f in candidates]), strict=True):
            if label in weights and prob >= cfg.classifier_min_prob:
                found.append((tid, folded, label, prob))
        alone = {folded for tid, folded, label, _ in found if label not in flags.by_id.get(tid, {})}
        clean = clean_text_counts(alone) if alone else {}
        suppressed = 0
        alone_found = []
        for tid, folded, label, prob in found:
            if label in flags.by_id.get(tid, {}):  # the lexicon agrees: no further check
                flags.add(tid, label, prob, f"{label}: classifier {prob:.2f}")
            elif clean.get(folded, 0) > cfg.classifier_clean_max_count:
                suppressed += 1
            else:
                alone_found.append((tid, folded, label, prob))
        unstable = _unstable(clf, [(f, label) for _, f, label, _ in alone_found], cfg.classifier_stable_min_units)
        for (tid, _, label, prob), drop in zip(alone_found, unstable, strict=True):
            if not drop:
                flags.add(tid, label, prob, f"{label}: classifier {prob:.2f}")
        stats["classifier_flagged"] = len(found) - suppressed - sum(unstable)
        stats["classifier_dropped_clean_text"] = suppressed
        stats["classifier_dropped_unstable"] = sum(unstable)
    elif not cfg.use_classifier:
        notes.append("content classifier off: gambling/adult/spam from the lexicon only")
    return stats


def _unstable(clf: Any, found: list[tuple[str, str]], min_units: int) -> list[bool]:
    """For each (folded text, label): True when the text has min_units units or more and neither the text without
    its first unit nor without its last is predicted as the label with p >= 0.5 (see classifier_stable_min_units)."""
    out = [False] * len(found)
    if min_units <= 0:
        return out
    probe: list[int] = []
    texts: list[str] = []
    for i, (folded, _) in enumerate(found):
        us = units(folded)
        if len(us) >= min_units:
            probe.append(i)
            texts += [" ".join(us[1:]), " ".join(us[:-1])]
    preds = clf.predict(texts) if texts else []
    for k, i in enumerate(probe):
        label = found[i][1]
        out[i] = not any(p_label == label and p >= 0.5 for p_label, p in preds[2 * k : 2 * k + 2])
    return out


_JOINERS = frozenset("\u200c\u200d") | frozenset(map(chr, range(0xFE00, 0xFE10)))  # ZWNJ, ZWJ, variation selectors


def _joined(text: str, i: int) -> bool:
    """A joiner or variation selector at i that sits beside a letter, mark or symbol: spelling, not junk
    (ZWNJ in Persian and Malayalam words, ZWJ in emoji sequences, VS16 after an emoji)."""
    return any(0 <= j < len(text) and unicodedata.category(text[j])[0] in "LMS" for j in (i - 1, i + 1))


_CATEGORY_NAMES = {"Cc": "control", "Co": "private use", "Cn": "unassigned", "Cs": "surrogate"}


def _char_name(c: str) -> str:
    cat = unicodedata.category(c)
    return unicodedata.name(c, "") or _CATEGORY_NAMES.get(cat, cat)


def _control_reason(text: str) -> str | None:
    if text.isprintable() and not _HIDDEN.search(text):
        return None
    found = [
        c
        for i, c in enumerate(text)
        if c not in "\t\n\r"
        and (not c.isprintable() or _HIDDEN.match(c))
        and unicodedata.category(c) != "Zs"  # no-break and wide spaces are whitespace
        and not (c in _JOINERS and _joined(text, i))
    ]
    if not found:
        return None
    seen = list(dict.fromkeys(found))
    names = ", ".join(f"U+{ord(c):04X} {_char_name(c)}" for c in seen[:3])
    return f"control: {names}" + (f" (+{len(seen) - 3} more)" if len(seen) > 3 else "")


def _repetition_reason(text: str, pattern: re.Pattern[str]) -> tuple[float, str] | None:
    for m in pattern.finditer(text):
        unit = m.group(1)
        if unit.isspace():
            continue  # indentation and blank-line runs are how code is written
        copies = len(m.group(0)) // len(unit)
        return len(m.group(0)) / len(text), f"repetition: {render_token(unit)!r} x{copies}"
    return None


def _structural(tokens: list[Token], cfg: AuditConfig, flags: _Flags) -> None:
    cats = set(cfg.categories)
    rep = re.compile(rf"(.{{1,{cfg.repetition_max_unit_chars}}}?)\1{{{cfg.repetition_min_copies - 1},}}", re.DOTALL)
    min_rep_chars = cfg.repetition_min_copies
    for t in tokens:
        if t.special:
            if "special" in cats:
                why = "added by hand, matched in text as written" if t.matches_text else "special or control token"
                flags.add(t.id, "special", 1.0, f"special: not learnt from text ({why})")
            continue
        if t.partial_utf8 and "partial_utf8" in cats:
            flags.add(t.id, "partial_utf8", 1.0, f"partial_utf8: {t.text} is not complete UTF-8")
        text = t.text
        if "control" in cats and (reason := _control_reason(text)) is not None:
            flags.add(t.id, "control", 1.0, reason)
        if "repetition" in cats and len(text) >= min_rep_chars and (found := _repetition_reason(text, rep)):
            flags.add(t.id, "repetition", *found)


def _pieces(ids: list[int], by_id: dict[int, Token], limit: int = 6) -> str:
    shown = [f"{i} {render_token(by_id[i].raw) if i in by_id else '?'}" for i in ids[:limit]]
    return " + ".join(shown) + (f" + ... ({len(ids)} tokens)" if len(ids) > limit else "")


def _unreachable(vocab: Vocab, flags: _Flags, notes: list[str]) -> dict[str, Any]:
    """Tokens that encoding their own text does not give back (Land & Bartolo 2024 call them unreachable)."""
    try:
        encoder = build_encoder(vocab)
    except NoEncoderError as e:
        notes.append(f"unreachable: not checked for {vocab.name}: {e}")
        return {"checked": 0, "method": None, "skipped_reason": str(e)}
    if not encoder.exact:
        notes.append(
            f"unreachable: {vocab.source} records no split pattern; checked whether BPE merges can build each token "
            f"from its bytes (a lower bound: the real split can only make more tokens unreachable); audit it by its "
            f"known name for the exact check"
        )
    by_bytes = vocab.by_bytes()
    todo = [t for t in vocab.tokens if not t.special and not t.partial_utf8 and not t.byte_piece]
    by_id = vocab.by_id()
    for t in todo:
        other = by_bytes.get(t.raw)
        if other is not None and other != t.id:
            flags.add(t.id, "unreachable", 1.0, f"unreachable: same bytes as id {other}, which encoding picks")
    encoded = encoder.encode_batch([t.text for t in todo])
    unreachable = 0
    for t, ids in zip(todo, encoded, strict=True):
        if ids != [t.id] and by_bytes.get(t.raw) == t.id:
            unreachable += 1
            flags.add(t.id, "unreachable", 1.0, f"unreachable: encodes as {_pieces(ids, by_id)}")
    skipped = len(vocab.tokens) - len(todo)
    return {"checked": len(todo), "skipped": skipped, "method": encoder.name, "exact": encoder.exact}


# ------------------------------------------------------------------------------------------------ audit


def _token_record(t: Token, info: tuple[str, tuple[str, ...], int]) -> dict[str, Any]:
    return {
        "id": t.id,
        "text": t.text,
        "rendered": render_token(t.text),
        "hex": t.raw.hex(),
        "categories": [],
        "reasons": [],
        "scores": {},
        "score": 0.0,
        "script": info[0],
        "scripts": list(info[1]),
        "chars": info[2],
        "bytes": len(t.raw),
        "merge_rank": t.merge_rank,
        "special": t.special,
    }


def _distributions(tokens: list[Token], info: dict[int, tuple[str, tuple[str, ...], int]], flags: _Flags) -> dict:
    """Counts behind the plots: length by script; flagged share by length and by merge rank (ordinary tokens)."""
    content = set(CONTENT_CATEGORIES)
    length_by_script: dict[str, Counter[int]] = {}
    content_by_script: dict[str, Counter[int]] = {}
    by_length: dict[int, list[int]] = {}
    ordinary = [t for t in tokens if not t.special]
    has_rank = any(t.merge_rank is not None for t in ordinary)
    ranks = [(t.merge_rank if has_rank else t.id) for t in ordinary]
    top = max((r for r in ranks if r is not None), default=0) + 1
    width = max(1, math.ceil(top / RANK_BUCKETS))
    buckets = [[0, 0, 0] for _ in range(math.ceil(top / width))]
    for t, rank in zip(ordinary, ranks, strict=True):
        script, _, n = info[t.id]
        length_by_script.setdefault(script, Counter())[n] += 1
        cats = flags.by_id.get(t.id)
        row = by_length.setdefault(n, [0, 0, 0])
        row[0] += 1
        flagged, is_content = bool(cats), bool(cats and content & cats.keys())
        row[1] += flagged
        row[2] += is_content
        if is_content:
            content_by_script.setdefault(script, Counter())[n] += 1
        if rank is not None:
            b = buckets[rank // width]
            b[0] += 1
            b[1] += flagged
            b[2] += is_content
    return {
        "length_by_script": {s: dict(sorted(c.items())) for s, c in sorted(length_by_script.items())},
        "content_by_script_length": {s: dict(sorted(c.items())) for s, c in sorted(content_by_script.items())},
        "flagged_by_length": [
            {"chars": n, "tokens": r[0], "flagged": r[1], "content": r[2]} for n, r in sorted(by_length.items())
        ],
        "flagged_by_rank": {
            "rank": "merge_rank" if has_rank else "id",
            "bucket_width": width,
            "buckets": [
                {"start": i * width, "end": (i + 1) * width - 1, "tokens": b[0], "flagged": b[1], "content": b[2]}
                for i, b in enumerate(buckets)
            ],
        },
    }


def audit(
    vocab: Vocab,
    config: AuditConfig | None = None,
    corpus: Sequence[str | Path] | str | Path | None = None,
    model: str | Path | None = None,
    progress: Progress | None = None,
) -> AuditResult:
    """Categorise every token of a vocabulary; with `corpus` (Parquet shards) add provenance, with `model` (a
    safetensors checkpoint) under-trained indicators."""
    cfg = config or AuditConfig()
    cats = set(cfg.categories)
    timings: dict[str, float] = {}
    notes: list[str] = []
    flags = _Flags()
    tokens = vocab.tokens

    t0 = time.perf_counter()
    info = {t.id: script_and_chars(t) for t in tokens}
    timings["scripts"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    content_stats = _content(tokens, cfg, flags, notes)
    timings["content"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    _structural(tokens, cfg, flags)
    timings["structural"] = time.perf_counter() - t0

    checks: dict[str, Any] = {"content": content_stats}
    if "unreachable" in cats:
        t0 = time.perf_counter()
        checks["unreachable"] = _unreachable(vocab, flags, notes)
        timings["unreachable"] = time.perf_counter() - t0

    under: dict[str, Any] | None = None
    if model is not None and "undertrained" in cats:
        from tokenizer.undertrained import undertrained

        t0 = time.perf_counter()
        under = undertrained(
            model,
            vocab,
            cfg.embedding_tensor,
            cfg.unused_ids,
            cfg.undertrained_min_cosine,
            cfg.undertrained_min_z,
        )
        for tid, reason in under["flagged"].items():
            flags.add(tid, "undertrained", float(under["score"][tid]), reason)
        notes.extend(under["notes"])
        timings["undertrained"] = time.perf_counter() - t0

    prov: dict[str, Any] | None = None
    if corpus is not None:
        from tokenizer.provenance import corpus_provenance

        t0 = time.perf_counter()
        encoder = build_encoder(vocab, for_corpus=True)
        shards = [corpus] if isinstance(corpus, str | Path) else list(corpus)
        threads = min(cfg.encode_threads, os.cpu_count() or 1)
        prov = corpus_provenance(
            shards,
            lambda texts: encoder.encode_batch(texts, threads),
            vocab.vocab_size,
            flags.by_id.keys(),
            cfg.text_column,
            cfg.top_documents,
            cfg.top_domains,
            cfg.corpus_batch_rows,
            progress,
        )
        timings["provenance"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    records: list[dict[str, Any]] = []
    listed = tokens if cfg.include_all else [t for t in tokens if t.id in flags.by_id]
    for t in listed:
        rec = _token_record(t, info[t.id])
        found = flags.by_id.get(t.id, {})
        for cat in CATEGORIES:  # a fixed order, whatever order the checks ran in
            if cat in found:
                score, reasons = found[cat]
                rec["categories"].append(cat)
                rec["reasons"].extend(reasons)
                rec["scores"][cat] = round(score, 4)
        evidence = [rec["scores"][c] for c in (*CONTENT_CATEGORIES, "undertrained") if c in rec["scores"]]
        rec["score"] = max(evidence, default=0.0)
        records.append(rec)
    if prov is not None:
        counts = prov["counts"]
        for r in records:
            src = prov["sources"].get(r["id"], {})
            r["corpus_count"] = int(counts[r["id"]]) if r["id"] < len(counts) else 0
            r["corpus_documents"] = src.get("documents", 0)
            r["top_documents"] = src.get("top_documents", [])
            r["top_domains"] = src.get("top_domains", [])
        ordinary = [t.id for t in tokens if not t.special]
        never = [i for i in ordinary if counts[i] == 0]
        flagged_never = [i for i in flags.by_id if not vocab.by_id()[i].special and counts[i] == 0]
        prov = {
            "files": prov["files"],
            "documents": prov["documents"],
            "tokens": prov["tokens"],
            "ordinary_tokens": len(ordinary),
            "never_seen": len(never),
            "flagged_seen": sum(1 for i in flags.by_id if counts[i] > 0),
            "flagged_never_seen": sorted(flagged_never),
        }
    if under is not None:
        for r in records:
            r["embedding_norm"] = round(float(under["norm"][r["id"]]), 6)
            cos = float(under["cosine"][r["id"]])
            r["unused_cosine"] = None if math.isnan(cos) else round(cos, 6)
            r["undertrained_score"] = round(float(under["score"][r["id"]]), 6)
        under = {k: under[k] for k in ("tensor", "shape", "dtype", "method", "threshold", "notes")} | {
            "reference_tokens": len(under["reference_ids"]),
            "flagged": len(under["flagged"]),
        }
    summary = _summary(tokens, info, flags, cfg)
    distributions = _distributions(tokens, info, flags)
    timings["records"] = time.perf_counter() - t0
    log.info(
        "audit %s: %d of %d tokens flagged %s", vocab.name, summary["flagged"], len(tokens), summary["by_category"]
    )
    return AuditResult(
        tokenizer=tokenizer_info(vocab),
        config=cfg,
        summary=summary,
        tokens=records,
        distributions=distributions,
        checks=checks,
        notes=notes,
        timings=timings,
        provenance=prov,
        undertrained=under,
        vocab=vocab,
    )


def tokenizer_info(vocab: Vocab) -> dict[str, Any]:
    """The `tokenizer` block of a report."""
    return {
        "name": vocab.name,
        "source": vocab.source,
        "vocab_size": vocab.vocab_size,
        "sha256": vocab.sha256,
        "format": vocab.format,
        "tokens": len(vocab.tokens),
    }


def _summary(
    tokens: list[Token], info: dict[int, tuple[str, tuple[str, ...], int]], flags: _Flags, cfg: AuditConfig
) -> dict[str, Any]:
    by_category = {c: 0 for c in CATEGORIES if c in cfg.categories}
    by_cat_script: dict[str, Counter[str]] = {c: Counter() for c in by_category}
    by_script: Counter[str] = Counter()
    content = 0
    for tid, cats in flags.by_id.items():
        script = info[tid][0]
        by_script[script] += 1
        content += bool(set(CONTENT_CATEGORIES) & cats.keys())
        for c in cats:
            by_category[c] += 1
            by_cat_script[c][script] += 1
    return {
        "tokens": len(tokens),
        "flagged": len(flags.by_id),
        "content_flagged": content,
        "by_category": by_category,
        "by_script": dict(by_script.most_common()),
        "tokens_by_script": dict(Counter(s for s, _, _ in info.values()).most_common()),
        "by_category_script": {c: dict(v.most_common()) for c, v in by_cat_script.items()},
    }


# ------------------------------------------------------------------------------------------------ compare and gate


def compare(this: AuditResult, other: AuditResult, categories: Iterable[str] = CONTENT_CATEGORIES) -> dict[str, Any]:
    """Tokens flagged (in `categories`) in one audit and not the other, and in both, matched by their bytes."""
    wanted = set(categories)

    def flagged(res: AuditResult) -> dict[str, dict[str, Any]]:
        return {r["hex"]: r for r in res.tokens if wanted & set(r["categories"]) and not r["special"]}

    def ids(res: AuditResult) -> dict[str, int]:
        assert res.vocab is not None, "compare needs results from audit(), which keep their vocabulary"
        return {raw.hex(): i for raw, i in res.vocab.by_bytes().items()}

    mine, theirs = flagged(this), flagged(other)
    my_ids, their_ids = ids(this), ids(other)

    def entry(h: str, rec: dict[str, Any], here: dict[str, Any] | None, there: dict[str, Any] | None) -> dict:
        return {
            "text": rec["text"],
            "hex": h,
            "id": my_ids.get(h),
            "other_id": their_ids.get(h),
            "categories": [c for c in (here or {}).get("categories", []) if c in wanted],
            "other_categories": [c for c in (there or {}).get("categories", []) if c in wanted],
        }

    shared = [entry(h, r, r, theirs[h]) for h, r in mine.items() if h in theirs]
    only_this = [entry(h, r, r, None) for h, r in mine.items() if h not in theirs]
    only_other = [entry(h, r, None, r) for h, r in theirs.items() if h not in mine]
    return {
        "other": tokenizer_info(other.vocab) if other.vocab is not None else other.tokenizer,
        "categories": sorted(wanted),
        "counts": {"shared": len(shared), "only_this": len(only_this), "only_other": len(only_other)},
        "shared": shared,
        "only_this": only_this,
        "only_other": only_other,
    }


def gate(report: dict[str, Any], categories: Iterable[str], max_flagged: int) -> tuple[bool, int]:
    """(failed, n): n tokens of the report are flagged in any of `categories`; failed when n > max_flagged."""
    wanted = set(categories)
    n = sum(1 for r in report["tokens"] if wanted & set(r["categories"]))
    return n > max_flagged, n
