"""Prefect flows: thin over the library stages. The flow body reads like a table of contents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from curation.pipeline import CurateConfig, curate
from flows.tasks import prefect_mapper, publish_curate_summary


@flow(name="curate", log_prints=True)
def curate_flow(inputs: list[str], out: str, config: CurateConfig = CurateConfig()) -> dict[str, Any]:  # noqa: B008
    """Read, normalise, filter and deduplicate INPUTS into OUT; per-file and per-part steps run as tasks."""
    manifest = curate(inputs, Path(out), config, mapper=prefect_mapper())
    publish_curate_summary(manifest, out)
    print(f"kept {manifest['kept']:,} of {manifest['documents_in']:,} documents -> {out}/kept")
    return manifest
