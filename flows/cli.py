"""The `sieve` command. Each subcommand calls the same library function its Prefect flow calls.

Exit codes: 0 success, 1 the run failed (a bug or a broken invariant), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from curation import __version__
from curation.config import ConfigError, from_dict, load, to_dict
from curation.io import InputError
from curation.lock import LockedError
from curation.pipeline import CurateConfig, curate

log = logging.getLogger("sieve")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FILTER_NAMES = ("url", "language", "lexicon", "classifier", "quality", "pii")


def _add_curate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "curate",
        parents=[_common()],
        help="read, normalise and deduplicate raw text into kept/rejected/quarantine shards",
        description="Read raw text (JSONL[.gz|.zst], Parquet, Arrow, .txt, folders, datasets' save_to_disk), "
        "normalise it, drop exact and near duplicates, and write OUT/kept, OUT/rejected, OUT/quarantine, "
        "OUT/clusters and OUT/manifest.json.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders")
    p.add_argument(
        "--out", required=True, type=Path, help="output folder (created; an earlier run's output is replaced)"
    )
    p.add_argument("--config", type=Path, help="a JSON config file (as OUT/config.json); flags override it")
    p.add_argument("--text-column", help="column or JSON key holding the text (default: text)")
    p.add_argument("--id-column", help="column holding document ids (default: made from file and line/row)")
    p.add_argument("--url-column", help="column holding the URL (default: url)")
    p.add_argument("--keep-original", action="store_true", default=None, help="also store the text as read")
    p.add_argument("--no-nfkc", action="store_true", help="skip Unicode NFKC normalisation")
    p.add_argument(
        "--languages", help="comma-separated language codes to keep (default zh,en); 'all' keeps every language"
    )
    p.add_argument(
        "--no-filter",
        action="append",
        default=[],
        choices=FILTER_NAMES,
        metavar="NAME",
        help=f"switch a filter off (repeatable): {', '.join(FILTER_NAMES)}",
    )
    p.add_argument("--blocked-domains", type=Path, help="a file of domains to drop, one per line")
    p.add_argument("--no-exact", action="store_true", help="skip exact deduplication")
    p.add_argument("--no-near", action="store_true", help="skip near-duplicate (MinHash) deduplication")
    p.add_argument("--bands", type=int, help="MinHash LSH bands (default 14)")
    p.add_argument("--rows-per-band", type=int, help="MinHash LSH rows per band (default 8)")
    p.add_argument("--ngram-units", type=int, help="units per shingle: CJK characters or words (default 5)")
    p.add_argument(
        "--min-jaccard",
        type=float,
        help="estimated Jaccard an LSH candidate pair needs to count as duplicates (default 0.5; 0: every pair)",
    )
    p.add_argument("--shard-rows", type=int, help="rows per output Parquet file")
    p.add_argument("--workers", type=int, help="processes for reading and hashing (default 1)")
    p.add_argument("--keep-work", action="store_true", default=None, help="keep OUT/_work intermediate files")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON instead of a table")
    p.set_defaults(func=cmd_curate)


def curate_config_from_args(args: argparse.Namespace) -> CurateConfig:
    """Config file, then flags on top of it."""
    cfg = load(CurateConfig, args.config) if args.config else CurateConfig()
    top = {
        "text_column": args.text_column,
        "id_column": args.id_column,
        "url_column": args.url_column,
        "shard_rows": args.shard_rows,
        "workers": args.workers,
        "keep_work": args.keep_work,
    }
    norm = {"keep_original": args.keep_original, "nfkc": False if args.no_nfkc else None}
    dedup = {
        "exact": False if args.no_exact else None,
        "near": False if args.no_near else None,
        "bands": args.bands,
        "rows_per_band": args.rows_per_band,
        "ngram_units": args.ngram_units,
        "min_jaccard": args.min_jaccard,
    }
    dedup = {k: v for k, v in dedup.items() if v is not None}
    if "bands" in dedup or "rows_per_band" in dedup:
        dedup["num_perm"] = dedup.get("bands", cfg.dedup.bands) * dedup.get("rows_per_band", cfg.dedup.rows_per_band)
    data = to_dict(cfg)
    data.update({k: v for k, v in top.items() if v is not None})
    filters = data["filters"]
    for name in args.no_filter:
        filters[name]["enabled"] = False
    if args.languages is not None:
        langs = [] if args.languages.strip() == "all" else [c.strip() for c in args.languages.split(",") if c.strip()]
        filters["language"]["languages"] = langs
    if args.blocked_domains is not None:
        try:
            lines = args.blocked_domains.read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise InputError(f"--blocked-domains {args.blocked_domains}: {e.strerror}") from e
        filters["url"]["blocked_domains"] = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    data["normalize"].update({k: v for k, v in norm.items() if v is not None})
    data["dedup"].update(dedup)
    return from_dict(CurateConfig, data)


def cmd_curate(args: argparse.Namespace, console: Console) -> int:
    from reports.progress import RichProgress
    from reports.render import curate_table

    cfg = curate_config_from_args(args)
    with RichProgress(enabled=not args.quiet and sys.stderr.isatty()) as progress:
        manifest = curate(args.inputs, args.out, cfg, progress=progress)
    if args.json:
        print(json.dumps(manifest, indent=2, ensure_ascii=False))
    else:
        console.print(curate_table(manifest))
        console.print(f"kept shards:  {args.out / 'kept'}")
        console.print(f"manifest:     {args.out / 'manifest.json'}")
    return EXIT_OK


def _common() -> argparse.ArgumentParser:
    """Options every subcommand takes, before or after its name."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more")
    return p


def _add_classifier(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classifier", parents=[_common()], help="train the fastText content classifier")
    csub = p.add_subparsers(dest="classifier_command", required=True, metavar="ACTION")
    t = csub.add_parser(
        "train",
        parents=[_common()],
        help="train on a labelled JSONL ({text, label} with label clean|gambling|adult|spam)",
    )
    t.add_argument("labelled", type=Path, metavar="LABELLED.jsonl")
    t.add_argument("--out", required=True, type=Path, help="model file: .bin (default) or .ftz (--quantize)")
    t.add_argument("--epochs", type=int)
    t.add_argument(
        "--quantize", action="store_true", help="product-quantise to a ~30x smaller .ftz that predicts ~3.5x slower"
    )
    t.set_defaults(func=cmd_classifier_train)
    b = csub.add_parser(
        "build-default",
        parents=[_common()],
        help="build the default model from data the project makes offline (make does this once)",
    )
    b.add_argument("--out", type=Path, help="where (default: inside the package, where curate looks)")
    b.set_defaults(func=cmd_classifier_build_default)


def cmd_classifier_train(args: argparse.Namespace, console: Console) -> int:
    from curation.classifier import ClassifierConfig, train_classifier

    kw: dict = {}
    if args.epochs is not None:
        kw["epochs"] = args.epochs
    if args.quantize:
        kw["quantize"] = True
    meta = train_classifier(args.labelled, args.out, ClassifierConfig(**kw))
    console.print(f"model: {args.out}  labels: {meta.get('label_counts', meta.get('labels'))}")
    return EXIT_OK


def cmd_classifier_build_default(args: argparse.Namespace, console: Console) -> int:
    from curation.classifier import build_default_model

    path = build_default_model(args.out)
    console.print(f"default content model: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return EXIT_OK


def _add_filter(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("filter", parents=[_common()], help="evaluate the content filters")
    fsub = p.add_subparsers(dest="filter_command", required=True, metavar="ACTION")
    e = fsub.add_parser(
        "eval",
        parents=[_common()],
        help="precision, recall and F1 per category of the whole filter chain on a labelled set",
        description="Without LABELLED, builds the bundled evaluation set (real clean text held out from the "
        "classifier's training, and generated spam) and evaluates on it.",
    )
    e.add_argument("labelled", nargs="?", type=Path, metavar="LABELLED.jsonl")
    e.add_argument("--config", type=Path, help="a curate config JSON whose `filters` section is used")
    e.add_argument("--json", type=Path, dest="json_out", help="write the metrics as JSON here")
    e.add_argument("--classifier-only", action="store_true", help="evaluate the fastText classifier alone")
    e.set_defaults(func=cmd_filter_eval)


def cmd_filter_eval(args: argparse.Namespace, console: Console) -> int:
    import tempfile

    from curation.evaluate import (
        build_eval_set,
        evaluate_chain,
        evaluate_classifier,
        render_confusion_table,
        render_eval_table,
    )

    cfg = load(CurateConfig, args.config) if args.config else CurateConfig()
    with tempfile.TemporaryDirectory(prefix="sieve-eval-") as tmp:
        labelled = args.labelled
        if labelled is None:
            labelled = Path(tmp) / "eval.jsonl"
            build_eval_set(labelled)
        elif not labelled.is_file():
            raise InputError(f"{labelled} does not exist; pass a JSONL of {{text, label}} records")
        result = evaluate_classifier(labelled) if args.classifier_only else evaluate_chain(labelled, cfg.filters)
    console.print(render_eval_table(result))
    console.print(render_confusion_table(result))
    fp = result["clean_false_positives"]
    console.print(f"clean documents dropped as gambling/adult/spam: {fp['false_positives']} of {fp['docs']}")
    for gold, reasons in result.get("dropped_by_other_filters", {}).items():
        console.print(f"{gold} documents dropped by other filters: {reasons}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        console.print(f"metrics: {args.json_out}")
    return EXIT_OK


PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # no telemetry: these machines are offline
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # a fresh database takes longer than 20 s here
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def prefect_env() -> None:
    """Offline-friendly Prefect settings, unless the user set their own."""
    import os

    for k, v in PREFECT_DEFAULTS.items():
        os.environ.setdefault(k, v)


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        parents=[_common()],
        help="run the pipeline flow with Prefect: curate -> tokenizer -> audit (raw vs curated) -> tokenize -> train",
        description="Runs the `pipeline` Prefect flow on a temporary local server (nothing to start by hand): "
        "OUT/curated, OUT/tokenizer, OUT/audit, the raw baseline OUT/raw, OUT/tokenizer-raw, OUT/audit-raw, "
        "then OUT/tokens and OUT/model (a small GPT; 'train': null in --config stops after the tokens).",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--config", type=Path, help="a JSON PipelineConfig: {curate: {...}, bpe: {...}, audit: {...}}")
    p.add_argument("--vocab-size", type=int, help="BPE vocabulary size (default 20000)")
    p.add_argument("--no-raw-baseline", action="store_true", help="skip the BPE on the unfiltered text")
    p.add_argument("--task-runner", choices=("default", "dask"), default="default")
    p.add_argument("--dask-address", help="scheduler of an existing Dask cluster (default: a local one)")
    p.set_defaults(func=cmd_run)


def _no_traceback_for_user_errors(record: logging.LogRecord) -> bool:
    """A logging filter: drop the traceback of a bad input or config from Prefect's run logs (the message stays)."""
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, InputError | ConfigError):
        record.exc_info, record.exc_text = None, None
    return True


def _check_dask_scheduler(address: str, timeout_s: float = 10) -> None:
    """Raise InputError, before any work starts, when no Dask scheduler answers at address."""
    from distributed import Client

    try:
        Client(address, timeout=timeout_s).close()
    except (OSError, TimeoutError, ValueError) as e:
        raise InputError(
            f"no Dask scheduler answers at --dask-address {address} within {timeout_s:g} s ({e}); start one "
            "(`dask scheduler` and `dask worker ADDRESS`), or leave --dask-address out for a local cluster"
        ) from None


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    prefect_env()
    from flows.pipeline import PipelineConfig, pipeline_flow
    from flows.tasks import local_dask_cluster, make_task_runner
    from reports.render import curate_table

    cfg = load(PipelineConfig, args.config) if args.config else PipelineConfig()
    if args.vocab_size:
        cfg = dataclasses.replace(cfg, bpe=dataclasses.replace(cfg.bpe, vocab_size=args.vocab_size))
    if args.no_raw_baseline:
        cfg = dataclasses.replace(cfg, raw_baseline=False)
    if not args.verbose:  # the one-line error below says it all; -v keeps Prefect's tracebacks
        for name in ("prefect.task_runs", "prefect.flow_runs"):
            logging.getLogger(name).addFilter(_no_traceback_for_user_errors)
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # a local cluster's start and stop chatter
    with contextlib.ExitStack() as stack:
        address = args.dask_address
        if args.task_runner == "dask" and address is None:  # one local cluster for the pipeline and its subflows
            address = stack.enter_context(local_dask_cluster()).scheduler_address
        elif args.task_runner == "dask":
            _check_dask_scheduler(address)
        runner = make_task_runner(args.task_runner, address)
        flow_fn = pipeline_flow.with_options(task_runner=runner)
        result = flow_fn([str(p) for p in args.inputs], str(args.out), cfg, dask_address=address)
    console.print(curate_table(result["curate"]))
    console.print(_audit_comparison_table(result["audit"], result["audit_raw"]))
    console.print(f"curated shards: {args.out / 'curated' / 'kept'}")
    console.print(f"audit report:   {result['audit']['paths']['html']}")
    if result["audit_raw"]:
        console.print(f"raw audit:      {result['audit_raw']['paths']['html']}")
    console.print(f"token shards:   {args.out / 'tokens'} ({result['tokens']['tokens']:,} tokens)")
    if result["train"]:
        t = result["train"]
        ev = t["eval"] or {}
        console.print(
            f"model:          {t['checkpoint']} ({t['steps']} steps, eval loss {ev.get('loss', float('nan')):.3f}, "
            f"{ev.get('bpb', float('nan')):.3f} bits/byte)"
        )
    return EXIT_OK


def _audit_comparison_table(curated: dict, raw: dict | None) -> Table:
    from rich.table import Table

    table = Table(title="Tokens flagged in a BPE trained on ...")
    table.add_column("category")
    if raw:
        table.add_column("the raw corpus", justify="right")
    table.add_column("the curated corpus", justify="right")
    cats = sorted(set(curated["summary"]["by_category"]) | set(raw["summary"]["by_category"] if raw else ()))
    for c in cats:
        row = [c]
        if raw:
            row.append(f"{raw['summary']['by_category'].get(c, 0):,}")
        row.append(f"{curated['summary']['by_category'].get(c, 0):,}")
        table.add_row(*row)
    return table


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        parents=[_common()],
        help="serve the scheduled deployments (nightly curate, weekly pipeline) from this process",
        description="Needs a Prefect server (`prefect server start`, then PREFECT_API_URL=http://127.0.0.1:4200/api).",
    )
    p.add_argument("landing", help="the folder new raw data lands in")
    p.add_argument("--out", required=True, help="where curated shards, tokenizers and audits go")
    p.add_argument("--timezone", default="UTC")
    p.set_defaults(func=cmd_serve)


def _server_problem() -> Exception | None:
    """None when the Prefect server at PREFECT_API_URL answers its health check, else what went wrong."""
    import anyio
    from prefect.client.orchestration import PrefectClient

    async def check() -> Exception | None:
        async with PrefectClient(api=os.environ["PREFECT_API_URL"]) as client:
            return await client.api_healthcheck()

    try:
        return anyio.run(check)
    except Exception as e:  # a malformed URL and the like: report it the same way
        return e


def cmd_serve(args: argparse.Namespace, console: Console) -> int:
    import os

    prefect_env()
    if not os.environ.get("PREFECT_API_URL"):
        raise InputError(
            "sieve serve needs a running Prefect server: run `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (a temporary server cannot keep schedules)"
        )
    url = os.environ["PREFECT_API_URL"]
    if (problem := _server_problem()) is not None:
        raise InputError(
            f"no Prefect server answers at PREFECT_API_URL={url} ({type(problem).__name__}: {problem}); "
            "start one with `prefect server start`, or point PREFECT_API_URL at yours"
        )
    from flows.deploy import serve

    console.print(f"serving nightly-curate and weekly-pipeline over {args.landing} -> {args.out}")
    serve(args.landing, args.out, args.timezone)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sieve", description="Curate pre-training text and audit tokenizers.", parents=[_common()]
    )
    parser.add_argument("--version", action="version", version=f"sieve {__version__}")
    parser.set_defaults(quiet=False, verbose=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_curate(sub)
    _add_classifier(sub)
    _add_filter(sub)
    from flows.cli_tokenizer import add_audit_parser, add_tokenizer_parser

    add_tokenizer_parser(sub)
    add_audit_parser(sub)
    from flows.cli_train import add_tokenize_parser, add_train_parser

    add_tokenize_parser(sub)
    add_train_parser(sub)
    _add_run(sub)
    _add_serve(sub)
    return parser


PIPED_WIDTH = 120  # columns of tables written to a file or pipe: rich's 80 wraps the audit's token tables


def stdout_console() -> Console:
    """The console for results: the terminal's width, or PIPED_WIDTH when stdout is not one (COLUMNS wins)."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=PIPED_WIDTH if piped else None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `sieve`; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    console = stdout_console()
    err = Console(stderr=True, soft_wrap=True)
    try:
        return args.func(args, console)
    except (InputError, ConfigError, LockedError) as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except OSError as e:  # disk full, permissions, a vanished file: say what and where, no traceback
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        err.print(f"[bold red]error:[/] {escape(e.strerror or str(e))}{escape(where)}", highlight=False)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
