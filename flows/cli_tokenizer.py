"""The `sieve audit` and `sieve tokenizer train` subcommands: thin wrappers over tokenizer.audit and tokenizer.bpe.

Register them in flows/cli.py's build_parser with add_audit_parser(sub) and add_tokenizer_parser(sub). Exit codes as
in flows/cli.py: 0 success, 1 the audit gate failed (or a run broke), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from curation.config import ConfigError
from curation.io import InputError
from tokenizer.audit import CATEGORIES, CONTENT_CATEGORIES, AuditConfig, NoEncoderError
from tokenizer.vocab import TokenizerFileError, TokenizerNotFoundError

log = logging.getLogger("sieve")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2  # as flows/cli.py

# Input errors that exit 2 with their message (which names the file and the fix), on top of flows.cli.main's own.
INPUT_ERRORS: tuple[type[Exception], ...] = (
    TokenizerFileError,
    TokenizerNotFoundError,
    InputError,
    ConfigError,
    NoEncoderError,
    FileNotFoundError,
)


def _categories(value: str) -> tuple[str, ...]:
    cats = tuple(c.strip() for c in value.split(",") if c.strip())
    unknown = sorted(set(cats) - set(CATEGORIES))
    if not cats or unknown:
        raise argparse.ArgumentTypeError(f"unknown categories {unknown or [value]}; choose from {','.join(CATEGORIES)}")
    return cats


def _ids(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in value.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a comma-separated list of token ids") from None


def add_audit_parser(sub: argparse._SubParsersAction) -> None:
    """`sieve audit SPEC ...`."""
    from flows.cli import _common  # here, not at the top: flows/cli.py imports this module

    p = sub.add_parser(
        "audit",
        parents=[_common()],
        help="audit a tokenizer's vocabulary for spam, broken, invisible, unreachable and under-trained tokens",
        description="SPEC is a tokenizer.json (or its folder), a .tiktoken file, a SentencePiece .model, a tekken "
        ".json, or a known name (o200k_base, cl100k_base, qwen, deepseek, mistral-v3, ...). Prints a summary; "
        "--json/--markdown/--html write reports. Exit 1 when --fail-on categories flag more than --max-flagged "
        "tokens, 2 on bad input.",
    )
    p.add_argument("spec", metavar="SPEC", help="tokenizer file, folder or known name")
    p.add_argument("--corpus", nargs="+", type=Path, metavar="SHARDS", help="Parquet shards (curate's OUT/kept)")
    p.add_argument("--text-column", default="text", help="corpus column holding the text (default: text)")
    p.add_argument("--model", type=Path, metavar="CHECKPOINT", help="a .safetensors file with the embedding matrix")
    p.add_argument("--embedding", metavar="TENSOR", help="name of the (vocab, d) tensor in --model (default: found)")
    p.add_argument("--unused-ids", type=_ids, default=(), metavar="IDS", help="ids known never to occur (1,2,3)")
    p.add_argument("--json", type=Path, dest="json_out", metavar="PATH", help="write the JSON report here")
    p.add_argument("--markdown", type=Path, metavar="PATH", help="write a Markdown report here")
    p.add_argument("--html", type=Path, metavar="PATH", help="write a self-contained HTML report here")
    p.add_argument("--all", action="store_true", dest="all_tokens", help="list every token in JSON, not only flagged")
    p.add_argument("--compare", metavar="OTHER", help="another tokenizer: tokens flagged in one and not the other")
    p.add_argument(
        "--compare-categories",
        type=_categories,
        default=CONTENT_CATEGORIES,
        metavar="CATS",
        help="categories --compare looks at (default: gambling,adult,spam)",
    )
    p.add_argument("--categories", type=_categories, metavar="CATS", help="checks to run (default: all)")
    p.add_argument("--no-classifier", action="store_true", help="gambling/adult/spam from the lexicon only")
    p.add_argument(
        "--fail-on", type=_categories, metavar="CATS", help="gate: categories that count, e.g. gambling,adult"
    )
    p.add_argument("--max-flagged", type=int, default=0, metavar="N", help="gate: most tokens allowed (default 0)")
    p.set_defaults(func=cmd_audit)


def audit_config_from_args(args: argparse.Namespace) -> AuditConfig:
    """The AuditConfig the flags describe."""
    kw: dict = {
        "include_all": args.all_tokens,
        "text_column": args.text_column,
        "embedding_tensor": args.embedding,
        "unused_ids": args.unused_ids,
        "use_classifier": not args.no_classifier,
    }
    if args.categories:
        kw["categories"] = args.categories
    return AuditConfig(**kw)


def _check_inputs(args: argparse.Namespace) -> None:
    """Name a missing input before minutes of work."""
    if args.model is not None and not args.model.is_file():
        raise InputError(f"no checkpoint file {args.model}; pass --model with a .safetensors file")
    for s in args.corpus or []:
        if not s.exists():
            raise InputError(f"no corpus file or folder {s}; pass Parquet shards, e.g. the OUT/kept of `sieve curate`")
    if args.max_flagged < 0:
        raise InputError(f"--max-flagged {args.max_flagged} must be >= 0")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def cmd_audit(args: argparse.Namespace, console: Console) -> int:
    """Run the audit, write the reports, print the summary, apply the gate."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        return _audit(args, console)
    except INPUT_ERRORS as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        return EXIT_USAGE
    except OSError as e:  # a report path that cannot be written, a shard that vanished
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        return EXIT_USAGE


def _audit(args: argparse.Namespace, console: Console) -> int:
    from reports.html import audit_html
    from reports.progress import RichProgress
    from reports.render import audit_markdown, audit_renderables
    from tokenizer.audit import audit, compare
    from tokenizer.audit import gate as gate_fn
    from tokenizer.undertrained import CheckpointError
    from tokenizer.vocab import load_vocab

    cfg = audit_config_from_args(args)
    _check_inputs(args)
    t0 = time.perf_counter()
    vocab = load_vocab(args.spec)
    other = load_vocab(args.compare) if args.compare else None
    log.info("loaded in %.2f s", time.perf_counter() - t0)
    try:
        with RichProgress(enabled=not getattr(args, "quiet", False) and sys.stderr.isatty()) as progress:
            result = audit(vocab, cfg, corpus=args.corpus, model=args.model, progress=progress)
    except CheckpointError as e:
        raise InputError(str(e)) from e
    if other is not None:
        other_result = audit(other, dataclasses.replace(cfg, include_all=False))
        result.compare = compare(result, other_result, args.compare_categories)
    report = result.to_dict()
    if args.json_out:
        _write(args.json_out, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    if args.markdown:
        _write(args.markdown, audit_markdown(report))
    if args.html:
        _write(args.html, audit_html(report))
    for item in audit_renderables(report):
        console.print(item)
    for label, path in (("json", args.json_out), ("markdown", args.markdown), ("html", args.html)):
        if path:
            console.print(Text(f"{label}: {path}"))
    if args.fail_on:
        failed, n = gate_fn(report, args.fail_on, args.max_flagged)
        verdict = "FAIL" if failed else "ok"
        console.print(
            Text(f"gate {verdict}: {n} tokens flagged {','.join(args.fail_on)} (allowed {args.max_flagged})"),
            style="bold red" if failed else "green",
        )
        if failed:
            return EXIT_FAILED
    return EXIT_OK


def add_tokenizer_parser(sub: argparse._SubParsersAction) -> None:
    """`sieve tokenizer train SHARDS... --vocab-size N --out DIR`."""
    from flows.cli import _common

    p = sub.add_parser("tokenizer", parents=[_common()], help="train a byte-level BPE tokenizer")
    tsub = p.add_subparsers(dest="tokenizer_command", required=True, metavar="ACTION")
    t = tsub.add_parser(
        "train",
        parents=[_common()],
        help="train byte-level BPE on Parquet shards (curate's OUT/kept)",
        description="Streams the text column, trains with Hugging Face tokenizers, checks decode(encode(x)) == x, "
        "and writes tokenizer.json, vocab.txt, config.json and manifest.json to --out.",
    )
    t.add_argument("shards", nargs="+", type=Path, metavar="SHARDS", help="Parquet files or folders")
    t.add_argument("--vocab-size", type=int, required=True, metavar="N", help="total ids, bytes and specials included")
    t.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    t.add_argument("--max-token-length", type=int, metavar="N", help="most bytes in a token (16 stops long phrases)")
    t.add_argument("--min-frequency", type=int, metavar="N", help="least count of a pair to merge (default 2)")
    t.add_argument("--special-tokens", nargs="+", metavar="TOKEN", help="special tokens (default <|endoftext|>)")
    t.add_argument("--text-column", help="column holding the text (default: text)")
    t.set_defaults(func=cmd_tokenizer_train)


def cmd_tokenizer_train(args: argparse.Namespace, console: Console) -> int:
    """Train BPE with the flags as a BpeConfig; print where it went."""
    from tokenizer.bpe import BpeConfig, train_bpe

    err = Console(stderr=True, soft_wrap=True)
    kw: dict = {"vocab_size": args.vocab_size, "max_token_length": args.max_token_length}
    if args.min_frequency is not None:
        kw["min_frequency"] = args.min_frequency
    if args.special_tokens is not None:
        kw["special_tokens"] = tuple(args.special_tokens)
    if args.text_column:
        kw["text_column"] = args.text_column
    try:
        manifest = train_bpe(args.shards, args.out, BpeConfig(**kw))
    except INPUT_ERRORS as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        return EXIT_USAGE
    console.print(
        Text(
            f"trained {manifest['vocab_size']:,} tokens ({manifest['merges']:,} merges) on "
            f"{manifest['documents']:,} documents in {manifest['seconds']:.1f} s -> {args.out}"
        )
    )
    return EXIT_OK
