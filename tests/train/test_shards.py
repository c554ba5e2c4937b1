"""Token shards: Arrow IPC files that pyarrow, datasets and numpy open; round trip, manifest, determinism, CLI."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console
from tokenizers import Tokenizer

from curation import __version__
from curation.config import ConfigError
from curation.io import InputError, sha256_file
from curation.schema import doc_schema
from flows.cli_train import add_tokenize_parser
from tests.conftest import EN_A, EN_B, ZH_A, ZH_B
from tokenizer.bpe import BpeConfig, train_bpe
from train.shards import TokenizeConfig, open_token_shards, shard_tokens, token_chunks, tokenize_shards

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

TEXTS = [ZH_A, ZH_B, EN_A, EN_B, "第二天，他们在北京见面。The meeting was on the second day.\n\tIndented line."]
DOCS = [f"{t} {i}" for i in range(12) for t in TEXTS]  # 60 documents


def write_shard(path: Path, texts: list[str], first: int = 0) -> Path:
    rows = [
        {"id": f"d{first + i}", "text": t, "source": "test", "url": None, "meta": None} for i, t in enumerate(texts)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=doc_schema(False)), path)
    return path


@pytest.fixture(scope="package")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(kept folder with two shards, tokenizer folder): a 300-id BPE trained on it."""
    root = tmp_path_factory.mktemp("corpus")
    kept = root / "kept"
    write_shard(kept / "part-00000.parquet", DOCS[:35])
    write_shard(kept / "part-00001.parquet", DOCS[35:], first=35)
    tok = root / "tok"
    train_bpe([kept], tok, BpeConfig(vocab_size=300))
    return kept, tok


def test_tokens_round_trip_and_manifest(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    kept, tokdir = corpus
    out = tmp_path / "tokens"
    man = tokenize_shards([kept], tokdir, out, TokenizeConfig(shard_tokens=2000, batch_rows=16))
    tok = Tokenizer.from_file(str(tokdir / "tokenizer.json"))
    eos = tok.token_to_id("<|endoftext|>")
    assert man["eos_id"] == eos and man["dtype"] == "uint16" and man["sieve_version"] == __version__
    assert man["tokenizer"] == {
        "path": str((tokdir / "tokenizer.json").resolve()),
        "file": "tokenizer.json",
        "sha256": sha256_file(tokdir / "tokenizer.json"),
        "vocab_size": tok.get_vocab_size(),
    }
    assert json.loads((out / "manifest.json").read_text()) == man
    assert len(man["shards"]) > 1 and man["documents"] == len(DOCS)
    names = ["manifest.json", "tokenizer.json"] + [s["file"] for s in man["shards"]]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert (out / "tokenizer.json").read_bytes() == (tokdir / "tokenizer.json").read_bytes()  # the folder's own copy

    tables = open_token_shards(out, verify=True)
    ids, texts, total = [], [], 0
    for s, t in zip(man["shards"], tables, strict=True):
        assert t.schema.field("input_ids").type == pa.list_(pa.uint16())
        assert t.schema.field("length").type == pa.int32()
        assert sha256_file(out / s["file"]) == s["sha256"]
        assert t.num_rows == s["rows"] and sum(t.column("length").to_pylist()) == s["tokens"]
        flat, offsets = shard_tokens(t)
        assert flat.dtype == np.uint16 and len(flat) == s["tokens"] and offsets[-1] == s["tokens"]
        for k, doc_id in enumerate(t.column("id").to_pylist()):
            doc = flat[offsets[k] : offsets[k + 1]].tolist()
            assert doc[-1] == eos and eos not in doc[:-1]
            ids.append(doc_id)
            texts.append(tok.decode(doc[:-1], skip_special_tokens=False))
        total += s["tokens"]
    assert ids == [f"d{i}" for i in range(len(DOCS))]
    assert texts == DOCS
    assert total == man["tokens"]


def test_chunks_are_zero_copy_views_of_the_memory_map(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    kept, tokdir = corpus
    tokenize_shards([kept], tokdir, tmp_path / "t", TokenizeConfig(batch_rows=8))
    (table,) = open_token_shards(tmp_path / "t")
    chunks = token_chunks(table)
    assert len(chunks) == 9  # ceil(35 / 8) + ceil(25 / 8) record batches, one shard
    for values, _ in chunks:
        assert not values.flags.owndata and not values.flags.writeable
    before = pa.total_allocated_bytes()
    tables = open_token_shards(tmp_path / "t")
    flat, _ = shard_tokens(tables[0])  # several chunks: this one copies, into numpy's memory, not Arrow's
    assert pa.total_allocated_bytes() == before  # the tables themselves are the memory map, not copies


def test_opens_with_datasets_and_pyarrow(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    import datasets

    kept, tokdir = corpus
    out = tmp_path / "tokens"
    man = tokenize_shards([kept], tokdir, out, TokenizeConfig(shard_tokens=3000))
    files = [str(out / s["file"]) for s in man["shards"]]
    ds = datasets.Dataset.from_file(files[0])
    assert ds.num_rows == man["shards"][0]["rows"] and ds.column_names == ["id", "input_ids", "length"]
    assert ds.features["input_ids"].feature.dtype == "uint16"
    full = datasets.load_dataset("arrow", data_files=files, split="train", cache_dir=str(tmp_path / "cache"))
    assert full.num_rows == man["documents"] and sum(full["length"]) == man["tokens"]
    with pa.memory_map(files[-1]) as src:
        assert pa.ipc.open_stream(src).read_all().num_rows == man["shards"][-1]["rows"]
    with pytest.raises(pa.ArrowInvalid):  # IPC stream format (what datasets maps), not the IPC file format
        pa.ipc.open_file(files[-1])


def test_same_input_same_bytes(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    kept, tokdir = corpus
    cfg = TokenizeConfig(shard_tokens=2500)
    a = tokenize_shards([kept], tokdir, tmp_path / "a", cfg)
    b = tokenize_shards(sorted(kept.glob("*.parquet")), tokdir, tmp_path / "b", cfg)
    assert [s["sha256"] for s in a["shards"]] == [s["sha256"] for s in b["shards"]]
    # a rerun into the same folder with bigger shards leaves no stale shard behind
    c = tokenize_shards([kept], tokdir, tmp_path / "a", TokenizeConfig())
    assert len(c["shards"]) == 1 and sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "manifest.json",
        "part-00000.arrow",
        "tokenizer.json",
    ]


def test_without_eos_and_errors(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    kept, tokdir = corpus
    man = tokenize_shards([kept], tokdir, tmp_path / "n", TokenizeConfig(append_eos=False))
    with_eos = tokenize_shards([kept], tokdir, tmp_path / "e")
    assert man["tokens"] == with_eos["tokens"] - len(DOCS)
    with pytest.raises(ConfigError, match="shard_tokens = 0 is outside"):
        TokenizeConfig(shard_tokens=0)
    with pytest.raises(InputError, match="no tokenizer.json"):
        tokenize_shards([kept], tmp_path, tmp_path / "x")
    no_eos = tmp_path / "noeos"
    train_bpe([kept], no_eos, BpeConfig(vocab_size=300, special_tokens=("<|pad|>",)))
    with pytest.raises(InputError, match="no <\\|endoftext\\|> token"):
        tokenize_shards([kept], no_eos, tmp_path / "x")
    with pytest.raises(InputError, match="no column `body`"):
        tokenize_shards([kept], tokdir, tmp_path / "x", TokenizeConfig(text_column="body"))


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sieve")
    add_tokenize_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args, Console(width=120))


def test_cli_summary_and_exit_codes(corpus: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    kept, tokdir = corpus
    out = tmp_path / "tok"
    assert _cli(["tokenize", str(kept), "--tokenizer", str(tokdir), "--out", str(out), "--shard-tokens", "2000"]) == 0
    printed = capsys.readouterr().out
    man = json.loads((out / "manifest.json").read_text())
    assert (
        f"documents:    {len(DOCS)}" in printed
        and "uint16" in printed
        and f"shards:       {len(man['shards'])}" in printed
    )
    assert _cli(["tokenize", str(tmp_path / "nope"), "--tokenizer", str(tokdir), "--out", str(out)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    # the tokenizer's own folder as --out: tokenize would replace its manifest
    assert _cli(["tokenize", str(kept), "--tokenizer", str(tokdir), "--out", str(tokdir)]) == 2
    err = capsys.readouterr().err
    assert "holds files sieve tokenize did not write (config.json, vocab.txt)" in err
    assert json.loads((tokdir / "manifest.json").read_text())["stage"] == "bpe"
    assert _cli(["tokenize", str(kept), "--tokenizer", str(tokdir), "--out", str(out), "--shard-tokens", "0"]) == 2
