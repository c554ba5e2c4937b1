"""Arrow schemas of every file the curate stage writes, and its fixed reason codes.

These schemas are the contract with downstream stages and tools: change them only with care.
"""

from __future__ import annotations

import pyarrow as pa

# Reason codes a document can be rejected with. Filters add their own (see curation/filters).
REASON_EMPTY = "empty_text"
REASON_DUP_EXACT = "dup_exact"
REASON_DUP_MINHASH = "dup_minhash"

# Columns every document carries from the reader onwards.
DOC_FIELDS = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("text", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),  # input file, as given on the command line
    pa.field("url", pa.string()),  # from a `url` column when the input has one
    pa.field("meta", pa.string()),  # every other input column, as a JSON object
]
ORIGINAL_FIELD = pa.field("text_original", pa.string())  # only with NormalizeConfig.keep_original

# Intermediate documents (work folder): a global ordinal and the exact-dedup hash travel along.
DOC_IDX = pa.field("doc_idx", pa.int64(), nullable=False)  # (input file number << 40) | row
TEXT_HASH = pa.field("text_hash", pa.binary(16), nullable=False)  # xxh3-128 of the normalised text

REJECT_FIELDS = [
    pa.field("reason", pa.string(), nullable=False),
    pa.field("score", pa.float64()),  # what decided it, where a filter scores (e.g. a probability)
    pa.field("cluster_id", pa.int64()),  # near duplicates: the cluster (see clusters/)
    pa.field("duplicate_of", pa.string()),  # duplicates: id of the document kept in its place
]

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("line", pa.int64()),  # 1-based line (text formats) or 0-based row (tables)
        pa.field("error", pa.string(), nullable=False),  # fixed code, e.g. invalid_json
        pa.field("message", pa.string(), nullable=False),
        pa.field("raw", pa.binary()),  # the offending bytes, capped (QUARANTINE_RAW_MAX_BYTES)
    ]
)
QUARANTINE_RAW_MAX_BYTES = 65536

CLUSTER_SCHEMA = pa.schema(
    [
        pa.field("cluster_id", pa.int64(), nullable=False),
        pa.field("kept_id", pa.string(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("member_ids", pa.list_(pa.string()), nullable=False),  # kept id first, then input order
    ]
)


def doc_schema(keep_original: bool) -> pa.Schema:
    """Schema of a kept document."""
    return pa.schema(DOC_FIELDS + ([ORIGINAL_FIELD] if keep_original else []))


def work_schema(keep_original: bool) -> pa.Schema:
    """Schema of a document in the work folder, between stages."""
    return pa.schema([DOC_IDX, *doc_schema(keep_original), TEXT_HASH])


def rejected_schema(keep_original: bool) -> pa.Schema:
    """Schema of a rejected document: the document and why."""
    return pa.schema(list(doc_schema(keep_original)) + REJECT_FIELDS)
