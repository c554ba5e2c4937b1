"""Prefect flows: thin over the library stages. A flow body reads like a table of contents.

`pipeline` = curate -> train a BPE on the kept shards -> audit it with the kept shards as corpus (with the raw
baseline on, the same BPE is also trained on the raw, normalised but unfiltered, text and audited, side by side)
-> token shards -> a compact GPT trained on them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from curation.dedup.minhash import DedupConfig
from curation.filters import FilterConfig
from curation.filters.classifier import ClassifierFilterConfig
from curation.filters.content import LexiconFilterConfig
from curation.filters.language import LanguageConfig
from curation.filters.quality import QualityConfig
from curation.filters.url import UrlConfig
from curation.pii import PiiConfig
from curation.pipeline import CurateConfig, curate
from flows.tasks import make_task_runner, prefect_mapper, publish_curate_summary
from tokenizer.audit import AuditConfig
from tokenizer.bpe import BpeConfig
from train.shards import TokenizeConfig
from train.trainer import TrainConfig

# The demo's model: small enough to train for a few dozen steps on 2 CPU cores in under a minute.
DEMO_TRAIN = TrainConfig(n_layer=2, n_head=2, n_embd=64, seq_len=128, batch_size=8, max_steps=40, warmup_steps=5,
                         eval_interval_steps=20, eval_batches=4, checkpoint_interval_steps=40)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Every stage's config, as the `pipeline` flow's one parameter (validated by Prefect's UI and API)."""

    curate: CurateConfig = CurateConfig()
    bpe: BpeConfig = BpeConfig(
        vocab_size=20_000, max_token_length=24
    )  # enough merges for phrases to form; 8 CJK chars max
    audit: AuditConfig = AuditConfig()
    raw_baseline: bool = True  # also train and audit a BPE on the unfiltered text: the before of before/after
    tokenize: TokenizeConfig = TokenizeConfig()
    train: TrainConfig | None = DEMO_TRAIN  # None: stop after the token shards


def raw_config(cfg: CurateConfig) -> CurateConfig:
    """curate's config with every filter and both dedups off: read and normalise only (the raw baseline)."""
    off = FilterConfig(
        url=UrlConfig(enabled=False),
        language=LanguageConfig(enabled=False),
        lexicon=LexiconFilterConfig(enabled=False),
        classifier=ClassifierFilterConfig(enabled=False),
        quality=QualityConfig(enabled=False),
        pii=PiiConfig(enabled=False),
    )
    return dataclasses.replace(cfg, filters=off, dedup=DedupConfig(exact=False, near=False))


@flow(name="curate", log_prints=True)
def curate_flow(inputs: list[str], out: str, config: CurateConfig = CurateConfig()) -> dict[str, Any]:  # noqa: B008
    """Read, normalise, filter and deduplicate INPUTS into OUT; per-file and per-part steps run as tasks."""
    manifest = curate(inputs, Path(out), config, mapper=prefect_mapper())
    publish_curate_summary(manifest, out)
    print(f"kept {manifest['kept']:,} of {manifest['documents_in']:,} documents -> {out}/kept")
    return manifest


@task(name="train-tokenizer", retries=1)
def train_tokenizer(shards: str, out: str, config: BpeConfig) -> dict[str, Any]:
    """Byte-level BPE on Parquet shards; a complete earlier output for the same bytes and config is reused."""
    from tokenizer.bpe import train_bpe

    return train_bpe([shards], out, config)


@task(name="audit-tokenizer")
def audit_tokenizer(tokenizer_dir: str, out: str, config: AuditConfig, corpus: str | None) -> dict[str, Any]:
    """Audit a tokenizer (with corpus provenance) and write audit.json/.md/.html; returns the summary and paths."""
    from reports.render import write_audit_reports
    from tokenizer.audit import audit
    from tokenizer.vocab import load_vocab

    report = audit(load_vocab(tokenizer_dir), config, corpus=[corpus] if corpus else None).to_dict()
    paths = write_audit_reports(report, Path(out))
    content = [t for t in report["tokens"] if set(t["categories"]) & {"gambling", "adult", "spam"}]
    top = sorted(content, key=lambda t: (-t["score"], -t["chars"], t["id"]))[:10]
    return {
        "summary": report["summary"],
        "paths": {k: str(v) for k, v in paths.items()},
        "top_flagged": [{"id": t["id"], "token": t["rendered"], "categories": t["categories"]} for t in top],
    }


@flow(name="tokenizer", log_prints=True)
def tokenizer_flow(
    shards: str,
    tokenizer_out: str,
    audit_out: str,
    bpe: BpeConfig = BpeConfig(),  # noqa: B008
    audit: AuditConfig = AuditConfig(),  # noqa: B008
) -> dict[str, Any]:
    """Train a BPE on kept shards, then audit it with those shards as the provenance corpus."""
    tok = train_tokenizer(shards, tokenizer_out, bpe)
    report = audit_tokenizer(tokenizer_out, audit_out, audit, shards)
    flagged = {c: report["summary"]["by_category"].get(c, 0) for c in ("gambling", "adult", "spam")}
    create_markdown_artifact(
        markdown=f"# sieve tokenizer\n\n{tok['vocab_size']:,} tokens; flagged {flagged}\n\n"
        + top_flagged_markdown(report["top_flagged"])
        + f"\nreport: `{report['paths']['html']}`\n",
        key="tokenizer-audit",
        description="flagged tokens of the trained BPE",
    )
    return {"tokenizer": tok, "audit": report}


def top_flagged_markdown(top: list[dict[str, Any]]) -> str:
    """The highest-scoring gambling/adult/spam tokens as a Markdown table (token text escaped)."""
    from reports.render import md_escape

    if not top:
        return "No gambling, adult or spam tokens.\n"
    rows = ["| id | token | categories |", "|---:|---|---|"]
    rows += [f"| {t['id']} | {md_escape(t['token'])} | {', '.join(t['categories'])} |" for t in top]
    return "\n".join(rows) + "\n"


def audit_comparison_markdown(curated: dict[str, Any], raw: dict[str, Any] | None) -> str:
    """Flagged tokens by category: BPE on raw text beside BPE on curated text."""
    cats = sorted(
        set(curated["summary"]["by_category"])
        | set((raw or {"summary": {"by_category": {}}})["summary"]["by_category"])
    )
    lines = ["| category | raw corpus | curated corpus |", "|---|---:|---:|"]
    for c in cats:
        r = raw["summary"]["by_category"].get(c, 0) if raw else "-"
        lines.append(f"| {c} | {r} | {curated['summary']['by_category'].get(c, 0)} |")
    lines.append("")
    lines.append(f"Curated audit report: `{curated['paths']['html']}`")
    if raw:
        lines.append(f"Raw audit report: `{raw['paths']['html']}`")
    return "\n".join(lines) + "\n"


@flow(name="tokenize", log_prints=True)
def tokenize_flow(shards: str, tokenizer_dir: str, out: str, config: TokenizeConfig = TokenizeConfig()) -> dict:  # noqa: B008
    """Encode kept shards into Arrow IPC token shards."""
    from train.shards import tokenize_shards

    manifest = task(tokenize_shards, name="tokenize-shards", retries=1)(
        [shards], Path(tokenizer_dir), Path(out), config
    )
    print(f"{manifest['tokens']:,} tokens in {len(manifest['shards'])} shard(s) -> {out}")
    return manifest


@flow(name="train", log_prints=True)
def train_flow(tokdir: str, out: str, config: TrainConfig = TrainConfig()) -> dict:  # noqa: B008
    """Train (or resume) the compact GPT on token shards; publishes the loss as an artifact."""
    from train.trainer import train

    summary = task(train, name="train-model")(tokdir, out, config)
    ev = summary["eval"] or {}
    create_markdown_artifact(
        markdown=f"# sieve train\n\nsteps {summary['steps']}, loss {summary['final_loss']:.3f}, eval loss "
        f"{ev.get('loss')}, bits/byte {ev.get('bpb')}, {summary['tokens_per_s']:,.0f} tokens/s on "
        f"{summary['device']}\n\ncheckpoint: `{summary['checkpoint']}`\n",
        key="train-summary",
        description="training loss",
    )
    return summary


@flow(name="pipeline", log_prints=True)
def pipeline_flow(
    inputs: list[str],
    out: str,
    config: PipelineConfig = PipelineConfig(),  # noqa: B008
    dask_address: str | None = None,
) -> dict[str, Any]:
    """curate -> tokenizer -> audit (and the raw baseline beside it) -> token shards -> train.

    dask_address: run curate's per-file and per-part tasks on this Dask scheduler. A subflow does not inherit
    its parent's task runner, so the curate subflow is given one here (the raw baseline's tasks run on the
    pipeline's own runner, which `sieve run --task-runner dask` points at the same scheduler).
    """
    root = Path(out)
    curate_sub = curate_flow
    if dask_address:
        curate_sub = curate_flow.with_options(task_runner=make_task_runner("dask", dask_address))
    curated = curate_sub(inputs, str(root / "curated"), config.curate)
    cur = tokenizer_flow(
        str(root / "curated" / "kept"), str(root / "tokenizer"), str(root / "audit"), config.bpe, config.audit
    )
    tok, report = cur["tokenizer"], cur["audit"]
    raw_report = None
    if config.raw_baseline:
        curate(inputs, root / "raw", raw_config(config.curate), mapper=prefect_mapper())
        raw = tokenizer_flow(
            str(root / "raw" / "kept"), str(root / "tokenizer-raw"), str(root / "audit-raw"), config.bpe, config.audit
        )
        raw_report = raw["audit"]
    tokens = tokenize_flow(
        str(root / "curated" / "kept"), str(root / "tokenizer"), str(root / "tokens"), config.tokenize
    )
    trained = train_flow(str(root / "tokens"), str(root / "model"), config.train) if config.train else None
    body = "# sieve pipeline\n\n" + audit_comparison_markdown(report, raw_report)
    create_markdown_artifact(markdown=body, key="pipeline-summary", description="tokenizer audit, raw vs curated")
    print(body)
    return {
        "curate": curated,
        "tokenizer": tok,
        "audit": report,
        "audit_raw": raw_report,
        "tokens": tokens,
        "train": trained,
    }
