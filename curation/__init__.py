"""sieve's curate stage: read raw text, normalise, filter, deduplicate, and write kept and rejected shards."""

__version__ = "0.1.0"
