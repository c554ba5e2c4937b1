"""Where a tokenizer's flagged tokens come from: encode a corpus, count every id, and for flagged ids name the top
documents and domains they occur in, and list the tokens that never occur.

Streams Parquet record batches (only the text, id and url columns), so memory is bounded by one batch and the
per-token top lists. The encoder is passed in (the audit builds it from the vocabulary); nothing here judges tokens.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curation.io import InputError
from curation.progress import NoProgress, Progress
from tokenizer.bpe import parquet_inputs

log = logging.getLogger(__name__)

EncodeBatch = Callable[[list[str]], list[list[int]]]


@dataclasses.dataclass
class _TokenSources:
    """Top documents (a min-heap of (count, order, doc id)) and domain counts of one flagged token."""

    docs: list[tuple[int, int, str]] = dataclasses.field(default_factory=list)
    domains: Counter[str] = dataclasses.field(default_factory=Counter)
    documents: int = 0  # documents it occurs in


def domain_of(url: str | None) -> str | None:
    """The host of a URL, lower case, without a leading `www.`; None when there is none."""
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def _check_columns(path: Path, pf: pq.ParquetFile, text_column: str) -> None:
    names = pf.schema_arrow.names
    if text_column not in names:
        raise InputError(
            f"no column `{text_column}` in {path}; columns are [{', '.join(names)}]; "
            f"pass --text-column with one of them"
        )
    kind = pf.schema_arrow.field(text_column).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise InputError(f"column `{text_column}` in {path} holds {kind}, not text; pass --text-column <a text column>")


def _open(path: Path, text_column: str) -> pq.ParquetFile:
    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as e:
        raise InputError(f"{path} is not a readable Parquet file ({e}); pass Parquet shards (curate's OUT/kept)") from e
    _check_columns(path, pf, text_column)
    return pf


def corpus_provenance(
    shards: Sequence[str | Path],
    encode_batch: EncodeBatch,
    vocab_size: int,
    flagged_ids: Iterable[int],
    text_column: str = "text",
    top_documents: int = 5,
    top_domains: int = 5,
    batch_rows: int = 1024,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Encode every document of the shards; count ids; top documents and domains of each flagged id.

    Returns {"files", "documents", "tokens", "counts": np.ndarray (vocab_size,), "sources": {id: {...}}}: a
    flagged id that occurs has {"count", "documents", "top_documents": [{"id", "count"}], "top_domains":
    [{"domain", "count"}]}. Document ids come from an `id` column (else `file:row`), domains from a `url` column.
    """
    files = parquet_inputs(shards)
    opened = [(f, _open(f, text_column)) for f in files]  # every file checked before the long part
    progress = progress or NoProgress()
    flagged = np.zeros(vocab_size, dtype=bool)
    ids = [i for i in flagged_ids if 0 <= i < vocab_size]
    flagged[ids] = True
    counts = np.zeros(vocab_size, dtype=np.int64)
    sources: dict[int, _TokenSources] = {}
    order = itertools.count()  # ties in the heaps go to the earlier document
    documents = tokens = 0
    progress.start("encode corpus", sum(pf.metadata.num_rows for _, pf in opened))
    for path, pf in opened:
        names = pf.schema_arrow.names
        columns = [text_column] + [c for c in ("id", "url") if c in names and c != text_column]
        log.info("provenance: encoding %s (%d rows)", path, pf.metadata.num_rows)
        row0 = 0
        for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
            texts = batch.column(text_column).to_pylist()
            doc_ids = batch.column("id").to_pylist() if "id" in columns else [None] * len(texts)
            urls = batch.column("url").to_pylist() if "url" in columns else [None] * len(texts)
            keep = [i for i, t in enumerate(texts) if t]
            encoded = encode_batch([texts[i] for i in keep])
            lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
            flat = np.fromiter(itertools.chain.from_iterable(encoded), dtype=np.int64, count=int(lengths.sum()))
            if flat.size and int(flat.max()) >= vocab_size:
                raise ValueError(f"the encoder gave id {int(flat.max())}, outside the vocabulary of {vocab_size}")
            counts += np.bincount(flat, minlength=vocab_size)
            documents += len(texts)
            tokens += int(flat.size)
            hit = flagged[flat]
            if hit.any():
                doc_of = np.repeat(np.arange(len(keep), dtype=np.int64), lengths)[hit]
                pairs, n = np.unique(doc_of * vocab_size + flat[hit], return_counts=True)
                for key, c in zip(pairs.tolist(), n.tolist(), strict=True):
                    d, tid = divmod(key, vocab_size)
                    row = keep[d]
                    doc_id = doc_ids[row] if doc_ids[row] is not None else f"{path.name}:{row0 + row}"
                    src = sources.setdefault(tid, _TokenSources())
                    src.documents += 1
                    item = (c, -next(order), str(doc_id))
                    if len(src.docs) < top_documents:
                        heapq.heappush(src.docs, item)
                    elif top_documents:
                        heapq.heappushpop(src.docs, item)
                    domain = domain_of(urls[row])
                    if domain is not None:
                        src.domains[domain] += c
            row0 += len(texts)
            progress.advance(len(texts))
    progress.finish()
    out: dict[int, dict[str, Any]] = {}
    for tid, src in sorted(sources.items()):
        docs = sorted(src.docs, reverse=True)
        out[tid] = {
            "count": int(counts[tid]),
            "documents": src.documents,
            "top_documents": [{"id": d, "count": c} for c, _, d in docs],
            "top_domains": [{"domain": d, "count": c} for d, c in src.domains.most_common(top_domains)],
        }
    log.info("provenance: %d documents, %d tokens, %d flagged ids seen", documents, tokens, len(out))
    return {
        "files": [str(f) for f in files],
        "documents": documents,
        "tokens": tokens,
        "counts": counts,
        "sources": out,
    }
