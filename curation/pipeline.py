"""The curate stage: read -> normalise -> deduplicate (exact, then near) -> write kept, rejected, quarantine.

Each step is a function over files in `OUT/_work`, so a step can be mapped over shards by a process pool,
Prefect or Dask; `curate` runs them in order. Every document ends in exactly one place, and the run checks it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import multiprocessing
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from curation import __version__
from curation.classifier import ModelNotFoundError
from curation.config import ConfigError, check_range, to_dict
from curation.dedup import DROP_SCHEMA
from curation.dedup.exact import exact_duplicates
from curation.dedup.minhash import DedupConfig, candidate_edges, cluster_drops, compute_signatures
from curation.filters import Drop, Filter, FilterConfig, build_filters
from curation.io import (
    InputError,
    ParquetShardWriter,
    ReadConfig,
    Source,
    discover,
    read_source,
    sha256_file,
    write_json,
    write_quarantine,
)
from curation.lock import LOCK_NAME, OutputLock
from curation.normalize import NormalizeConfig, normalize
from curation.pii import scrub
from curation.progress import NoProgress, Progress
from curation.schema import QUARANTINE_SCHEMA, REASON_EMPTY, doc_schema, rejected_schema, work_schema
from curation.stats import CurateStats

log = logging.getLogger(__name__)

ROW_BITS = 40  # doc_idx = (input file number << 40) | line or row: unique, ordered, known without counting
RUN_RECORD = ".sieve-run.json"  # the run key of the output in OUT: a rerun with the same key has nothing to do
SHARD_FOLDERS = ("kept", "rejected", "quarantine", "clusters")
SHARD_NAME = re.compile(r"part-\d{5,}\.parquet")
OUTPUT_NAMES = (*SHARD_FOLDERS, "manifest.json", "config.json", "_work", RUN_RECORD)
T = TypeVar("T")
R = TypeVar("R")


@dataclasses.dataclass(frozen=True)
class CurateConfig:
    """Everything `sieve curate` does, in one object: written as config.json beside the output."""

    text_column: str = "text"  # the column (or JSON key) with the document text
    id_column: str | None = None  # None: ids from source file and line/row, stable across runs
    url_column: str = "url"  # optional column kept as `url` (URL rules use it)
    normalize: NormalizeConfig = NormalizeConfig()
    filters: FilterConfig = FilterConfig()
    dedup: DedupConfig = DedupConfig()
    batch_rows: int = 8192  # documents read and normalised at once; bounds reader memory
    max_line_bytes: int = 64 << 20  # longer JSON lines are quarantined unread (line_too_long): bounded memory
    work_part_rows: int = 100_000  # rows per intermediate part: the unit of parallel work in later steps
    shard_rows: int = 250_000  # rows per output Parquet file (kept, rejected, quarantine)
    row_group_rows: int = 4096  # Parquet row group; small enough for streaming readers, big enough for zstd
    workers: int = 1  # processes for the per-file steps (read+normalise, signatures)
    keep_work: bool = False  # keep OUT/_work (intermediate files) for inspection

    def __post_init__(self) -> None:
        if not self.text_column:
            raise ConfigError("CurateConfig.text_column must not be empty")
        for name, hi in (
            ("batch_rows", 1 << 20),
            ("work_part_rows", 1 << 30),
            ("shard_rows", 1 << 30),
            ("max_line_bytes", 1 << 40),
        ):
            check_range(self, name, 1, hi)
        check_range(self, "row_group_rows", 1, 1 << 20)  # a part smaller than a row group is one row group
        check_range(self, "workers", 1, 256)

    @property
    def read(self) -> ReadConfig:
        return ReadConfig(self.text_column, self.id_column, self.url_column, self.batch_rows, self.max_line_bytes)


# ------------------------------------------------------------------------------------------------ work paths


class Work:
    """The layout of OUT/_work."""

    def __init__(self, out: Path) -> None:
        self.root = out / "_work"
        self.docs = self.root / "docs"
        self.quarantine = self.root / "quarantine"
        self.drops = self.root / "drops"
        self.ingest = self.root / "ingest"
        self.signatures = self.root / "signatures"
        self.edges = self.root / "edges.parquet"
        self.clusters = self.root / "clusters.parquet"
        self.final = self.root / "final"  # outputs, before they move to their final names

    def make(self) -> None:
        for d in (self.docs, self.quarantine, self.drops, self.ingest, self.signatures):
            d.mkdir(parents=True, exist_ok=True)

    def doc_files(self) -> list[Path]:
        return sorted(self.docs.glob("part-*.parquet"))

    def drop_files(self) -> list[Path]:
        return sorted(self.drops.glob("*.parquet"))


# ------------------------------------------------------------------------------------------------ step 1


def ingest_source(src: Source, file_no: int, cfg: CurateConfig, out: Path) -> CurateStats:
    """Read one input, normalise it, and write its work parts, quarantine and drops.

    Its completion record (OUT/_work/ingest/part-NNNNN.json, written last) lets a resumed run skip it.
    """
    work = Work(out)
    record = work.ingest / f"part-{file_no:05d}.json"
    if record.exists():
        return CurateStats.from_dict(json.loads(record.read_text(encoding="utf-8"))["stats"])
    for stale in [*work.docs.glob(f"part-{file_no:05d}-*"), *work.docs.glob(f".part-{file_no:05d}-*")]:
        stale.unlink()  # left by an interrupted run: this input is read again from the start
    schema = work_schema(cfg.normalize.keep_original)
    writer = ParquetShardWriter(
        work.docs,
        schema,
        shard_rows=cfg.work_part_rows,
        row_group_rows=cfg.row_group_rows,
        prefix=f"part-{file_no:05d}",
    )
    stats = CurateStats()
    quarantined: list[dict[str, Any]] = []
    drops: list[tuple[int, Drop]] = []
    base = file_no << ROW_BITS
    ncfg = cfg.normalize
    filters = build_filters(cfg.filters)
    try:
        for rb in read_source(src, cfg.read):
            quarantined.extend(rb.quarantined)
            for q in rb.quarantined:
                stats.quarantined[q["error"]] += 1
            n = rb.docs.num_rows
            stats.documents_in += n + len(rb.quarantined)
            if not n:
                continue
            raw = rb.docs.column("text").to_pylist()
            stats.truncated += sum(len(t) > ncfg.max_chars for t in raw)
            texts = [normalize(t, ncfg) for t in raw]
            idx = [base | r for r in rb.docs.column("row").to_pylist()]
            for i, decision in zip(idx, judge_texts(filters, texts, rb.docs.column("url").to_pylist()), strict=True):
                if decision is not None:
                    drops.append((i, decision))
            if cfg.filters.pii.enabled:
                for k, t in enumerate(texts):
                    if t:
                        texts[k], found = scrub(t, cfg.filters.pii)
                        stats.pii.update(found)
            cols: dict[str, Any] = {
                "doc_idx": pa.array(idx, pa.int64()),
                "id": rb.docs.column("id"),
                "text": pa.array(texts, pa.string()),
                "source": pa.array([src.name] * n, pa.string()),
                "url": rb.docs.column("url"),
                "meta": rb.docs.column("meta"),
            }
            if ncfg.keep_original:
                cols["text_original"] = rb.docs.column("text")
            cols["text_hash"] = pa.array([xxhash.xxh3_128_digest(t.encode("utf-8")) for t in texts], pa.binary(16))
            writer.write(pa.table(cols, schema=schema))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    if quarantined:
        write_quarantine(quarantined, work.quarantine / f"part-{file_no:05d}.parquet")
    if drops:
        _write_drops(
            [
                {"doc_idx": i, "reason": d.reason, "score": d.score, "cluster_id": None, "duplicate_of": None}
                for i, d in drops
            ],
            work.drops / f"ingest-{file_no:05d}.parquet",
        )
        stats.rejected.update(Counter(d.reason for _, d in drops))
    write_json(record, {"source": src.name, "stats": stats.to_dict()})
    return stats


def judge_texts(filters: list[Filter], texts: list[str], urls: list[str | None]) -> list[Drop | None]:
    """Run the filter chain: empty texts are dropped first; each filter sees only what the earlier ones kept."""
    decisions: list[Drop | None] = [None if t else Drop(REASON_EMPTY) for t in texts]
    for f in filters:
        alive = [k for k, d in enumerate(decisions) if d is None]
        if not alive:
            break
        for k, d in zip(alive, f.judge([texts[k] for k in alive], [urls[k] for k in alive]), strict=True):
            decisions[k] = d
    return decisions


def _write_drops(rows: list[dict[str, Any]], path: Path) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=DROP_SCHEMA), tmp, compression="zstd")
    tmp.replace(path)


# ------------------------------------------------------------------------------------------------ step 3


def _dropped_in(drop_files: list[Path], doc_file: Path) -> set[int]:
    """doc_idx of already rejected documents within one work part's range."""
    if not drop_files:
        return set()
    md = pq.ParquetFile(doc_file).metadata
    if md.num_rows == 0:
        return set()
    lo = min(md.row_group(i).column(0).statistics.min for i in range(md.num_row_groups))
    hi = max(md.row_group(i).column(0).statistics.max for i in range(md.num_row_groups))
    s = pl.scan_parquet(drop_files).select("doc_idx").filter(pl.col("doc_idx").is_between(lo, hi)).collect()
    return set(s["doc_idx"].to_list())


def signatures_for_part(doc_file: Path, cfg: CurateConfig, out: Path) -> int:
    """MinHash band keys for one work part's surviving documents (kept from an interrupted run if complete)."""
    work = Work(out)
    target = work.signatures / doc_file.name
    if target.exists():
        return pq.ParquetFile(target).metadata.num_rows
    skip = _dropped_in(work.drop_files(), doc_file)
    return compute_signatures(doc_file, skip, cfg.dedup, target)


# ------------------------------------------------------------------------------------------------ step 5


def finalize(cfg: CurateConfig, out: Path, progress: Progress) -> tuple[CurateStats, list[dict[str, Any]]]:
    """Split the work parts into kept and rejected shards by the drops of every step; gather quarantine.

    Shards are written under OUT/_work/final and listed with paths relative to it (= their final paths).
    """
    work = Work(out)
    staged = work.final
    keep_original = cfg.normalize.keep_original
    kept_w = ParquetShardWriter(
        staged / "kept", doc_schema(keep_original), shard_rows=cfg.shard_rows, row_group_rows=cfg.row_group_rows
    )
    rej_w = ParquetShardWriter(
        staged / "rejected",
        rejected_schema(keep_original),
        shard_rows=cfg.shard_rows,
        row_group_rows=cfg.row_group_rows,
    )
    q_w = ParquetShardWriter(
        staged / "quarantine", QUARANTINE_SCHEMA, shard_rows=cfg.shard_rows, row_group_rows=cfg.row_group_rows
    )
    stats = CurateStats()
    drops = work.drop_files()
    kept_cols = doc_schema(keep_original).names
    rej_cols = rejected_schema(keep_original).names
    try:
        for f in work.doc_files():
            docs = pl.read_parquet(f)
            if drops and docs.height:
                lo, hi = docs["doc_idx"].min(), docs["doc_idx"].max()
                d = pl.scan_parquet(drops).filter(pl.col("doc_idx").is_between(lo, hi)).collect()
                if d["doc_idx"].is_duplicated().any():
                    raise RuntimeError(f"a document was rejected twice in {f}: internal error, please report")
                docs = docs.join(d, on="doc_idx", how="left", maintain_order="left")
            else:
                docs = docs.with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
            kept = docs.filter(pl.col("reason").is_null())
            rej = docs.filter(pl.col("reason").is_not_null())
            kept_w.write(kept.select(kept_cols).to_arrow())
            if rej.height:
                rej_w.write(rej.select(rej_cols).to_arrow())
                stats.rejected.update(Counter(rej["reason"].to_list()))
            stats.kept += kept.height
            progress.advance(docs.height)
        for f in sorted(work.quarantine.glob("part-*.parquet")):
            q = pq.read_table(f)
            q_w.write(q)
            stats.quarantined.update(Counter(q.column("error").to_pylist()))
        files = kept_w.close(write_empty=True) + rej_w.close(write_empty=True) + q_w.close(write_empty=True)
    except BaseException:
        for w in (kept_w, rej_w, q_w):
            w.abort()
        raise
    if work.clusters.exists():
        (staged / "clusters").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work.clusters, staged / "clusters" / "part-00000.parquet")
        files.append((staged / "clusters" / "part-00000.parquet", pq.ParquetFile(work.clusters).metadata.num_rows))
    listing = [
        {"path": p.relative_to(staged).as_posix(), "rows": rows, "bytes": p.stat().st_size, "sha256": sha256_file(p)}
        for p, rows in files
    ]
    return stats, listing


# ------------------------------------------------------------------------------------------------ the run


Mapper = Callable[[Callable[..., Any], list[tuple[Any, ...]]], list[Any]]


def _map(
    fn: Callable[..., R],
    items: list[tuple[Any, ...]],
    workers: int,
    progress: Progress,
    weight: Callable[[R], int],
    mapper: Mapper | None = None,
) -> list[R]:
    """fn(*item) for each item, results in order: by mapper if given, else in a process pool when workers > 1."""
    if mapper is not None:
        results = mapper(fn, items)
        progress.advance(sum(weight(r) for r in results))
        return results
    results: list[R] = []
    if workers <= 1 or len(items) <= 1:
        for args in items:
            r = fn(*args)
            progress.advance(weight(r))
            results.append(r)
        return results
    # spawn, not fork: forking a process that runs polars' or arrow's threads can deadlock the child
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=ctx) as pool:
        for r in pool.map(fn, *zip(*items, strict=True)):
            progress.advance(weight(r))
            results.append(r)
    return results


def _up_to_date(out: Path, key: str) -> dict[str, Any] | None:
    """The manifest of a complete output in OUT made with the same run key, else None."""
    try:
        if json.loads((out / RUN_RECORD).read_text(encoding="utf-8")).get("key") != key:
            return None
        return json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_key(sources: list[Source], cfg: CurateConfig) -> str:
    """What a run's output depends on: sieve's version, the config, and each input's name, size and mtime."""
    settings = to_dict(cfg)
    for name in ("workers", "keep_work"):  # change speed or leftovers, never the output
        settings.pop(name)
    data = {
        "version": __version__,
        "config": settings,
        "inputs": [(s.name, s.path.stat().st_size, s.path.stat().st_mtime_ns) for s in sources],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def prepare_output(out: Path, key: str) -> bool:
    """Make OUT ready; returns True when an interrupted run with the same key left work to resume.

    A folder holding files sieve did not write is refused (an OUT that is a file, curate refuses before taking
    the lock). An earlier run's results stay until this run's are complete (see _publish).
    """
    if out.exists():
        foreign = sorted({p.name for p in out.iterdir()} - set(OUTPUT_NAMES) - {LOCK_NAME})
        for name in SHARD_FOLDERS:  # replaced whole when this run publishes: only sieve's shards may be in them
            folder = out / name
            if folder.is_file() or folder.is_symlink():
                foreign.append(name)
            elif folder.is_dir():
                foreign += [f"{name}/{p.name}" for p in sorted(folder.iterdir()) if not SHARD_NAME.fullmatch(p.name)]
        if foreign:
            raise InputError(
                f"--out {out} holds files sieve did not write ({', '.join(foreign[:5])}); pass a new or empty folder"
            )
    work = Work(out)
    stamp = work.root / "run.json"
    if stamp.exists():
        try:
            if json.loads(stamp.read_text(encoding="utf-8")).get("key") == key:
                log.info("resuming the interrupted run in %s", work.root)
                work.make()
                shutil.rmtree(work.final, ignore_errors=True)
                return True
        except (OSError, ValueError):
            pass
    if work.root.exists():
        shutil.rmtree(work.root)
    work.make()
    write_json(stamp, {"key": key})
    return False


def _publish(out: Path, staged: Path) -> None:
    """Move finished outputs from the work folder to their final names; the manifest goes last.

    Readers take OUT/manifest.json as the mark of a complete output, so it is removed first and written last.
    """
    (out / "manifest.json").unlink(missing_ok=True)
    (out / RUN_RECORD).unlink(missing_ok=True)
    for name in SHARD_FOLDERS:
        target = out / name
        if target.exists():
            shutil.rmtree(target)
        if (staged / name).exists():
            (staged / name).rename(target)


def curate(
    inputs: Iterable[str | Path],
    out: str | Path,
    config: CurateConfig | None = None,
    progress: Progress | None = None,
    mapper: Mapper | None = None,
) -> dict[str, Any]:
    """Run the whole curate stage; returns the manifest (also written to OUT/manifest.json).

    mapper runs the per-file and per-part steps (default: in order, or in a process pool with workers > 1);
    the Prefect flow passes one that maps them as tasks. A rerun after an interruption resumes: steps whose
    outputs are complete are skipped, and the output is the same as an uninterrupted run's.
    """
    cfg = config or CurateConfig()
    progress = progress or NoProgress()
    out = Path(out)
    if out.exists() and not out.is_dir():  # before the lock, which would be made inside it
        raise InputError(f"--out {out} is a file; pass a folder")
    model = cfg.filters.classifier.resolved_model_path()
    if cfg.filters.classifier.enabled and not model.is_file():  # here, not in a worker after OUT is made
        raise ModelNotFoundError(model)
    sources, skipped = discover(list(inputs), exclude=out)
    with OutputLock(out):
        key = run_key(sources, cfg)
        done = _up_to_date(out, key)
        if done is not None:
            log.info("%s is up to date for these inputs and config; nothing to do", out)
            return done
        resumed = prepare_output(out, key)
        work = Work(out)
        manifest = _run(sources, skipped, cfg, out, work, progress, mapper)
        if resumed:
            log.warning("resumed an interrupted run in %s; the output is the same as an uninterrupted run's", out)
        write_json(out / RUN_RECORD, {"key": key})
        if not cfg.keep_work:  # a failed or killed run keeps its work folder, so a rerun resumes
            shutil.rmtree(work.root, ignore_errors=True)
        return manifest


def _run(
    sources: list[Source],
    skipped: list[str],
    cfg: CurateConfig,
    out: Path,
    work: Work,
    progress: Progress,
    mapper: Mapper | None,
) -> dict[str, Any]:
    """The steps of curate, in order, inside the output lock."""
    progress.start("read + normalise", None)
    ingest_stats = _map(
        ingest_source,
        [(s, i, cfg, out) for i, s in enumerate(sources)],
        cfg.workers,
        progress,
        lambda r: r.documents_in,
        mapper,
    )
    progress.finish()
    read = sum(ingest_stats, CurateStats())
    readable = read.documents_in - read.quarantined_total
    dedup_info: dict[str, Any] = {}

    doc_files = work.doc_files()
    if cfg.dedup.exact and doc_files:
        progress.start("exact dedup", None)
        dedup_info["exact_duplicates"] = exact_duplicates(
            work.doc_files(), work.drop_files(), work.drops / "exact.parquet"
        )
        progress.finish()

    if cfg.dedup.near and doc_files:
        progress.start("minhash signatures", readable)
        hashed = _map(
            signatures_for_part, [(f, cfg, out) for f in doc_files], cfg.workers, progress, lambda n: n, mapper
        )
        progress.finish()
        progress.start("lsh buckets + clusters", None)
        sig_files = sorted(work.signatures.glob("*.parquet"))
        dedup_info["signatures"] = sum(hashed)
        candidates = candidate_edges(sig_files, cfg.dedup, work.edges)
        dedup_info["candidate_edges"] = candidates.edges
        dedup_info["candidate_edges_below_min_jaccard"] = candidates.edges - candidates.verified
        near, n_clusters = cluster_drops(
            work.edges, doc_files, sig_files, work.drops / "minhash.parquet", work.clusters
        )
        dedup_info["near_duplicates"] = near
        dedup_info["clusters"] = n_clusters
        dedup_info["largest_cluster"] = (
            pl.read_parquet(work.clusters, columns=["size"])["size"].max() or 0 if n_clusters else 0
        )
        progress.finish()

    progress.start("write shards", readable)
    final, files = finalize(cfg, out, progress)
    progress.finish()

    stats = CurateStats(
        documents_in=read.documents_in,
        kept=final.kept,
        rejected=final.rejected,
        quarantined=final.quarantined,
        truncated=read.truncated,
        pii=read.pii,
    )
    if final.quarantined != read.quarantined:
        raise RuntimeError(
            f"quarantine written ({dict(final.quarantined)}) differs from read ({dict(read.quarantined)})"
        )
    stats.check()
    manifest = {
        "sieve_version": __version__,
        "stage": "curate",
        "inputs": [{"path": s.name, "kind": s.kind, "bytes": s.path.stat().st_size} for s in sources],
        "skipped_inputs": skipped,
        **stats.to_dict(),
        "dedup": dedup_info,
        "files": files,
        "config": to_dict(cfg),
    }
    _publish(out, work.final)
    write_json(out / "config.json", to_dict(cfg))
    write_json(out / "manifest.json", manifest)
    return manifest


def load_manifest(out: str | Path) -> dict[str, Any]:
    """Read OUT/manifest.json."""
    path = Path(out) / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist; is {out} the --out folder of a finished `sieve curate`?") from None
