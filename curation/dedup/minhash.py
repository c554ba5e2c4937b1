"""Near-duplicate detection with MinHash LSH, as stages over files so memory stays bounded.

signatures (per work part: datasketch MinHash of unit n-gram shingles, kept whole and folded into one hash per band)
-> candidate edges (per band: documents sharing a bucket, via polars group-by), each verified by the share of
   signature rows the two documents agree on, an unbiased estimate of their Jaccard similarity
-> clusters (connected components of the verified edges, vectorised union-find; the earliest document is kept)
-> drops (scored with the estimated Jaccard to the kept document) and the cluster listing for review.
Parameters follow FineWeb (Penedo et al. 2024): 14 bands x 8 rows.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from datasketch import MinHash
from datasketch.minhash import _fmix

from curation.config import ConfigError, check_range
from curation.schema import CLUSTER_SCHEMA, REASON_DUP_MINHASH
from curation.text import units


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    """Exact and near-duplicate removal."""

    exact: bool = True  # drop documents whose normalised text equals an earlier one's
    near: bool = True  # drop near duplicates found by MinHash LSH
    num_perm: int = 112  # FineWeb's 112 = 14 bands x 8 rows: ~50% detection at Jaccard 0.72, 93% at 0.8
    bands: int = 14  # more bands: higher recall at lower similarity
    rows_per_band: int = 8  # more rows: fewer false candidates
    ngram_units: int = 5  # shingle = 5 units (CJK characters or words), as FineWeb's 5-gram words
    seed: int = 1  # of the MinHash permutations; same seed, same signatures
    # a candidate pair whose signatures agree on fewer rows than this is not a duplicate. A band collision of
    # unrelated documents (true J 0.1-0.4 when they share a few sentences) scores about 0.4: 0.5 drops those and
    # keeps the pairs that LSH finds near its threshold. 0 trusts every collision, as FineWeb does.
    min_jaccard: float = 0.5

    def __post_init__(self) -> None:
        check_range(self, "bands", 1, 512)
        check_range(self, "rows_per_band", 1, 64)
        check_range(self, "num_perm", 1, 1024)
        check_range(self, "ngram_units", 1, 32)
        check_range(self, "min_jaccard", 0.0, 1.0)
        if self.bands * self.rows_per_band != self.num_perm:
            raise ConfigError(
                f"DedupConfig: bands x rows_per_band = {self.bands} x {self.rows_per_band} = "
                f"{self.bands * self.rows_per_band} must equal num_perm = {self.num_perm}"
            )

    def detection_probability(self, jaccard: float) -> float:
        """Probability that two documents of this Jaccard similarity share at least one band."""
        return 1.0 - (1.0 - jaccard**self.rows_per_band) ** self.bands


SIGNATURE_COLUMN = "minhash"  # of a signature file: the whole signature, num_perm uint32 hash values


def band_columns(cfg: DedupConfig) -> list[str]:
    """Names of the per-band bucket columns of a signature file."""
    return [f"b{i:03d}" for i in range(cfg.bands)]


_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_P = np.uint64(0x100000001B3)


def _band_hashes(hv: np.ndarray, cfg: DedupConfig) -> np.ndarray:
    """Fold each band's rows of hash values into one 64-bit bucket key; (n, num_perm) -> (n, bands)."""
    h = hv.reshape(hv.shape[0], cfg.bands, cfg.rows_per_band).astype(np.uint64)
    acc = np.zeros(h.shape[:2], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(cfg.rows_per_band):
            acc = (acc ^ h[:, :, r]) * _P
        acc ^= acc >> np.uint64(33)
        acc *= _M1
        acc ^= acc >> np.uint64(33)
        acc *= _M2
        acc ^= acc >> np.uint64(33)
    return acc


class _UnitHashes(dict):
    """unit -> 32-bit xxhash, computed once per distinct unit (units repeat: characters, common words)."""

    def __missing__(self, unit: str) -> int:
        h = xxhash.xxh32_intdigest(unit.encode("utf-8"))
        self[unit] = h
        return h


_SHINGLE_MULT = np.uint32(0x01000193)  # FNV prime: combines the unit hashes of a shingle, in order


def shingle_hashes(text: str, n: int, unit_hashes: dict[str, int]) -> np.ndarray:
    """32-bit hashes of the n-unit shingles of text (as curation.text.shingles, repeats allowed), vectorised.

    A shingle's hash combines its units' hashes in order; a text shorter than n units is one shingle.
    """
    us = units(text)
    if not us:
        return np.empty(0, dtype=np.uint32)
    hs = np.fromiter(map(unit_hashes.__getitem__, us), dtype=np.uint32, count=len(us))
    k = min(n, len(hs))
    m = len(hs) - k + 1
    out = np.zeros(m, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for j in range(k):
            out = out * _SHINGLE_MULT ^ hs[j : j + m]
    return out


def minhash_signatures(texts: list[str], cfg: DedupConfig, unit_hashes: dict[str, int]) -> tuple[list[int], np.ndarray]:
    """(positions of texts with units, their MinHash signatures (n, num_perm) uint32).

    The signatures are datasketch's: MinHash(num_perm, seed, scheme="affine32") fed each shingle hash gives the
    same hashvalues (tests check it); here the permutations run on many documents in one numpy call.
    """
    template = MinHash(num_perm=cfg.num_perm, seed=cfg.seed)
    a, b = (np.asarray(x, dtype=np.uint32) for x in template.permutations)
    keep: list[int] = []
    pieces: list[np.ndarray] = []
    for i, text in enumerate(texts):
        h = shingle_hashes(text, cfg.ngram_units, unit_hashes)
        if len(h):
            keep.append(i)
            pieces.append(h)
    sigs = np.empty((len(keep), cfg.num_perm), dtype=np.uint32)
    chunk_rows = 1 << 16  # shingles per numpy call: bounds the (rows x num_perm) temporary to ~30 MB
    start = 0
    while start < len(pieces):
        end, rows = start, 0
        while end < len(pieces) and (rows == 0 or rows + len(pieces[end]) <= chunk_rows):
            rows += len(pieces[end])
            end += 1
        hv = _fmix(np.concatenate(pieces[start:end]), 32)
        phv = np.empty((cfg.num_perm, len(hv)), dtype=np.uint32)  # permutations x shingles: rows reduce fastest
        with np.errstate(over="ignore"):
            np.multiply(a[:, None], hv[None, :], out=phv)
            np.add(phv, b[:, None], out=phv)
        offsets = np.cumsum([0] + [len(p) for p in pieces[start : end - 1]])
        sigs[start:end] = np.minimum.reduceat(phv, offsets, axis=1).T
        start = end
    return keep, sigs


def signature_schema(cfg: DedupConfig) -> pa.Schema:
    """A signature file: doc_idx, one bucket key per band, and the whole signature."""
    return pa.schema(
        [pa.field("doc_idx", pa.int64(), nullable=False)]
        + [pa.field(n, pa.uint64()) for n in band_columns(cfg)]
        + [pa.field(SIGNATURE_COLUMN, pa.list_(pa.uint32(), cfg.num_perm))]
    )


def signature_batch(doc_idx: list[int], sigs: np.ndarray, cfg: DedupConfig) -> pa.RecordBatch:
    """The rows of a signature file for documents doc_idx with signatures sigs (n, num_perm)."""
    bands = _band_hashes(sigs, cfg)
    cols = [pa.array(doc_idx, pa.int64())]
    cols += [pa.array(bands[:, b]) for b in range(cfg.bands)]
    cols.append(pa.FixedSizeListArray.from_arrays(pa.array(sigs.reshape(-1).astype(np.uint32)), cfg.num_perm))
    return pa.RecordBatch.from_arrays(cols, schema=signature_schema(cfg))


def compute_signatures(doc_file: Path, skip: set[int], cfg: DedupConfig, out_path: Path, batch_rows: int = 4096) -> int:
    """Write the signature and band bucket keys of each document of one work part not in skip; returns how many.

    A document with no units (only punctuation or symbols) gets no signature: only exact dedup applies to it.
    """
    pf = pq.ParquetFile(doc_file)
    unit_hashes = _UnitHashes()
    tmp = out_path.with_name("." + out_path.name + ".tmp")
    n = 0
    with pq.ParquetWriter(tmp, signature_schema(cfg), compression="zstd") as w:
        for rb in pf.iter_batches(batch_size=batch_rows, columns=["doc_idx", "text"]):
            pairs = [(i, t) for i, t in zip(rb.column(0).to_pylist(), rb.column(1).to_pylist(), strict=True)]
            pairs = [(i, t) for i, t in pairs if i not in skip]
            keep, sigs = minhash_signatures([t for _, t in pairs], cfg, unit_hashes)
            if not keep:
                continue
            w.write_batch(signature_batch([pairs[k][0] for k in keep], sigs, cfg))
            n += len(keep)
            if len(unit_hashes) > 2_000_000:  # bound the cache on corpora with huge vocabularies
                unit_hashes.clear()
    os.replace(tmp, out_path)
    return n


def signature_agreement(sig_files: list[Path], a: np.ndarray, b: np.ndarray, chunk_pairs: int = 1 << 17) -> np.ndarray:
    """Share of MinHash rows on which documents a[i] and b[i] agree: an unbiased estimate of their Jaccard.

    One pass over the signature files gathers the signatures of the documents named into a memory-mapped
    scratch file beside them; the pairs are then compared in chunks. I/O is one read of the signatures plus the
    gathered rows, and memory is one chunk, however many pairs there are.
    """
    out = np.empty(len(a), dtype=np.float64)
    if not len(a):
        return out
    nodes = np.unique(np.concatenate([a, b]))
    num_perm = pq.ParquetFile(sig_files[0]).schema_arrow.field(SIGNATURE_COLUMN).type.list_size
    with tempfile.TemporaryDirectory(dir=sig_files[0].parent, prefix=".gathered-") as tmp:
        shape = (len(nodes), num_perm)
        store = np.lib.format.open_memmap(Path(tmp) / "sig.npy", mode="w+", dtype=np.uint32, shape=shape)
        found = 0
        for f in sig_files:
            for rb in pq.ParquetFile(f).iter_batches(batch_size=1 << 16, columns=["doc_idx", SIGNATURE_COLUMN]):
                idx = rb.column(0).to_numpy()
                pos = np.minimum(np.searchsorted(nodes, idx), len(nodes) - 1)
                hit = nodes[pos] == idx
                if hit.any():
                    rows = rb.column(1).values.to_numpy().reshape(-1, num_perm)
                    store[pos[hit]] = rows[hit]
                    found += int(hit.sum())
        if found != len(nodes):  # doc_idx is unique: a shortfall is a document without a signature
            missing = len(nodes) - found
            raise RuntimeError(f"{missing} of {len(nodes)} documents have no signature in {sig_files[0].parent}")
        for start in range(0, len(a), chunk_pairs):
            ia = np.searchsorted(nodes, a[start : start + chunk_pairs])
            ib = np.searchsorted(nodes, b[start : start + chunk_pairs])
            out[start : start + len(ia)] = (store[ia] == store[ib]).mean(axis=1)
        del store
    return out


@dataclasses.dataclass(frozen=True)
class Candidates:
    """What LSH proposed and what verification kept."""

    edges: int  # distinct (root, document) pairs sharing a bucket in some band
    verified: int  # of those, pairs whose signatures agree on at least min_jaccard of their rows


def candidate_edges(sig_files: list[Path], cfg: DedupConfig, out_path: Path) -> Candidates:
    """Write verified (root, doc_idx, jaccard) edges, root < doc_idx: in each band, each document sharing a bucket
    to the earliest member and to the member just before it.

    An edge is kept when the pair's estimated Jaccard (signature agreement) is at least cfg.min_jaccard. The
    edge to the previous member keeps a pair whose bucket's earliest member is an unrelated collision, at most
    twice the edges of a star.
    """
    parts = []
    for col in band_columns(cfg):
        lf = pl.scan_parquet(sig_files).select("doc_idx", pl.col(col).alias("bucket"))
        shared = lf.filter(pl.len().over("bucket") > 1).sort("bucket", "doc_idx")
        members = shared.with_columns(
            pl.col("doc_idx").first().over("bucket").alias("first"),
            pl.col("doc_idx").shift(1).over("bucket").alias("previous"),
        )
        for near in ("first", "previous"):
            edge = members.filter(pl.col(near).is_not_null() & (pl.col(near) != pl.col("doc_idx")))
            parts.append(edge.select(pl.col(near).alias("root"), "doc_idx"))
    edges = pl.concat(parts).unique().sort("root", "doc_idx").collect()
    jaccard = signature_agreement(sig_files, edges["root"].to_numpy(), edges["doc_idx"].to_numpy())
    verified = edges.with_columns(pl.Series("jaccard", jaccard)).filter(pl.col("jaccard") >= cfg.min_jaccard)
    tmp = out_path.with_name("." + out_path.name + ".tmp")
    verified.write_parquet(tmp, compression="zstd")
    os.replace(tmp, out_path)
    return Candidates(edges.height, verified.height)


def connected_components(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union-find over edges, vectorised: returns (nodes, root of each node); the root is the smallest node."""
    nodes = np.unique(np.concatenate([u, v]))
    ui = np.searchsorted(nodes, u)
    vi = np.searchsorted(nodes, v)
    labels = np.arange(len(nodes))
    while True:
        m = np.minimum(labels[ui], labels[vi])
        new = labels.copy()
        np.minimum.at(new, ui, m)
        np.minimum.at(new, vi, m)
        new = new[new]  # pointer jumping: follow the label's own label
        if np.array_equal(new, labels):
            break
        labels = new
    return nodes, nodes[labels]


def cluster_drops(
    edges_file: Path, doc_files: list[Path], sig_files: list[Path], drops_path: Path, clusters_path: Path
) -> tuple[int, int]:
    """From verified edges, write drop rows for all but the earliest member of each cluster, and the clusters.

    A drop's score is its estimated Jaccard to the cluster's kept document (lower than min_jaccard only where the
    cluster is a chain). Returns (documents dropped, clusters). Cluster ids number the clusters 0.. in the order
    of their kept document.
    """
    edges = pl.read_parquet(edges_file)
    nodes, roots = connected_components(edges["root"].to_numpy(), edges["doc_idx"].to_numpy())
    members = pl.DataFrame({"doc_idx": nodes, "root": roots}, schema={"doc_idx": pl.Int64, "root": pl.Int64})
    root_ids = (
        members.select("root")
        .unique()
        .sort("root")
        .with_row_index("cluster_id")
        .with_columns(pl.col("cluster_id").cast(pl.Int64))
    )
    ids = pl.scan_parquet(doc_files).select("doc_idx", "id")
    members = (
        members.lazy()
        .join(root_ids.lazy(), on="root")
        .join(ids, on="doc_idx")
        .join(ids.select(pl.col("doc_idx").alias("root"), pl.col("id").alias("kept_id")), on="root")
        .sort("doc_idx")
        .collect()
    )
    # a drop joined to its kept document by a verified edge has its score already; only a chain member, joined
    # through others, needs the signatures read again
    dropped = (
        members.filter(pl.col("doc_idx") != pl.col("root"))
        .join(edges.select("root", "doc_idx", pl.col("jaccard").alias("score")), on=["root", "doc_idx"], how="left")
        .sort("doc_idx")
    )
    chained = dropped.filter(pl.col("score").is_null())
    if chained.height:
        again = signature_agreement(sig_files, chained["root"].to_numpy(), chained["doc_idx"].to_numpy())
        dropped = dropped.update(chained.select("doc_idx", pl.Series("score", again)), on="doc_idx")
    drops = dropped.with_columns(pl.col("score").cast(pl.Float64)).select(
        pl.col("doc_idx"),
        pl.lit(REASON_DUP_MINHASH).alias("reason"),
        pl.col("score"),
        pl.col("cluster_id"),
        pl.col("kept_id").alias("duplicate_of"),
    )
    clusters = (
        members.group_by("cluster_id", maintain_order=True)
        .agg(pl.col("kept_id").first(), pl.len().cast(pl.Int64).alias("size"), pl.col("id").alias("member_ids"))
        .sort("cluster_id")
    )
    for df, path, schema in ((drops, drops_path, None), (clusters, clusters_path, CLUSTER_SCHEMA)):
        tmp = path.with_name("." + path.name + ".tmp")
        table = df.to_arrow()
        if schema is not None:
            table = table.cast(schema)
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    return drops.height, clusters.height
