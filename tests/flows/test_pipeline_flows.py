"""The Prefect curate flow gives the same output as the library, and publishes its summary."""

from __future__ import annotations

import json
from pathlib import Path

from curation.pipeline import curate


def test_curate_flow_matches_library_run(prefect_harness: None, tiny_corpus: Path, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    from flows.pipeline import curate_flow

    m = curate_flow([str(tiny_corpus)], str(tmp_path / "flow"))
    ref = curate([tiny_corpus], tmp_path / "lib")
    assert m["files"] == ref["files"]
    assert json.loads((tmp_path / "flow" / "manifest.json").read_text())["kept"] == 4

    import anyio

    async def artifact() -> str:
        async with get_client() as client:
            arts = await client.read_artifacts()
            return next(a.data for a in arts if a.key == "curate-summary")

    body = anyio.run(artifact)
    assert "rejected: dup_minhash" in body and "| kept | 4 |" in body


def test_dask_runner_gives_the_same_output(prefect_harness: None, tiny_corpus: Path, tmp_path: Path) -> None:
    from flows.pipeline import curate_flow
    from flows.tasks import make_task_runner

    default = curate_flow([str(tiny_corpus)], str(tmp_path / "default"))
    dask_flow = curate_flow.with_options(task_runner=make_task_runner("dask", dask_workers=2))
    dask = dask_flow([str(tiny_corpus)], str(tmp_path / "dask"))
    assert dask["files"] == default["files"]  # every shard, byte for byte (sha256)
    assert {k: v for k, v in dask.items() if k != "files"} == {k: v for k, v in default.items() if k != "files"}
