"""The `sieve` command. Each subcommand calls the same library function its Prefect flow calls.

Exit codes: 0 success, 1 the run failed (a bug or a broken invariant), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from curation import __version__
from curation.config import ConfigError, from_dict, load, to_dict
from curation.io import InputError
from curation.lock import LockedError
from curation.pipeline import CurateConfig, curate

log = logging.getLogger("sieve")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FILTER_NAMES = ("url", "language", "quality", "pii")


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sieve", description="Curate pre-training text and audit tokenizers.", parents=[_common()]
    )
    parser.add_argument("--version", action="version", version=f"sieve {__version__}")
    parser.set_defaults(quiet=False, verbose=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_curate(sub)
    return parser


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
    console = Console()
    err = Console(stderr=True)
    try:
        return args.func(args, console)
    except (InputError, ConfigError, LockedError) as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
