"""Deployments with cron schedules, served from one process by `sieve serve` (or declared in prefect.yaml).

Each deployment has a concurrency limit of 1 with the ENQUEUE strategy: a scheduled run that comes while the
previous one is still going waits for it instead of overlapping (both would write the same output folder).
"""

from __future__ import annotations

from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

from flows.pipeline import PipelineConfig, curate_flow, pipeline_flow

NIGHTLY_CURATE_CRON = "0 2 * * *"  # 02:00 every night: curate whatever landed during the day
WEEKLY_PIPELINE_CRON = "0 4 * * 0"  # 04:00 on Sundays: retrain and re-audit the tokenizer on the curated corpus


def one_at_a_time() -> ConcurrencyLimitConfig:
    """At most one run of a deployment at once; a run that would overlap is queued behind it."""
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def build_deployments(landing: str, out: str, timezone: str = "UTC") -> list[Any]:
    """The nightly curate and weekly pipeline deployments over a landing folder."""
    from prefect.client.schemas.schedules import CronSchedule

    return [
        curate_flow.to_deployment(
            name="nightly-curate",
            schedules=[CronSchedule(cron=NIGHTLY_CURATE_CRON, timezone=timezone)],
            parameters={"inputs": [landing], "out": f"{out}/curated"},
            concurrency_limit=one_at_a_time(),
            tags=["sieve", "curate"],
            description="Curate the landing folder every night.",
        ),
        pipeline_flow.to_deployment(
            name="weekly-pipeline",
            schedules=[CronSchedule(cron=WEEKLY_PIPELINE_CRON, timezone=timezone)],
            parameters={"inputs": [landing], "out": out, "config": PipelineConfig()},
            concurrency_limit=one_at_a_time(),
            tags=["sieve", "pipeline"],
            description="Curate, train a BPE and audit it (raw vs curated) every week.",
        ),
    ]


def serve(landing: str, out: str, timezone: str = "UTC") -> None:
    """Serve the deployments from this process until interrupted (needs a Prefect server: PREFECT_API_URL)."""
    from prefect import serve as prefect_serve

    prefect_serve(*build_deployments(landing, out, timezone))
