"""Orchestration: the `sieve` command line and (later) the Prefect flows. Thin over the libraries."""
