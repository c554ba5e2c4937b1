"""Train a byte-level BPE tokenizer on curated Parquet shards with Hugging Face tokenizers.

Streams the text column in record batches (never the whole corpus), splits text with a GPT-4-style regex, checks
decode(encode(x)) == x on a sample before anything is written, then writes tokenizer.json, vocab.txt, config.json
and manifest.json (last, as the mark of a complete output). It does not judge the tokens: that is the audit's job.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

from curation import __version__
from curation.config import ConfigError, check_range, to_dict
from curation.io import (
    InputError,
    atomic_write_bytes,
    missing_column_message,
    refuse_foreign_output,
    sha256_file,
    write_json,
)
from tokenizer.vocab import BYTE_DECODER, load_vocab, render_token

log = logging.getLogger(__name__)

# GPT-4's (cl100k) split, without possessive quantifiers, as Llama 3 ships it for HF tokenizers: contractions,
# letter runs with one leading non-letter, numbers of up to 3 digits, punctuation runs, newlines, other spaces.
# A run of Chinese characters is one letter run, so long Chinese tokens are possible: cap them with max_token_length.
GPT4_SPLIT_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"""
    r"""|\s+(?!\S)|\s+"""
)
# Texts that must round-trip whatever the corpus held: unseen scripts, invisible characters, stray spaces, specials.
ROUNDTRIP_PROBES = (
    "  two leading spaces, a tab\tand a trailing newline\n",
    "混合 English 与中文，全角：１２３，标点。",
    "zero\u200bwidth, bidi \u202eoverride\u202c, BOM \ufeff, emoji 🦜🏳️‍🌈, Ǆ, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "<|endoftext|> between <|endoftext|>",
    "\r\n\r\n   \u3000\u00a0",
)
SAMPLE_SEED = 0  # the round-trip sample is the same on every run over the same input
OUTPUT_FILES = ("tokenizer.json", "vocab.txt", "config.json", "manifest.json")
OWN_FILES = re.compile("(" + "|".join(map(re.escape, OUTPUT_FILES)) + r")(\.tmp)?")


class RoundTripError(RuntimeError):
    """The trained tokenizer does not give back the text it encoded."""


@dataclasses.dataclass(frozen=True)
class BpeConfig:
    """Everything `train_bpe` does, in one object: written as config.json beside the tokenizer."""

    vocab_size: int = 32_000  # total ids incl. 256 bytes and specials; Llama-2/Mistral size, enough for a small model
    min_frequency: int = 2  # a pair seen once is noise, not a pattern
    special_tokens: tuple[str, ...] = ("<|endoftext|>",)  # GPT-style document separator for packing; ids 0..n-1
    max_token_length: int | None = None  # most bytes in a token; None: no cap (as GPT-4); 16 stops long CJK phrases
    text_column: str = "text"  # the column `sieve curate` writes
    batch_rows: int = 1024  # documents read and handed to the trainer at once; bounds memory with long documents
    roundtrip_docs: int = 1000  # documents sampled (reservoir, fixed seed) for the decode(encode(x)) == x check

    def __post_init__(self) -> None:
        specials = self.special_tokens
        if isinstance(specials, str) or not all(isinstance(s, str) and s for s in specials):
            raise ConfigError(f"BpeConfig.special_tokens must be a list of non-empty strings, got {specials!r}")
        if len(set(specials)) != len(specials):
            raise ConfigError(f"BpeConfig.special_tokens has duplicates: {list(specials)!r}")
        check_range(self, "vocab_size", 256 + len(specials), 1 << 21)  # every byte and every special needs an id
        check_range(self, "min_frequency", 1, None)
        if self.max_token_length is not None:
            check_range(self, "max_token_length", 2, 1 << 16)  # 1 would forbid every merge
        if not self.text_column:
            raise ConfigError("BpeConfig.text_column must not be empty")
        check_range(self, "batch_rows", 1, 1 << 20)
        check_range(self, "roundtrip_docs", 0, 1 << 20)


# ------------------------------------------------------------------------------------------------ input


def parquet_inputs(shards: Sequence[str | Path]) -> list[Path]:
    """Parquet files from files and folders: a folder gives its part-*.parquet (or *.parquet, or its kept/)."""
    files: list[Path] = []
    for s in map(Path, shards):
        if s.is_dir():
            found = sorted(s.glob("part-*.parquet")) or sorted(s.glob("*.parquet"))
            if not found and (s / "kept").is_dir():
                found = sorted((s / "kept").glob("part-*.parquet"))
            if not found:
                raise InputError(
                    f"no Parquet files in {s}; pass the kept/ folder that `sieve curate` writes, or .parquet files"
                )
            files.extend(found)
        elif s.is_file():
            files.append(s)
        else:
            raise InputError(f"no such file or folder: {s}")
    if not files:
        raise InputError("no input given; pass the kept/ folder that `sieve curate` writes, or .parquet files")
    return files


def _open(path: Path, column: str) -> pq.ParquetFile:
    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as e:
        raise InputError(f"{path} is not a readable Parquet file ({e}); pass Parquet shards from `sieve curate`") from e
    schema = pf.schema_arrow
    if column not in schema.names:
        texts = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        raise InputError(missing_column_message(str(path), column, schema.names, "--text-column", eligible=texts))
    kind = schema.field(column).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise InputError(f"column `{column}` in {path} holds {kind}, not text; pass --text-column with a string column")
    return pf


@dataclasses.dataclass
class _Feed:
    """Counts what the trainer was fed and keeps a reservoir sample of documents for the round-trip check."""

    sample_size: int
    documents: int = 0
    characters: int = 0
    sample: list[str] = dataclasses.field(default_factory=list)
    rng: random.Random = dataclasses.field(default_factory=lambda: random.Random(SAMPLE_SEED))

    def add(self, texts: list[str]) -> None:
        for text in texts:
            self.documents += 1
            self.characters += len(text)
            if len(self.sample) < self.sample_size:
                self.sample.append(text)
            else:
                j = self.rng.randrange(self.documents)
                if j < self.sample_size:
                    self.sample[j] = text


def _batches(files: list[Path], cfg: BpeConfig, feed: _Feed) -> Iterator[list[str]]:
    for i, path in enumerate(files, 1):
        pf = _open(path, cfg.text_column)
        log.info("bpe: reading %s (%d/%d, %d rows)", path, i, len(files), pf.metadata.num_rows)
        for batch in pf.iter_batches(batch_size=cfg.batch_rows, columns=[cfg.text_column]):
            texts = [t for t in batch.column(0).to_pylist() if t]
            feed.add(texts)
            yield texts


# ------------------------------------------------------------------------------------------------ training


def new_tokenizer() -> Tokenizer:
    """An empty byte-level BPE: GPT-4-style split, bytes as GPT-2's printable stand-ins, ByteLevel decoder."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(GPT4_SPLIT_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    return tok


def _reusable(out: Path, files: list[Path], cfg: BpeConfig) -> dict[str, Any] | None:
    """The manifest of a complete earlier run in OUT with the same inputs (by sha256) and config, else None."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same_inputs = [(i["path"], i["sha256"]) for i in manifest.get("inputs", [])] == [
        (str(f), sha256_file(f)) for f in files
    ]
    if not same_inputs or manifest.get("config") != to_dict(cfg):
        return None
    if any(sha256_file(out / name) != digest for name, digest in manifest.get("files", {}).items()):
        return None
    return manifest


def check_roundtrip(tok: Tokenizer, texts: Sequence[str]) -> int:
    """Raise RoundTripError unless decode(encode(x)) == x for every text; returns how many were checked."""
    texts = list(texts)
    encoded = tok.encode_batch(texts, add_special_tokens=False)
    decoded = tok.decode_batch([e.ids for e in encoded], skip_special_tokens=False)
    bad = [(t, d) for t, d in zip(texts, decoded, strict=True) if t != d]
    if bad:
        text, got = bad[0]
        at = next((i for i, (a, b) in enumerate(zip(text, got, strict=False)) if a != b), min(len(text), len(got)))
        want, came = (render_token(s[max(0, at - 20) : at + 20]) for s in (text, got))
        raise RoundTripError(
            f"{len(bad)} of {len(texts)} texts do not survive decode(encode(x)); first differs at character {at}: "
            f"{want!r} came back as {came!r}"
        )
    return len(texts)


def _check_lengths(tok: Tokenizer, cfg: BpeConfig) -> None:
    """Every learnt token is at most max_token_length bytes (HF tokenizers 0.23 in fact stops one byte short)."""
    if cfg.max_token_length is None:
        return
    specials = set(cfg.special_tokens)
    longest = max((p for p in tok.get_vocab() if p not in specials), key=len)
    if len(longest) > cfg.max_token_length:
        raise RuntimeError(
            f"the trainer made {render_token(bytes(BYTE_DECODER[c] for c in longest))!r}, {len(longest)} bytes, "
            f"over max_token_length={cfg.max_token_length}: does this tokenizers version ignore max_token_length?"
        )


def _vocab_listing(path: Path, merges: list[Any]) -> str:
    """vocab.txt: one line per id with the rendered token and, for merged tokens, the pair it was merged from."""
    vocab = load_vocab(path)

    def piece(p: str) -> str:
        return render_token(bytes(BYTE_DECODER[c] for c in p))

    lines = [
        f"# {vocab.name}: {len(vocab.tokens)} tokens; id <TAB> token <TAB> merged from: left <TAB> right",
        "# tokens are rendered: \\n \\t \\x1b escapes, <U+202E> for invisible characters, <0xAB> for stray bytes, "
        "␣ for a space at either end",
    ]
    for t in vocab.tokens:
        if t.special:
            lines.append(f"{t.id}\t{render_token(t.text)}\t[special]")
        elif t.merge_rank is None:
            lines.append(f"{t.id}\t{render_token(t.raw)}")
        else:
            m = merges[t.merge_rank]
            left, right = m.split(" ") if isinstance(m, str) else m
            lines.append(f"{t.id}\t{render_token(t.raw)}\t{piece(left)}\t{piece(right)}")
    return "\n".join(lines) + "\n"


def train_bpe(
    shards: Sequence[str | Path], out: str | Path, config: BpeConfig | None = None, reuse: bool = True
) -> dict[str, Any]:
    """Train byte-level BPE on Parquet shards (files or folders); write the tokenizer to OUT; return the manifest.

    With reuse, a complete OUT from the same input bytes and config is kept as it is (a rerun skips training).
    """
    cfg = config or BpeConfig()
    out = Path(out)
    refuse_foreign_output(out, OWN_FILES, "sieve tokenizer train")
    files = parquet_inputs(shards)
    for f in files:
        _open(f, cfg.text_column)  # fail on a bad file before hours of training, not after
    done = _reusable(out, files, cfg) if reuse else None
    if done is not None:
        log.info("bpe: %s is complete for these inputs and config; reused", out)
        return done
    started = time.monotonic()

    tok = new_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=cfg.vocab_size,
        min_frequency=cfg.min_frequency,
        special_tokens=list(cfg.special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        max_token_length=cfg.max_token_length,
        show_progress=False,
    )
    feed = _Feed(cfg.roundtrip_docs)
    tok.train_from_iterator(_batches(files, cfg, feed), trainer=trainer)
    if feed.documents == 0:
        raise InputError(f"no non-empty `{cfg.text_column}` values in {len(files)} input file(s): nothing to train on")
    trained = tok.get_vocab_size(with_added_tokens=True)
    if trained < cfg.vocab_size:
        log.warning("bpe: corpus too small for %d tokens: trained %d", cfg.vocab_size, trained)
    checked = check_roundtrip(tok, [*feed.sample, *ROUNDTRIP_PROBES])
    _check_lengths(tok, cfg)

    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)  # absent until the output is complete
    tok_json = tok.to_str(pretty=True)
    atomic_write_bytes(out / "tokenizer.json", tok_json.encode("utf-8"))
    merges = json.loads(tok_json)["model"]["merges"]
    atomic_write_bytes(out / "vocab.txt", _vocab_listing(out / "tokenizer.json", merges).encode("utf-8"))
    write_json(out / "config.json", to_dict(cfg))
    manifest = {
        "sieve_version": __version__,
        "stage": "bpe",
        "inputs": [{"path": str(f), "sha256": sha256_file(f), "bytes": f.stat().st_size} for f in files],
        "documents": feed.documents,
        "characters": feed.characters,
        "vocab_size": trained,
        "requested_vocab_size": cfg.vocab_size,
        "merges": len(merges),
        "roundtrip_checked": checked,
        "seconds": round(time.monotonic() - started, 3),
        "files": {name: sha256_file(out / name) for name in OUTPUT_FILES[:-1]},
        "config": to_dict(cfg),
    }
    write_json(out / "manifest.json", manifest)
    log.info("bpe: %d tokens from %d documents in %.1f s -> %s", trained, feed.documents, manifest["seconds"], out)
    return manifest
