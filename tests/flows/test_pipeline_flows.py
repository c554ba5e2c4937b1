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


def test_pipeline_flow_end_to_end_and_rerun_reuses(prefect_harness: None, tmp_path: Path) -> None:
    from curation.classifier import people_daily_paragraphs
    from curation.spam_corpus import spam_documents
    from flows.pipeline import PipelineConfig, pipeline_flow
    from tokenizer.bpe import BpeConfig

    rows = [{"text": t} for t in people_daily_paragraphs()[:400]]
    rows += [{"text": t} for t in spam_documents("gambling", 120, 3)]
    corpus = tmp_path / "in"
    corpus.mkdir()
    with open(corpus / "a.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    cfg = PipelineConfig(bpe=BpeConfig(vocab_size=1500, max_token_length=16))
    out = tmp_path / "run"
    res = pipeline_flow([str(corpus)], str(out), cfg)
    assert res["curate"]["rejected"].get("gambling_lexicon", 0) > 100
    for name in ("curated/kept", "tokenizer/tokenizer.json", "audit/audit.html", "raw/kept", "audit-raw/audit.json"):
        assert (out / name).exists(), name
    raw = res["audit_raw"]["summary"]["by_category"]
    cur = res["audit"]["summary"]["by_category"]
    assert raw["gambling"] > cur["gambling"]
    assert any("gambling" in t["categories"] for t in res["audit_raw"]["top_flagged"])
    stamp = (out / "tokenizer" / "tokenizer.json").stat().st_mtime_ns
    again = pipeline_flow([str(corpus)], str(out), cfg)
    assert again["audit"]["summary"] == res["audit"]["summary"]
    assert (out / "tokenizer" / "tokenizer.json").stat().st_mtime_ns == stamp  # reused, not retrained


def test_a_shard_task_that_fails_once_succeeds_on_retry(prefect_harness: None, tmp_path: Path) -> None:
    from prefect import flow

    from flows.tasks import prefect_mapper

    @flow
    def mapped() -> list[int]:
        return prefect_mapper(retries=2)(flaky, [(tmp_path / f"m{i}", i) for i in range(3)])

    assert mapped() == [0, 10, 20]
    assert all((tmp_path / f"m{i}").read_text() == "failed once" for i in range(3))


def flaky(marker: Path, i: int) -> int:
    """Fails the first time it is called for a marker, then works (a transient I/O error)."""
    if not marker.exists():
        marker.write_text("failed once")
        raise OSError(f"transient failure for shard {i}")
    return i * 10


def test_deployments_carry_cron_and_no_overlap(prefect_harness: None) -> None:
    from flows.deploy import NIGHTLY_CURATE_CRON, WEEKLY_PIPELINE_CRON, build_deployments

    deps = {d.name: d for d in build_deployments("data/landing", "data/out")}
    assert deps["nightly-curate"].schedules[0].schedule.cron == NIGHTLY_CURATE_CRON
    assert deps["weekly-pipeline"].schedules[0].schedule.cron == WEEKLY_PIPELINE_CRON
    for d in deps.values():
        assert d.concurrency_limit == 1
        assert d.concurrency_options.collision_strategy.value == "ENQUEUE"
    assert deps["nightly-curate"].parameters == {"inputs": ["data/landing"], "out": "data/out/curated"}


def test_prefect_yaml_declares_the_same_schedules() -> None:
    import yaml

    from flows.deploy import NIGHTLY_CURATE_CRON, WEEKLY_PIPELINE_CRON

    spec = yaml.safe_load((Path(__file__).parents[2] / "prefect.yaml").read_text())
    crons = {d["name"]: d["schedules"][0]["cron"] for d in spec["deployments"]}
    assert crons == {"nightly-curate": NIGHTLY_CURATE_CRON, "weekly-pipeline": WEEKLY_PIPELINE_CRON}
    assert all(d["concurrency_limit"]["limit"] == 1 for d in spec["deployments"])


def test_pipeline_runs_curates_tasks_on_the_dask_cluster_it_is_given(
    prefect_harness: None, tiny_corpus: Path, tmp_path: Path
) -> None:
    from flows.pipeline import PipelineConfig, pipeline_flow
    from flows.tasks import local_dask_cluster, make_task_runner
    from tokenizer.bpe import BpeConfig

    cfg = PipelineConfig(bpe=BpeConfig(vocab_size=300), raw_baseline=False, train=None)
    with local_dask_cluster(workers=1) as cluster:
        flow_fn = pipeline_flow.with_options(task_runner=make_task_runner("dask", cluster.scheduler_address))
        res = flow_fn([str(tiny_corpus)], str(tmp_path / "run"), cfg, dask_address=cluster.scheduler_address)
        prefixes = set(cluster.scheduler.task_prefixes)
    assert res["curate"]["kept"] == 4
    # the curate subflow's per-file and per-part steps ran on the cluster (a subflow does not inherit a runner)
    assert any("ingest_source" in p for p in prefixes) and any("signatures_for_part" in p for p in prefixes), prefixes
