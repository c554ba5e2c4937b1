"""Run sieve's curate stage with every filter off (so only exact and near dedup reject) and time its stages.

Run by bench/dedup.py in its own process, so that the peak memory measured is sieve's alone:
    python bench/child_sieve.py --out DIR --result result.json --workers 2 [--profile] SHARD...
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

from curation.pipeline import CurateConfig, curate


class StageTimer:
    """A curate Progress that records the wall time of each stage."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._stage: str | None = None
        self._t0 = 0.0

    def start(self, stage: str, total: int | None) -> None:
        self._stage, self._t0 = stage, time.perf_counter()

    def advance(self, n: int = 1) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def finish(self) -> None:
        if self._stage is not None:
            self.stages[self._stage] = self.stages.get(self._stage, 0.0) + time.perf_counter() - self._t0
        self._stage = None


def dedup_only_config(workers: int) -> tuple[CurateConfig, list[str]]:
    """sieve's defaults with ids from the `id` column and every filter (and PII scrubbing) switched off."""
    cfg = CurateConfig(id_column="id", workers=workers)
    off: list[str] = []
    filters = getattr(cfg, "filters", None)
    if filters is not None and dataclasses.is_dataclass(filters):
        changes = {}
        for f in dataclasses.fields(filters):
            sub = getattr(filters, f.name)
            if dataclasses.is_dataclass(sub) and getattr(sub, "enabled", False):
                changes[f.name] = dataclasses.replace(sub, enabled=False)
                off.append(f.name)
        cfg = dataclasses.replace(cfg, filters=dataclasses.replace(filters, **changes))
    return cfg, off


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("shards", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--result", type=Path, required=True)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="run under cProfile; the top functions go in the result")
    args = ap.parse_args(argv)
    cfg, off = dedup_only_config(args.workers)
    timer = StageTimer()
    prof = cProfile.Profile() if args.profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    manifest = curate(args.shards, args.out, cfg, progress=timer)
    if prof:
        prof.disable()
    wall = time.perf_counter() - t0
    result: dict[str, Any] = {
        "wall_s": wall,
        "stages_s": timer.stages,
        "filters_off": off,
        "workers": args.workers,
        "documents_in": manifest.get("documents_in"),
        "kept": manifest.get("kept"),
        "rejected": manifest.get("rejected"),
        "dedup": manifest.get("dedup"),
    }
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        result["profile_tottime"] = buf.getvalue()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
        result["profile_cumulative"] = buf.getvalue()
    args.result.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
