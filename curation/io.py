"""Readers for every input format, and the atomic Parquet shard writer.

Readers stream documents as Arrow record batches and hand unreadable records to quarantine with their
file, line or row and error; nothing is dropped unseen. A whole-file problem (no text column, a file
that is not what its name says) is an InputError whose message names the file and the fix.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from curation.schema import QUARANTINE_RAW_MAX_BYTES, QUARANTINE_SCHEMA

log = logging.getLogger(__name__)

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
COMPRESSED_SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
PARQUET_SUFFIXES = (".parquet", ".pq")
ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
TEXT_SUFFIXES = (".txt",)
HF_STATE_FILE = "state.json"  # written by datasets' save_to_disk beside its Arrow files

RAW_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64(), nullable=False),  # 1-based line (JSONL), 0-based row (tables), 0 (txt)
        pa.field("id", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("meta", pa.string()),
    ]
)


class InputError(Exception):
    """An input cannot be read as a whole; the message names the file and the fix."""


@dataclasses.dataclass(frozen=True)
class ReadConfig:
    """Which columns hold what, and how much is read at once."""

    text_column: str = "text"  # the column (or JSON key) that holds the document text
    id_column: str | None = None  # None: ids are made from the source file and line/row, stable across runs
    url_column: str = "url"  # optional; travels in its own column for URL rules downstream
    batch_rows: int = 8192  # documents per record batch; bounds memory per reader
    max_line_bytes: int = 64 << 20  # a longer JSON line is quarantined (line_too_long) unread: bounded memory


@dataclasses.dataclass(frozen=True)
class Source:
    """One input file and how to read it."""

    path: Path
    kind: str  # jsonl | parquet | arrow | text
    name: str  # how it is shown and recorded: the path as given, or below the folder given
    compression: str | None = None  # gzip | zstd for JSONL


@dataclasses.dataclass
class ReadBatch:
    """What a reader yields: documents as an Arrow batch (RAW_SCHEMA) and quarantined records."""

    docs: pa.RecordBatch
    quarantined: list[dict[str, Any]]


def _kind_of(path: Path) -> tuple[str, str | None] | None:
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSED_SUFFIXES.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in JSONL_SUFFIXES:
        return "jsonl", compression
    if compression:
        return None
    if last in PARQUET_SUFFIXES:
        return "parquet", None
    if last in ARROW_SUFFIXES:
        return "arrow", None
    if last in TEXT_SUFFIXES:
        return "text", None
    return None


def _hf_dataset_sources(folder: Path, name: str) -> list[Source]:
    """The Arrow files of a dataset saved with `datasets.Dataset.save_to_disk`, in their order."""
    state_path = folder / HF_STATE_FILE
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        files = [f["filename"] for f in state["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{state_path}: not a readable `datasets` state file ({e}); re-save the dataset") from e
    return [Source(folder / f, "arrow", f"{name}/{f}") for f in files]


def discover(inputs: Sequence[str | Path], exclude: Path | None = None) -> tuple[list[Source], list[str]]:
    """Expand files and folders into sources in a stable order; returns (sources, skipped file names).

    A folder is walked recursively in sorted order; files of unknown type inside it are skipped and
    reported. A file named explicitly must be of a known type. Nothing under `exclude` (the output
    folder, when it lies inside an input folder) is read.
    """
    excluded = exclude.resolve() if exclude is not None else None
    sources: list[Source] = []
    skipped: list[str] = []
    seen: set[Path] = set()

    def add(src: Source) -> None:
        try:
            with open(src.path, "rb"):
                pass
        except OSError as e:
            raise InputError(
                f"cannot read {src.name}: {e.strerror}; fix it (permissions, a broken link) or leave it out"
            ) from e
        key = src.path.resolve()
        if key in seen:
            log.warning("input %s given more than once; read once", src.name)
            return
        seen.add(key)
        sources.append(src)

    for given in inputs:
        path = Path(given)
        if not path.exists():
            raise InputError(f"input {given} does not exist")
        if path.is_dir():
            if (path / HF_STATE_FILE).is_file():
                for src in _hf_dataset_sources(path, str(given)):
                    add(src)
                continue
            found = False
            for root, dirs, files in os.walk(path):
                rootp = Path(root)
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (rootp / d).resolve() != excluded)
                if rootp != path and (rootp / HF_STATE_FILE).is_file():
                    dirs[:] = []
                    rel = rootp.relative_to(path).as_posix()
                    for src in _hf_dataset_sources(rootp, f"{Path(given).as_posix()}/{rel}"):
                        add(src)
                        found = True
                    continue
                for f in sorted(files):
                    if f.startswith("."):
                        continue
                    fp = rootp / f
                    name = (Path(given) / fp.relative_to(path)).as_posix()
                    kind = _kind_of(fp)
                    if kind is None:
                        skipped.append(name)
                        log.warning("skipping %s: not a known input type", name)
                        continue
                    add(Source(fp, kind[0], name, kind[1]))
                    found = True
            if not found:
                raise InputError(
                    f"input folder {given} holds no readable files (.jsonl[.gz|.zst], .parquet, .arrow, .txt)"
                )
        else:
            kind = _kind_of(path)
            if kind is None:
                raise InputError(
                    f"input {given}: unknown file type; sieve reads .jsonl/.ndjson/.json (optionally .gz or .zst), "
                    ".parquet, .arrow/.feather, .txt, and folders saved with datasets' save_to_disk"
                )
            add(Source(path, kind[0], Path(given).as_posix(), kind[1]))
    return sources, skipped


def quarantine_record(source: str, line: int | None, error: str, message: str, raw: bytes | None) -> dict[str, Any]:
    """A quarantined record, as QUARANTINE_SCHEMA lays it out."""
    if raw is not None and len(raw) > QUARANTINE_RAW_MAX_BYTES:
        raw = raw[:QUARANTINE_RAW_MAX_BYTES]
    return {"source": source, "line": line, "error": error, "message": message, "raw": raw}


class _Batcher:
    """Collects documents and quarantined records and cuts them into ReadBatches."""

    def __init__(self, batch_rows: int) -> None:
        self.batch_rows = batch_rows
        self.cols: dict[str, list[Any]] = {n: [] for n in RAW_SCHEMA.names}
        self.quarantined: list[dict[str, Any]] = []

    def add(self, row: int, id_: str | None, text: str, url: str | None, meta: str | None) -> None:
        c = self.cols
        c["row"].append(row)
        c["id"].append(id_)
        c["text"].append(text)
        c["url"].append(url)
        c["meta"].append(meta)

    def full(self) -> bool:
        return len(self.cols["row"]) + len(self.quarantined) >= self.batch_rows

    def take(self) -> ReadBatch:
        batch = pa.RecordBatch.from_pydict(self.cols, schema=RAW_SCHEMA)
        out = ReadBatch(batch, self.quarantined)
        self.cols = {n: [] for n in RAW_SCHEMA.names}
        self.quarantined = []
        return out

    def pending(self) -> bool:
        return bool(self.cols["row"]) or bool(self.quarantined)


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _meta_json(rest: dict[str, Any]) -> str | None:
    if not rest:
        return None
    return json.dumps(rest, ensure_ascii=False, sort_keys=True, default=str)


def _open_binary(src: Source) -> IO[bytes]:
    f: IO[bytes] = open(src.path, "rb")  # noqa: SIM115 - closed by the caller
    if src.compression == "gzip":
        return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
    if src.compression == "zstd":
        return io.BufferedReader(_ZstdRaw(f))
    return f


class CorruptStream(OSError):
    """A compressed input that cannot be decoded (cut short, or not the format its name says)."""


class _ZstdRaw(io.RawIOBase):
    """A zstd stream (one or more frames) that, unlike zstandard's stream_reader, says when it is cut short.

    zstandard is imported here, by the first .zst input: the training stage reads no raw text and runs without it.
    """

    def __init__(self, f: IO[bytes]) -> None:
        import zstandard

        self._zstd = zstandard
        self._f = f
        self._d = zstandard.ZstdDecompressor().decompressobj()
        self._buf = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while not self._buf and not self._done:
            chunk = self._f.read(1 << 16)
            if self._d.eof:  # a frame ended: the rest, if any, is another frame
                chunk = self._d.unused_data + chunk
                if not chunk:
                    self._done = True
                    break
                self._d = self._zstd.ZstdDecompressor().decompressobj()
            elif not chunk:
                raise EOFError("zstd stream ends inside a frame: the file is truncated")
            try:
                self._buf = self._d.decompress(chunk)
            except self._zstd.ZstdError as e:
                raise CorruptStream(f"not a valid zstd stream: {e}") from e
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def read_jsonl(src: Source, cfg: ReadConfig) -> Iterator[ReadBatch]:
    """Stream a JSON Lines file (plain, gzip or zstd); bad lines go to quarantine with their line number."""
    out = _Batcher(cfg.batch_rows)
    text_key, id_key, url_key = cfg.text_column, cfg.id_column, cfg.url_column
    lineno = 0
    parsed = 0
    objects = 0
    with_text = 0
    with_id = 0
    first_kind: str | None = None  # of the first parsed line that is not an object
    first_keys: list[str] | None = None
    with _open_binary(src) as f:
        while True:
            try:
                raw = f.readline(cfg.max_line_bytes + 1)
                if not raw:
                    break
                if len(raw) > cfg.max_line_bytes and not raw.endswith(b"\n"):
                    lineno += 1
                    skipped = len(raw) + _skip_rest_of_line(f)
                    out.quarantined.append(
                        quarantine_record(
                            src.name,
                            lineno,
                            "line_too_long",
                            f"line of {skipped:,} bytes is over max_line_bytes = {cfg.max_line_bytes:,}",
                            raw[:QUARANTINE_RAW_MAX_BYTES],
                        )
                    )
                    if out.full():
                        yield out.take()
                    continue
            except (EOFError, OSError) as e:  # CorruptStream is an OSError
                out.quarantined.append(
                    quarantine_record(
                        src.name, lineno + 1, "truncated_file", f"{src.name}: cannot read past line {lineno}: {e}", None
                    )
                )
                log.error("%s: stopped reading at line %d: %s", src.name, lineno + 1, e)
                break
            lineno += 1
            line = raw.rstrip(b"\r\n")
            if lineno == 1 and line.startswith(UTF8_BOM):  # Windows tools start UTF-8 files with one
                line = line[len(UTF8_BOM) :]
            if not line.strip():
                continue
            if parsed == 0 and not out.quarantined and line.lstrip().startswith(b"["):
                raise InputError(_json_array_message(src.name, lineno))
            try:
                s = line.decode("utf-8")
            except UnicodeDecodeError as e:
                out.quarantined.append(quarantine_record(src.name, lineno, "invalid_utf8", f"{e}", line))
            else:
                try:
                    obj = json.loads(s)
                except ValueError as e:
                    out.quarantined.append(quarantine_record(src.name, lineno, "invalid_json", f"{e}", line))
                else:
                    parsed += 1
                    if not isinstance(obj, dict):
                        first_kind = first_kind or _JSON_KIND.get(type(obj), type(obj).__name__)
                        out.quarantined.append(
                            quarantine_record(
                                src.name,
                                lineno,
                                "not_an_object",
                                f"expected a JSON object, got {type(obj).__name__}",
                                line,
                            )
                        )
                    else:
                        objects += 1
                        if first_keys is None:
                            first_keys = list(obj)
                        _jsonl_record(src, cfg, out, obj, lineno, line, text_key, id_key, url_key)
                        with_text += text_key in obj
                        with_id += id_key is not None and id_key in obj
            if parsed == 1000 and (with_text == 0 or (id_key is not None and with_id == 0)):
                break  # surely the wrong column: report below rather than quarantine the whole file
            if out.full():
                yield out.take()
    if parsed and objects == 0:
        raise InputError(
            f"{src.name} holds no JSON object (the first value read is a JSON {first_kind}); sieve reads JSON Lines, "
            "one object per line"
        )
    if parsed and with_text == 0:
        raise InputError(missing_column_message(src.name, text_key, first_keys or [], "--text-column"))
    if id_key is not None and objects and with_id == 0:
        raise InputError(missing_column_message(src.name, id_key, first_keys or [], "--id-column"))
    if out.pending():
        yield out.take()


UTF8_BOM = b"\xef\xbb\xbf"
_JSON_KIND = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def _json_array_message(name: str, lineno: int) -> str:
    path = Path(name)
    target = path.with_suffix(".jsonl") if path.suffix != ".jsonl" else path.with_suffix(".lines.jsonl")
    return (
        f"{name} is a JSON array (line {lineno} opens with `[`), not JSON Lines; sieve reads one object per line: "
        f"convert it with `jq -c '.[]' {name} > {target}`"
    )


def _skip_rest_of_line(f: IO[bytes], chunk: int = 1 << 20) -> int:
    """Read to the end of the current line in bounded chunks; returns the bytes skipped."""
    n = 0
    while True:
        piece = f.readline(chunk)
        n += len(piece)
        if not piece or piece.endswith(b"\n"):
            return n


def _jsonl_record(
    src: Source,
    cfg: ReadConfig,
    out: _Batcher,
    obj: dict[str, Any],
    lineno: int,
    line: bytes,
    text_key: str,
    id_key: str | None,
    url_key: str,
) -> None:
    text = obj.get(text_key)
    if not isinstance(text, str):
        if text_key not in obj:
            error, msg = "missing_text", f"no `{text_key}` field; fields are {sorted(obj)}"
        elif text is None:
            error, msg = "null_text", f"`{text_key}` is null"
        else:
            error, msg = "text_not_string", f"`{text_key}` is a {type(text).__name__}, not a string"
        out.quarantined.append(quarantine_record(src.name, lineno, error, msg, line))
        return
    if b"\\u" in line and _has_lone_surrogate(text):
        out.quarantined.append(
            quarantine_record(src.name, lineno, "invalid_unicode", "text holds a lone surrogate escape", line)
        )
        return
    if id_key is not None:
        id_val = obj.get(id_key)
        if id_val is None or isinstance(id_val, dict | list):
            out.quarantined.append(
                quarantine_record(src.name, lineno, "missing_id", f"`{id_key}` is missing, null or not a scalar", line)
            )
            return
        id_ = str(id_val)
    else:
        id_ = f"{src.name}:{lineno}"
    url = obj.get(url_key)
    rest = {k: v for k, v in obj.items() if k not in (text_key, id_key, url_key)}
    out.add(lineno, id_, text, url if isinstance(url, str) else None, _meta_json(rest))


# Column names that usually hold a document's text or id, best first: what an error suggests for the flag.
_LIKELY_COLUMNS = {
    "--text-column": ("text", "content", "raw_content", "body", "document", "article", "passage", "sentence"),
    "--id-column": ("id", "doc_id", "document_id", "uuid", "key", "url"),
}


def missing_column_message(
    name: str, column: str, found: Sequence[str], flag: str, eligible: Sequence[str] | None = None
) -> str:
    """No `column` in file `name`: the columns it has, and the flag with the likeliest one, if any is likely.

    eligible: the columns that could serve (e.g. only the string ones); default all of `found`.
    """
    pool = found if eligible is None else eligible
    likely = next((c for c in _LIKELY_COLUMNS.get(flag, ()) if c in pool and c != column), None)
    if likely:
        hint = f"; pass {flag} {likely}"
    elif eligible is not None:
        hint = f"; pass {flag} with one of [{', '.join(eligible)}]"
    else:
        hint = f"; pass {flag} with one of them" if found else ""
    return f"no column `{column}` in {name}; columns are [{', '.join(found)}]{hint}"


_TEXT_TYPES = (pa.string(), pa.large_string(), pa.string_view())
_BINARY_TYPES = (pa.binary(), pa.large_binary(), pa.binary_view())


def _check_table_schema(src: Source, schema: pa.Schema, cfg: ReadConfig) -> None:
    if cfg.text_column not in schema.names:
        raise InputError(missing_column_message(src.name, cfg.text_column, schema.names, "--text-column"))
    t = schema.field(cfg.text_column).type
    if t not in _TEXT_TYPES and t not in _BINARY_TYPES:
        raise InputError(
            f"column `{cfg.text_column}` in {src.name} has type {t}, not text; pass --text-column naming a text column"
        )
    if cfg.id_column is not None and cfg.id_column not in schema.names:
        raise InputError(missing_column_message(src.name, cfg.id_column, schema.names, "--id-column"))


def _table_batches(src: Source, batches: Iterator[pa.RecordBatch], cfg: ReadConfig) -> Iterator[ReadBatch]:
    """Turn record batches of any table schema into ReadBatches; null or undecodable text is quarantined."""
    row0 = 0
    for rb in batches:
        out = _Batcher(max(rb.num_rows, 1))
        cols = rb.to_pydict()
        texts = cols.pop(cfg.text_column)
        ids = cols.pop(cfg.id_column) if cfg.id_column is not None else None
        urls = cols.pop(cfg.url_column, None)
        rest_names = list(cols)
        for i, text in enumerate(texts):
            row = row0 + i
            if isinstance(text, bytes):
                try:
                    text = text.decode("utf-8")
                except UnicodeDecodeError as e:
                    out.quarantined.append(quarantine_record(src.name, row, "invalid_utf8", str(e), text))
                    continue
            if text is None:
                out.quarantined.append(
                    quarantine_record(src.name, row, "null_text", f"`{cfg.text_column}` is null", None)
                )
                continue
            if ids is not None:
                if ids[i] is None:
                    out.quarantined.append(
                        quarantine_record(src.name, row, "missing_id", f"`{cfg.id_column}` is null", None)
                    )
                    continue
                id_ = str(ids[i])
            else:
                id_ = f"{src.name}:{row}"
            url = urls[i] if urls is not None and isinstance(urls[i], str) else None
            meta = _meta_json({k: cols[k][i] for k in rest_names if cols[k][i] is not None})
            out.add(row, id_, text, url, meta)
        row0 += rb.num_rows
        yield out.take()


def read_parquet(src: Source, cfg: ReadConfig) -> Iterator[ReadBatch]:
    """Stream a Parquet file in record batches of cfg.batch_rows rows."""
    try:
        pf = pq.ParquetFile(src.path)
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{src.name}: not a readable Parquet file ({e})") from e
    schema = pf.schema_arrow
    _check_table_schema(src, schema, cfg)
    yield from _table_batches(src, pf.iter_batches(batch_size=cfg.batch_rows), cfg)


def read_arrow(src: Source, cfg: ReadConfig) -> Iterator[ReadBatch]:
    """Stream an Arrow IPC file, in file (random access) or stream format, memory-mapped."""
    with pa.memory_map(str(src.path), "r") as mm:
        try:
            reader: Any = pa.ipc.open_file(mm)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        except pa.ArrowInvalid:
            mm.seek(0)
            try:
                reader = pa.ipc.open_stream(mm)
            except pa.ArrowInvalid as e:
                raise InputError(f"{src.name}: not an Arrow IPC file or stream ({e})") from e
            batches = iter(reader)
        _check_table_schema(src, reader.schema, cfg)

        def rebatched() -> Iterator[pa.RecordBatch]:
            for rb in batches:
                for off in range(0, rb.num_rows, cfg.batch_rows):
                    yield rb.slice(off, cfg.batch_rows)

        yield from _table_batches(src, rebatched(), cfg)


def read_text(src: Source, cfg: ReadConfig) -> Iterator[ReadBatch]:
    """A plain text file is one document."""
    out = _Batcher(1)
    data = src.path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        out.quarantined.append(quarantine_record(src.name, None, "invalid_utf8", str(e), data))
    else:
        out.add(0, src.name, text, None, None)
    yield out.take()


READERS = {"jsonl": read_jsonl, "parquet": read_parquet, "arrow": read_arrow, "text": read_text}


def read_source(src: Source, cfg: ReadConfig) -> Iterator[ReadBatch]:
    """Stream one source with the reader for its kind (discover has checked that it opens)."""
    return READERS[src.kind](src, cfg)


# ---------------------------------------------------------------------------------------------- writing


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def refuse_foreign_output(out: Path, own: re.Pattern[str], what: str) -> None:
    """Raise InputError when OUT is a file, or a folder holding a name `own` does not match (what wrote it: says who).

    Stages rewrite their output folder in place; a file of someone else's there would be lost or misread.
    """
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; pass a folder")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if not own.fullmatch(p.name))
        if foreign:
            raise InputError(
                f"--out {out} holds files {what} did not write ({', '.join(foreign[:5])}); pass a new or empty folder"
            )


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file under a temporary name, then rename it: the final name only ever holds complete files."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    """Atomically write pretty, key-sorted JSON."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))


class ParquetShardWriter:
    """Writes tables into part-00000.parquet, part-00001.parquet, ... of at most shard_rows rows each.

    Each part is written under a temporary name and renamed when complete; zstd; fixed row-group size.
    """

    def __init__(
        self, folder: Path, schema: pa.Schema, *, shard_rows: int, row_group_rows: int, prefix: str = "part"
    ) -> None:
        self.folder = folder
        self.schema = schema
        self.shard_rows = shard_rows
        self.row_group_rows = min(row_group_rows, shard_rows)
        self.prefix = prefix
        self.files: list[tuple[Path, int]] = []  # (path, rows) of completed parts
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        self._rows = 0
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, table: pa.Table) -> None:
        """Append rows (a table or record batch in this writer's schema)."""
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        table = table.cast(self.schema) if table.schema != self.schema else table
        off = 0
        while off < table.num_rows:
            room = self.shard_rows - self._rows - self._buffered
            piece = table.slice(off, room)
            self._buffer.append(piece)
            self._buffered += piece.num_rows
            off += piece.num_rows
            if self._buffered >= self.row_group_rows:
                self._flush_groups(final=False)
            if self._rows + self._buffered >= self.shard_rows:
                self._close_part()

    def _flush_groups(self, final: bool) -> None:
        if not self._buffered:
            return
        data = pa.concat_tables(self._buffer)
        n_full = (data.num_rows // self.row_group_rows) * self.row_group_rows
        upto = data.num_rows if final else n_full
        if upto == 0:
            return
        if self._writer is None:
            self._tmp = self.folder / f".{self.prefix}-{len(self.files):05d}.parquet.tmp"
            self._writer = pq.ParquetWriter(self._tmp, self.schema, compression="zstd", write_statistics=True)
        self._writer.write_table(data.slice(0, upto), row_group_size=self.row_group_rows)
        self._rows += upto
        rest = data.slice(upto)
        self._buffer = [rest] if rest.num_rows else []
        self._buffered = rest.num_rows

    def _close_part(self) -> None:
        self._flush_groups(final=True)
        if self._writer is None:
            return
        self._writer.close()
        assert self._tmp is not None
        final = self.folder / f"{self.prefix}-{len(self.files):05d}.parquet"
        with open(self._tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(self._tmp, final)
        self.files.append((final, self._rows))
        self._writer, self._tmp, self._rows = None, None, 0

    def close(self, *, write_empty: bool = False) -> list[tuple[Path, int]]:
        """Finish the last part; with write_empty, a run with no rows still leaves one (empty) part."""
        self._close_part()
        if write_empty and not self.files:
            final = self.folder / f"{self.prefix}-00000.parquet"
            tmp = self.folder / f".{self.prefix}-00000.parquet.tmp"
            pq.write_table(self.schema.empty_table(), tmp, compression="zstd")
            os.replace(tmp, final)
            self.files.append((final, 0))
        return self.files

    def abort(self) -> None:
        """Drop the part being written; completed parts stay."""
        if self._writer is not None:
            self._writer.close()
        if self._tmp is not None and self._tmp.exists():
            self._tmp.unlink()
        self._writer, self._tmp = None, None


def write_quarantine(records: list[dict[str, Any]], path: Path) -> None:
    """Write quarantined records as one Parquet file, atomically."""
    tmp = path.with_name("." + path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(records, schema=QUARANTINE_SCHEMA), tmp, compression="zstd")
    os.replace(tmp, path)
