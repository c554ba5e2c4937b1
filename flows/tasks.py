"""Prefect tasks: each a few lines around a library function. They pass paths and small results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact

from reports.render import curate_markdown


def prefect_mapper(retries: int = 2) -> Callable[[Callable[..., Any], list[tuple[Any, ...]]], list[Any]]:
    """A curate mapper that runs each per-file / per-part step as a Prefect task, with retries and back-off."""

    def mapper(fn: Callable[..., Any], items: list[tuple[Any, ...]]) -> list[Any]:
        t = task(fn, name=fn.__name__, retries=retries, retry_delay_seconds=[1, 4, 16][:retries] or 0)
        futures = [t.submit(*item) for item in items]
        return [f.result() for f in futures]

    return mapper


@task(name="publish-curate-summary")
def publish_curate_summary(manifest: dict[str, Any], out: str) -> None:
    """A Markdown artifact: documents kept and rejected by reason, and where the output is."""
    body = f"# sieve curate\n\nOutput: `{out}`\n\n" + curate_markdown(manifest)
    create_markdown_artifact(markdown=body, key="curate-summary", description="documents kept and rejected")
