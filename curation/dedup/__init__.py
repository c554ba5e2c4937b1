"""Deduplication stages: exact (hash of the normalised text) and near (MinHash LSH), both over files on disk."""

import pyarrow as pa

# A decision about a document, as every dedup and filter stage writes it (one row per rejected document).
DROP_SCHEMA = pa.schema(
    [
        pa.field("doc_idx", pa.int64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("score", pa.float64()),
        pa.field("cluster_id", pa.int64()),
        pa.field("duplicate_of", pa.string()),
    ]
)
