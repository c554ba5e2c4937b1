"""The `sieve tokenize` subcommand: a thin wrapper over train.shards.tokenize_shards.

Register it in flows/cli.py's build_parser with add_tokenize_parser(sub). Exit codes as in flows/cli.py: 0 success,
1 a run broke (disk full, permissions), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from curation.config import ConfigError
from curation.io import InputError
from train.shards import TokenizeConfig, tokenize_shards

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2  # as flows/cli.py


def add_tokenize_parser(sub: argparse._SubParsersAction) -> None:
    """`sieve tokenize SHARDS... --tokenizer DIR --out TOKDIR`."""
    from flows.cli import _common  # here, not at the top: flows/cli.py imports this module

    defaults = TokenizeConfig()
    p = sub.add_parser(
        "tokenize",
        parents=[_common()],
        help="encode curated Parquet shards into memory-mappable Arrow token shards for training",
        description="SHARDS are the kept/ Parquet files or folders of `sieve curate`. Writes TOKDIR/part-00000.arrow, "
        "... (Arrow IPC: id, input_ids, length; each document ends with <|endoftext|>) and TOKDIR/manifest.json. "
        "Exit 2 on bad input.",
    )
    p.add_argument("shards", nargs="+", type=Path, metavar="SHARDS", help="Parquet files or folders (curate's kept/)")
    p.add_argument("--tokenizer", type=Path, required=True, metavar="DIR", help="folder with tokenizer.json")
    p.add_argument("--out", type=Path, required=True, metavar="TOKDIR", help="output folder for the token shards")
    p.add_argument(
        "--shard-tokens",
        type=int,
        default=defaults.shard_tokens,
        metavar="N",
        help=f"tokens per output shard (default {defaults.shard_tokens:,})",
    )
    p.add_argument("--text-column", default=defaults.text_column, help="column holding the text (default: text)")
    p.add_argument("--no-eos", action="store_true", help="do not end documents with <|endoftext|> (packing needs it)")
    p.set_defaults(func=cmd_tokenize)


def cmd_tokenize(args: argparse.Namespace, console: Console) -> int:
    """Tokenize the shards and print a short summary."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        cfg = TokenizeConfig(text_column=args.text_column, shard_tokens=args.shard_tokens, append_eos=not args.no_eos)
        manifest = tokenize_shards(args.shards, args.tokenizer, args.out, cfg)
    except (InputError, ConfigError) as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        return EXIT_USAGE
    except OSError as e:  # disk full, permissions, a vanished file
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        err.print(f"[bold red]error:[/] {escape(e.strerror or str(e))}{escape(where)}", highlight=False)
        return EXIT_FAILED
    console.print(f"documents:    {manifest['documents']:,}")
    console.print(f"tokens:       {manifest['tokens']:,}")
    console.print(f"shards:       {len(manifest['shards'])}")
    console.print(f"dtype:        {manifest['dtype']} (vocab {manifest['tokenizer']['vocab_size']:,})")
    console.print(f"manifest:     {escape(str(args.out / 'manifest.json'))}")
    return EXIT_OK


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    """`sieve train TOKDIR --out DIR [--config train.toml] [flags]`."""
    from flows.cli import _common

    p = sub.add_parser(
        "train",
        parents=[_common()],
        help="train a compact GPT on token shards (CPU or GPU); resumes from OUT/checkpoint",
        description="Settings come from --config (TOML or JSON, the fields of TrainConfig), then flags. A run whose "
        "OUT/checkpoint exists resumes exactly where it stopped.",
    )
    p.add_argument("tokdir", type=Path, metavar="TOKDIR", help="the --out folder of `sieve tokenize`")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--config", type=Path, help="train.toml or train.json")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seq-len", type=int)
    p.add_argument("--device", help="auto, cpu or cuda")
    p.add_argument("--compile", action="store_true", default=None, help="torch.compile the model")
    p.set_defaults(func=cmd_train)


def _load_train_config(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        if path.suffix == ".toml":
            import tomllib

            return tomllib.loads(path.read_text(encoding="utf-8"))
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read --config {path}: {e}") from e


def cmd_train(args: argparse.Namespace, console: Console) -> int:
    from curation.config import from_dict
    from reports.progress import RichProgress
    from train.trainer import TrainConfig, train

    data = _load_train_config(args.config)
    for flag, field in (("max_steps", "max_steps"), ("batch_size", "batch_size"), ("seq_len", "seq_len"),
                        ("device", "device"), ("compile", "compile")):  # fmt: skip
        if getattr(args, flag) is not None:
            data[field] = getattr(args, flag)
    try:
        cfg = from_dict(TrainConfig, data)
        with RichProgress(enabled=not args.quiet and sys.stderr.isatty(), unit="tokens") as progress:
            s = train(args.tokdir, args.out, cfg, progress)
    except (InputError, ConfigError, FileNotFoundError) as e:
        Console(stderr=True, soft_wrap=True).print(Text(f"error: {e}"))
        return 2
    ev = s["eval"] or {}
    console.print(
        Text(
            f"{s['steps']} steps on {s['device']}: loss {s['final_loss']:.3f}, "
            f"eval loss {ev.get('loss') or float('nan'):.3f}, "
            f"{ev.get('bpb') or float('nan'):.3f} bits/byte, {s['tokens_per_s']:,.0f} tokens/s"
            + (f", MFU {100 * s['mfu']:.1f}%" if s["mfu"] else "")
        )
    )
    console.print(Text(f"checkpoint: {s['checkpoint']}"))
    return 0
