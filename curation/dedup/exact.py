"""Exact deduplication: documents whose normalised text hashes alike; the earliest in input order is kept.

Runs as one polars query over the work files (hash joins, no Python loop), across all inputs together.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from curation.schema import REASON_DUP_EXACT


def exact_duplicates(doc_files: list[Path], dropped_files: list[Path], out_path: Path) -> int:
    """Write a drop row for every document whose text hash an earlier document has; returns their number.

    doc_files: work documents (doc_idx, id, text_hash); dropped_files: documents already rejected, ignored here.
    """
    docs = pl.scan_parquet(doc_files).select("doc_idx", "id", "text_hash")
    if dropped_files:
        docs = docs.join(pl.scan_parquet(dropped_files).select("doc_idx"), on="doc_idx", how="anti")
    first = docs.group_by("text_hash").agg(pl.col("doc_idx").min().alias("first_idx"))
    ids = docs.select(pl.col("doc_idx").alias("first_idx"), pl.col("id").alias("duplicate_of"))
    dups = (
        docs.join(first, on="text_hash")
        .filter(pl.col("doc_idx") != pl.col("first_idx"))
        .join(ids, on="first_idx")
        .select(
            pl.col("doc_idx"),
            pl.lit(REASON_DUP_EXACT).alias("reason"),
            pl.lit(None, dtype=pl.Float64).alias("score"),
            pl.lit(None, dtype=pl.Int64).alias("cluster_id"),
            pl.col("duplicate_of"),
        )
        .sort("doc_idx")
    )
    tmp = out_path.with_name("." + out_path.name + ".tmp")
    dups.sink_parquet(tmp, compression="zstd")
    os.replace(tmp, out_path)
    return pl.scan_parquet(out_path).select(pl.len()).collect().item()
