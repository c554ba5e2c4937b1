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


def _local_cluster_kwargs(workers: int) -> dict[str, Any]:
    """A local Dask cluster of worker processes, one thread each: per-file steps are Python, so processes run them
    in parallel."""
    return {"n_workers": workers, "threads_per_worker": 1, "processes": True}


def local_dask_cluster(workers: int = 2) -> Any:
    """A local Dask cluster (see _local_cluster_kwargs), as a context manager."""
    try:
        from distributed import LocalCluster
    except ImportError as e:
        raise ImportError("--task-runner dask needs prefect-dask: pip install 'sieve[dask]'") from e
    return LocalCluster(**_local_cluster_kwargs(workers), dashboard_address=None)


def make_task_runner(kind: str = "default", dask_address: str | None = None, dask_workers: int = 2) -> Any:
    """The task runner a flow runs its mapped tasks on: Prefect's thread pool, or Dask (local or remote).

    A local Dask cluster uses worker processes, so per-file steps really run in parallel; `dask_address`
    connects to an existing scheduler instead (e.g. tcp://scheduler:8786).
    """
    if kind == "default":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner()
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as e:
            raise ImportError("--task-runner dask needs prefect-dask: pip install 'sieve[dask]'") from e
        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs=_local_cluster_kwargs(dask_workers))
    raise ValueError(f"unknown task runner {kind!r}; use default or dask")
