"""Packing token shards into fixed-length (x, y) training sequences, with a seeded, exactly resumable loader.

The stream is every document of the token shards in manifest order, each ending with EOS (appended by
`sieve tokenize`; shards written without it are refused, so documents are separated in exactly one way).
Sequence k of a split is the stream window [start + k*T, start + k*T + T + 1): x its first T tokens, y its last T.
The held-out split is the tail of the stream from the first document boundary at or after (1 - eval_fraction) of
the tokens (the start of the last document when the cut falls in it): no document and no token is in both splits.
doc_ids[b, i] is the global index (in stream order) of the document that x[b, i] belongs to, for document-masked
attention. Tokens stay memory-mapped; a batch copies B*(T+1).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from curation.config import ConfigError
from curation.io import InputError
from train.shards import open_token_shards, read_manifest, token_chunks

log = logging.getLogger(__name__)

SPLITS = ("train", "eval")
STATE_VERSION = 1


@dataclasses.dataclass
class Batch:
    """One batch: int64 arrays of shape (B, T)."""

    x: np.ndarray  # (B, T) input ids
    y: np.ndarray  # (B, T) targets: x shifted left by one
    doc_ids: np.ndarray  # (B, T) document of each x position (global, stream order)

    def to_torch(self, device: Any = None) -> tuple[Any, Any, Any]:
        """(x, y, doc_ids) as torch int64 tensors (shared memory with the numpy arrays on CPU). To a CUDA device they
        go from pinned memory without blocking, so the copy overlaps the GPU's work on the previous batch."""
        import torch

        tensors = [torch.from_numpy(a) for a in self.astuple()]
        if device is None:
            return tuple(tensors)
        if torch.device(device).type == "cuda":
            return tuple(t.pin_memory().to(device, non_blocking=True) for t in tensors)
        return tuple(t.to(device) for t in tensors)

    def astuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.x, self.y, self.doc_ids


class TokenStream:
    """All tokens of a token folder as one virtual, memory-mapped array, with document boundaries."""

    def __init__(self, tokdir: Path | str) -> None:
        self.tokdir = Path(tokdir)
        self.manifest = read_manifest(self.tokdir)
        if not self.manifest["config"]["append_eos"]:
            raise InputError(
                f"{self.tokdir} was tokenized without EOS, which separates documents when packing; "
                "rerun `sieve tokenize` without --no-eos"
            )
        self.eos_id = int(self.manifest["eos_id"])
        self._tables: list[pa.Table] = open_token_shards(self.tokdir)  # keeps the memory maps alive
        self.chunks = [c for t in self._tables for c in token_chunks(t)]
        sizes = np.array([len(v) for v, _ in self.chunks], dtype=np.int64)
        docs = np.array([len(o) - 1 for _, o in self.chunks], dtype=np.int64)
        self.chunk_starts = np.concatenate([[0], np.cumsum(sizes)])  # global token index of each chunk's first token
        self.chunk_docs = np.concatenate([[0], np.cumsum(docs)])  # global doc index of each chunk's first document
        self.tokens = int(self.chunk_starts[-1])
        self.documents = int(self.chunk_docs[-1])
        if self.tokens != self.manifest["tokens"]:
            raise InputError(
                f"{self.tokdir}: shards hold {self.tokens} tokens, manifest says "
                f"{self.manifest['tokens']}; rerun `sieve tokenize`"
            )
        # identifies the data in a loader state: shard hashes and count
        h = hashlib.sha256("".join(s["sha256"] for s in self.manifest["shards"]).encode())
        self.fingerprint = h.hexdigest()[:16]

    def window(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Tokens [start, stop) of the stream (int64 copy) and the global document index of each."""
        tok = np.empty(stop - start, dtype=np.int64)
        doc = np.empty(stop - start, dtype=np.int64)
        c = int(np.searchsorted(self.chunk_starts, start, side="right")) - 1
        pos = start
        while pos < stop:
            values, offsets = self.chunks[c]
            lo = pos - int(self.chunk_starts[c])
            hi = min(len(values), lo + stop - pos)
            tok[pos - start : pos - start + hi - lo] = values[lo:hi]
            local = np.arange(lo, hi)
            doc[pos - start : pos - start + hi - lo] = self.chunk_docs[c] + np.searchsorted(offsets, local, "right") - 1
            pos += hi - lo
            c += 1
        return tok, doc

    def doc_start(self, doc: int) -> int:
        """Global token index where document `doc` starts (self.tokens for doc == self.documents)."""
        if doc >= self.documents:
            return self.tokens
        c = int(np.searchsorted(self.chunk_docs, doc, side="right")) - 1
        return int(self.chunk_starts[c] + self.chunks[c][1][doc - self.chunk_docs[c]])

    def doc_at(self, token: int) -> int:
        """Global index of the document holding token `token`."""
        c = int(np.searchsorted(self.chunk_starts, token, side="right")) - 1
        return int(self.chunk_docs[c] + np.searchsorted(self.chunks[c][1], token - self.chunk_starts[c], "right") - 1)


class PackedDataset:
    """Fixed-length sequences of one split of a token stream: dataset[k] -> (x, y, doc_ids) of length seq_len."""

    def __init__(
        self, tokdir: Path | str | TokenStream, seq_len: int, split: str = "train", eval_fraction: float = 0.01
    ) -> None:
        if split not in SPLITS:
            raise ConfigError(f"split = {split!r}; choose one of {list(SPLITS)}")
        if not 0 <= eval_fraction < 1:
            raise ConfigError(f"eval_fraction = {eval_fraction!r} is outside the allowed range [0, 1)")
        if seq_len < 1:
            raise ConfigError(f"seq_len = {seq_len!r} is outside the allowed range [1, inf]")
        self.stream = tokdir if isinstance(tokdir, TokenStream) else TokenStream(tokdir)
        self.seq_len, self.split, self.eval_fraction = seq_len, split, eval_fraction
        s = self.stream
        if eval_fraction == 0:
            boundary = s.tokens
        else:  # the first document boundary at or after (1 - eval_fraction) of the tokens
            cut = int(s.tokens * (1 - eval_fraction))
            boundary = s.tokens
            if cut < s.tokens:
                doc = s.doc_at(cut)
                boundary = cut if s.doc_start(doc) == cut else s.doc_start(doc + 1)
                if boundary >= s.tokens and s.doc_start(doc) > 0:  # the cut fell in the last document: hold it out
                    boundary = s.doc_start(doc)
                    share = (s.tokens - boundary) / s.tokens
                    if share > 0.5:
                        raise InputError(
                            f"the last document of {s.tokdir} holds {share:.0%} of its tokens, so a held-out split at "
                            "a document boundary would take most of them; tokenize more documents, or pass "
                            "eval_fraction = 0 to train without evaluation"
                        )
                    if share > 2 * eval_fraction:
                        log.warning(
                            "the held-out split is the last document, %.1f%% of the tokens (eval_fraction %.1f%%)",
                            100 * share,
                            100 * eval_fraction,
                        )
        self.start, self.stop = (0, boundary) if split == "train" else (boundary, s.tokens)
        self.first_doc = s.doc_at(self.start) if self.start < s.tokens else s.documents
        n = (self.stop - self.start - 1) // seq_len
        self.num_sequences = max(n, 0)
        if self.num_sequences == 0:
            raise InputError(
                f"the {split} split of {s.tokdir} holds {self.stop - self.start} tokens, fewer than one sequence of "
                f"{seq_len + 1}; tokenize more text, or lower seq_len or eval_fraction"
            )

    def __len__(self) -> int:
        return self.num_sequences

    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not 0 <= k < self.num_sequences:
            raise IndexError(f"sequence {k} of {self.num_sequences}")
        a = self.start + k * self.seq_len
        tok, doc = self.stream.window(a, a + self.seq_len + 1)
        return tok[:-1], tok[1:], doc[:-1]

    def batch(self, indices: np.ndarray) -> Batch:
        """The sequences `indices`, stacked to (B, T)."""
        b, t = len(indices), self.seq_len
        x, y, d = (np.empty((b, t), dtype=np.int64) for _ in range(3))
        for row, k in enumerate(indices):
            x[row], y[row], d[row] = self[int(k)]
        return Batch(x, y, d)


class PackedLoader:
    """Batches of B sequences from a PackedDataset, in a seeded per-epoch shuffle; exactly resumable.

    Epoch e visits the sequences in np.random.default_rng([seed, e]).permutation order (or in order without
    shuffle), B at a time; a last partial batch is dropped so every batch is (B, T). Iteration runs forever over
    epochs for training; pass epochs=1 (e.g. for eval) to stop. state_dict() after k batches, restored with
    load_state_dict into a new loader, gives the same next batch as the uninterrupted loader.
    """

    def __init__(
        self, dataset: PackedDataset, batch_size: int, seed: int = 0, shuffle: bool = True, epochs: int | None = None
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size = {batch_size!r} is outside the allowed range [1, inf]")
        if batch_size > len(dataset):
            raise InputError(
                f"batch_size {batch_size} is more than the {len(dataset)} sequences of the {dataset.split} split; "
                "lower it or tokenize more text"
            )
        self.dataset, self.batch_size, self.seed, self.shuffle, self.epochs = dataset, batch_size, seed, shuffle, epochs
        self.batches_per_epoch = len(dataset) // batch_size
        self.epoch = 0
        self.step = 0  # batches already given in this epoch
        self._order: tuple[int, np.ndarray] | None = None

    def order(self, epoch: int) -> np.ndarray:
        """The sequence order of an epoch."""
        if self._order is None or self._order[0] != epoch:
            n = len(self.dataset)
            perm = np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle else np.arange(n)
            self._order = (epoch, perm)
        return self._order[1]

    def next_batch(self) -> Batch:
        """The next batch; StopIteration after `epochs` epochs."""
        if self.step >= self.batches_per_epoch:
            self.epoch, self.step = self.epoch + 1, 0
        if self.epochs is not None and self.epoch >= self.epochs:
            raise StopIteration
        i = self.step * self.batch_size
        batch = self.dataset.batch(self.order(self.epoch)[i : i + self.batch_size])
        self.step += 1
        return batch

    def __iter__(self) -> Iterator[Batch]:
        while True:
            try:
                yield self.next_batch()
            except StopIteration:
                return

    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands, as plain JSON data (save it beside the checkpoint)."""
        d = self.dataset
        return {
            "version": STATE_VERSION,
            "epoch": self.epoch,
            "step": self.step,
            "seed": self.seed,
            "shuffle": self.shuffle,
            "batch_size": self.batch_size,
            "seq_len": d.seq_len,
            "split": d.split,
            "eval_fraction": d.eval_fraction,
            "data": d.stream.fingerprint,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a saved state; the data and every setting that shapes the order must match."""
        mine = self.state_dict()
        diff = [k for k in mine if k not in ("epoch", "step") and state.get(k) != mine[k]]
        if diff:
            shown = ", ".join(f"{k}: saved {state.get(k)!r}, now {mine[k]!r}" for k in diff)
            raise ConfigError(f"loader state does not match this loader ({shown}); resume with the same data and setup")
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
