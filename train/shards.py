"""Token shards: encode curate's kept Parquet shards into memory-mappable Arrow IPC files, and open them again.

`tokenize_shards` writes OUT/part-00000.arrow, ... (Arrow IPC *stream* format, uncompressed, one record batch per
input batch: the format `datasets` memory-maps; its Dataset.from_file cannot read the IPC file format) with columns
id (string), input_ids (list<uint16>, or list<uint32> above 65536 ids) and length (int32), then OUT/manifest.json.
Each document ends with the EOS id of `<|endoftext|>` when TokenizeConfig.append_eos (the default, and what
train/data.py's packing needs). Documents never span shards. Same inputs and config give the same bytes.

How another trainer reads the token shards:

    import pyarrow as pa, numpy as np, json
    man = json.load(open("tok/manifest.json"))                  # shard list, eos_id, dtype, vocab_size
    t = pa.ipc.open_stream(pa.memory_map("tok/part-00000.arrow")).read_all()   # zero-copy, memory-mapped
    for b in t.column("input_ids").chunks:                      # one chunk per written record batch
        flat = b.values.to_numpy(zero_copy_only=True)           # all tokens of the chunk, uint16, no copy
        starts = b.offsets.to_numpy()                           # document k is flat[starts[k]:starts[k+1]]
    # or: datasets.Dataset.from_file("tok/part-00000.arrow")
    #     datasets.load_dataset("arrow", data_files=["tok/part-*.arrow"], split="train")
    # or here: open_token_shards("tok") and token_chunks(table) -> [(flat tokens, offsets), ...]
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tokenizers import Tokenizer

from curation import __version__
from curation.config import ConfigError, check_range, to_dict
from curation.io import InputError, atomic_write_bytes, refuse_foreign_output, sha256_file, write_json
from tokenizer.bpe import parquet_inputs

log = logging.getLogger(__name__)

EOS_TOKEN = "<|endoftext|>"  # the document separator BpeConfig.special_tokens puts first
MANIFEST = "manifest.json"
SHARD_GLOB = "part-*.arrow"
TOKENIZER_COPY = "tokenizer.json"
OWN_FILES = re.compile(r"(part-\d{5,}\.arrow|manifest\.json|tokenizer\.json)(\.tmp)?")  # what a token folder holds
UINT16_MAX_VOCAB = 1 << 16  # ids 0..65535 fit uint16: half the bytes of uint32 for every vocabulary up to 64k


@dataclasses.dataclass(frozen=True)
class TokenizeConfig:
    """How `sieve tokenize` reads documents and cuts token shards."""

    text_column: str = "text"  # the column of the kept shards that holds the text
    batch_rows: int = 1024  # documents read and encoded at once; one Arrow record batch per read batch
    shard_tokens: int = 50_000_000  # tokens per output shard: ~100 MB as uint16; ends after the doc that reaches it
    append_eos: bool = True  # end every document with <|endoftext|>: the separator packing relies on

    def __post_init__(self) -> None:
        if not self.text_column:
            raise ConfigError("TokenizeConfig.text_column must not be empty")
        check_range(self, "batch_rows", 1, 1 << 20)
        check_range(self, "shard_tokens", 1, 1 << 30)  # int32 list offsets per record batch stay far from overflow
        if not isinstance(self.append_eos, bool):
            raise ConfigError(f"TokenizeConfig.append_eos must be true or false, got {self.append_eos!r}")


def token_schema(vocab_size: int) -> pa.Schema:
    """Schema of a token shard: uint16 ids when the vocabulary fits, else uint32."""
    id_type = pa.uint16() if vocab_size <= UINT16_MAX_VOCAB else pa.uint32()
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),  # the document id from the kept shards
            pa.field("input_ids", pa.list_(id_type), nullable=False),  # EOS last when append_eos
            pa.field("length", pa.int32(), nullable=False),  # len(input_ids)
        ]
    )


def load_tokenizer(tokenizer_dir: Path) -> tuple[Tokenizer, Path]:
    """The HF tokenizer in DIR/tokenizer.json (or the file itself), and its path."""
    tokenizer_dir = Path(tokenizer_dir)
    path = tokenizer_dir if tokenizer_dir.is_file() else tokenizer_dir / "tokenizer.json"
    if not path.is_file():
        raise InputError(f"no tokenizer.json in {tokenizer_dir}; pass the folder `sieve tokenizer train` wrote")
    try:
        return Tokenizer.from_file(str(path)), path
    except Exception as e:  # tokenizers raises a bare Exception on a malformed file
        raise InputError(f"{path} is not a readable tokenizers file ({e}); retrain or pass another --tokenizer") from e


def _documents(files: list[Path], cfg: TokenizeConfig) -> Iterator[tuple[list[str], list[str]]]:
    """(ids, texts) per record batch of the kept shards, reading only the two columns."""
    for path in files:
        try:
            pf = pq.ParquetFile(path)
        except (OSError, pa.ArrowInvalid) as e:
            raise InputError(
                f"{path} is not a readable Parquet file ({e}); pass the kept/ shards of `sieve curate`"
            ) from e
        names = pf.schema_arrow.names
        for col, fix in (("id", "pass the kept/ shards of `sieve curate`"), (cfg.text_column, "set --text-column")):
            if col not in names:
                raise InputError(f"no column `{col}` in {path}; columns are [{', '.join(names)}]; {fix}")
        for batch in pf.iter_batches(batch_size=cfg.batch_rows, columns=["id", cfg.text_column]):
            ids, texts = batch.column(0), batch.column(1)
            if ids.null_count or texts.null_count:
                raise InputError(f"{path}: null `id` or `{cfg.text_column}` values; pass the kept/ shards of curate")
            yield ids.to_pylist(), texts.to_pylist()


class _ShardWriter:
    """Writes record batches into part-NNNNN.arrow files of about shard_tokens tokens, each renamed when complete."""

    def __init__(self, out: Path, schema: pa.Schema, shard_tokens: int) -> None:
        self.out, self.schema, self.shard_tokens = out, schema, shard_tokens
        self.np_dtype = np.uint16 if schema.field("input_ids").type.value_type == pa.uint16() else np.uint32
        self.shards: list[dict[str, Any]] = []
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None
        self._sink: pa.NativeFile | None = None
        self._rows = self._tokens = 0

    def _path(self, n: int) -> Path:
        return self.out / f"part-{n:05d}.arrow"

    def write(self, ids: list[str], docs: list[np.ndarray]) -> None:
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        start = 0
        while start < len(docs):
            room = self.shard_tokens - self._tokens
            # whole documents: take rows until the one that reaches the shard's size (inclusive)
            reach = np.cumsum(lengths[start:])
            end = start + min(int(np.searchsorted(reach, room, side="left")) + 1, len(docs) - start)
            self._write_rows(ids[start:end], docs[start:end], lengths[start:end])
            if self._tokens >= self.shard_tokens:
                self._close()
            start = end

    def _write_rows(self, ids: list[str], docs: list[np.ndarray], lengths: np.ndarray) -> None:
        if self._writer is None:
            tmp = self._path(len(self.shards)).with_suffix(".arrow.tmp")
            self._sink = pa.OSFile(str(tmp), "wb")
            self._writer = pa.ipc.new_stream(self._sink, self.schema)
        offsets = np.zeros(len(docs) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.concatenate(docs) if docs else np.zeros(0, dtype=self.np_dtype)
        input_ids = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat.astype(self.np_dtype, copy=False)))
        batch = pa.record_batch(
            [pa.array(ids, pa.string()), input_ids, pa.array(lengths.astype(np.int32))], schema=self.schema
        )
        self._writer.write_batch(batch)
        self._rows += len(ids)
        self._tokens += int(lengths.sum())

    def _close(self) -> None:
        if self._writer is None:
            return
        assert self._sink is not None
        self._writer.close()
        self._sink.close()
        path = self._path(len(self.shards))
        tmp = path.with_suffix(".arrow.tmp")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self.shards.append({"file": path.name, "rows": self._rows, "tokens": self._tokens, "sha256": sha256_file(path)})
        self._writer = self._sink = None
        self._rows = self._tokens = 0

    def finish(self) -> list[dict[str, Any]]:
        self._close()
        return self.shards


def tokenize_shards(
    shards: Sequence[Path | str], tokenizer_dir: Path | str, out: Path | str, config: TokenizeConfig | None = None
) -> dict[str, Any]:
    """Encode kept Parquet shards (files or folders) into Arrow token shards in OUT; return the manifest."""
    cfg = config or TokenizeConfig()
    out = Path(out)
    refuse_foreign_output(out, OWN_FILES, "sieve tokenize")
    files = parquet_inputs(shards)
    tok, tok_path = load_tokenizer(Path(tokenizer_dir))
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    eos_id = tok.token_to_id(EOS_TOKEN)
    if cfg.append_eos and eos_id is None:
        raise InputError(
            f"{tok_path} has no {EOS_TOKEN} token, which ends every document; train the tokenizer with it as a "
            "special token (BpeConfig.special_tokens) or pass --no-eos"
        )
    schema = token_schema(vocab_size)
    np_dtype = np.uint16 if vocab_size <= UINT16_MAX_VOCAB else np.uint32
    started = time.monotonic()

    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)  # absent until the output is complete
    for stale in [*out.glob(SHARD_GLOB), *out.glob("part-*.arrow.tmp")]:  # a smaller earlier run's extra shards
        stale.unlink()
    writer = _ShardWriter(out, schema, cfg.shard_tokens)
    suffix = [eos_id] if cfg.append_eos else []
    documents = 0
    for ids, texts in _documents(files, cfg):
        encoded = tok.encode_batch(texts, add_special_tokens=False)
        writer.write(ids, [np.asarray(e.ids + suffix, dtype=np_dtype) for e in encoded])
        documents += len(ids)
        log.info("tokenize: %d documents", documents)
    written = writer.finish()
    if documents == 0:
        raise InputError(f"no documents in {len(files)} input file(s); pass the kept/ shards of `sieve curate`")
    atomic_write_bytes(out / TOKENIZER_COPY, tok_path.read_bytes())

    manifest = {
        "sieve_version": __version__,
        "stage": "tokenize",
        "inputs": [{"path": str(f), "sha256": sha256_file(f), "bytes": f.stat().st_size} for f in files],
        "tokenizer": {
            "path": str(tok_path.resolve()),  # where it was read from
            "file": TOKENIZER_COPY,  # its copy in this folder: the folder decodes and measures itself, wherever it goes
            "sha256": sha256_file(tok_path),
            "vocab_size": vocab_size,
        },
        "eos_id": eos_id,
        "dtype": str(np.dtype(np_dtype)),
        "documents": documents,
        "tokens": sum(s["tokens"] for s in written),
        "shards": written,
        "seconds": round(time.monotonic() - started, 3),
        "config": to_dict(cfg),
    }
    write_json(out / MANIFEST, manifest)
    log.info("tokenize: %d tokens, %d documents, %d shards -> %s", manifest["tokens"], documents, len(written), out)
    return manifest


def read_manifest(tokdir: Path | str) -> dict[str, Any]:
    """OUT/manifest.json of a complete tokenize run."""
    path = Path(tokdir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no {MANIFEST} in {tokdir}: not a complete token folder; run `sieve tokenize`") from None
    except ValueError as e:
        raise InputError(f"{path} is not valid JSON ({e}); rerun `sieve tokenize`") from e


def open_token_shards(tokdir: Path | str, verify: bool = False) -> list[pa.Table]:
    """The token shards of TOKDIR, in manifest order, memory-mapped (zero-copy); verify also checks each sha256."""
    tokdir = Path(tokdir)
    tables = []
    for s in read_manifest(tokdir)["shards"]:
        path = tokdir / s["file"]
        if not path.is_file():
            raise InputError(f"{path} is listed in {tokdir / MANIFEST} but missing; rerun `sieve tokenize`")
        if verify and sha256_file(path) != s["sha256"]:
            raise InputError(f"{path} does not match its sha256 in {tokdir / MANIFEST}; rerun `sieve tokenize`")
        tables.append(pa.ipc.open_stream(pa.memory_map(str(path), "r")).read_all())
    return tables


def token_chunks(table: pa.Table) -> list[tuple[np.ndarray, np.ndarray]]:
    """(tokens, offsets) per record batch of a shard, zero-copy: document k is tokens[offsets[k]:offsets[k + 1]]."""
    out = []
    for chunk in table.column("input_ids").chunks:
        offsets = chunk.offsets.to_numpy()
        values = chunk.values.to_numpy(zero_copy_only=True)[offsets[0] : offsets[-1]]
        out.append((values, (offsets - offsets[0]).astype(np.int64)))
    return out


def shard_tokens(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """All tokens of a shard as one flat array plus document offsets; zero-copy when the shard has one chunk."""
    chunks = token_chunks(table)
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        return np.zeros(0, dtype=table.schema.field("input_ids").type.value_type.to_pandas_dtype()), np.zeros(1, int)
    lengths = np.concatenate([np.diff(o) for _, o in chunks])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return np.concatenate([v for v, _ in chunks]), offsets
