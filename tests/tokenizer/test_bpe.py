"""Byte-level BPE training on tiny Parquet shards: files, sizes, round trip, limits and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer, decoders

from curation import __version__
from curation.config import ConfigError, load
from curation.io import InputError, sha256_file
from curation.schema import doc_schema
from tests.conftest import EN_A, EN_B, ZH_A, ZH_B
from tokenizer.bpe import BpeConfig, RoundTripError, check_roundtrip, new_tokenizer, train_bpe
from tokenizer.vocab import load_vocab

TEXTS = [ZH_A, ZH_B, EN_A, EN_B, "第二天，他们在北京见面。The meeting was on the second day.\n\tIndented line."]


def write_shard(path: Path, texts: list[str]) -> Path:
    rows = [{"id": f"d{i}", "text": t, "source": "test", "url": None, "meta": None} for i, t in enumerate(texts)]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=doc_schema(False)), path)
    return path


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    """A curate-like output: OUT/kept/part-00000.parquet and part-00001.parquet."""
    out = tmp_path / "curated" / "kept"
    variants = [f"{t} {i}" for i in range(40) for t in TEXTS]
    write_shard(out / "part-00000.parquet", variants[:100])
    write_shard(out / "part-00001.parquet", variants[100:])
    return out


def test_train_writes_everything_and_round_trips(kept: Path, tmp_path: Path) -> None:
    cfg = BpeConfig(vocab_size=400, roundtrip_docs=50)
    out = tmp_path / "tok"
    manifest = train_bpe([kept], out, cfg)
    assert {p.name for p in out.iterdir()} == {"tokenizer.json", "vocab.txt", "config.json", "manifest.json"}
    assert manifest["vocab_size"] == 400 and manifest["requested_vocab_size"] == 400
    assert manifest["merges"] == 400 - 256 - 1
    assert manifest["documents"] == 200 and manifest["roundtrip_checked"] == 50 + 5
    assert manifest["sieve_version"] == __version__
    parts = sorted(kept.glob("*.parquet"))
    assert [i["path"] for i in manifest["inputs"]] == [str(p) for p in parts]
    assert [i["sha256"] for i in manifest["inputs"]] == [sha256_file(p) for p in parts]
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert load(BpeConfig, out / "config.json") == cfg  # config.json is the config, as for every stage

    hf = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert hf.get_vocab_size() == 400
    for text in [*TEXTS, "  unseen 🦜 text\u200b\n"]:
        assert hf.decode(hf.encode(text).ids) == text

    vocab = load_vocab(str(out))
    assert vocab.format == "hf-bpe-bytelevel" and vocab.vocab_size == 400
    assert [(t.id, t.text) for t in vocab.special_tokens()] == [(0, "<|endoftext|>")]
    assert all(len(t.raw) == 1 for t in vocab.tokens[1:257])  # the 256 bytes, then merges
    assert all(t.merge_rank == t.id - 257 for t in vocab.tokens[257:])
    ids = hf.encode(ZH_B).ids
    assert b"".join(vocab.by_id()[i].raw for i in ids) == ZH_B.encode()


def test_vocab_txt_lists_merges(kept: Path, tmp_path: Path) -> None:
    train_bpe([kept], tmp_path / "tok", BpeConfig(vocab_size=300))
    lines = (tmp_path / "tok" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    body = [line.split("\t") for line in lines if not line.startswith("#")]
    assert len(body) == 300
    assert body[0] == ["0", "<|endoftext|>", "[special]"]
    first_merge = body[257]
    assert first_merge[0] == "257" and len(first_merge) == 4
    assert first_merge[1] == first_merge[2] + first_merge[3] or "<0x" in first_merge[1]
    assert any(row[1].startswith("␣") for row in body)  # a space-led token, shown visibly


def test_max_token_length_respected(kept: Path, tmp_path: Path) -> None:
    manifest = train_bpe([kept], tmp_path / "tok", BpeConfig(vocab_size=600, max_token_length=4))
    vocab = load_vocab(str(tmp_path / "tok" / "tokenizer.json"))
    assert max(len(t.raw) for t in vocab.tokens if not t.special) <= 4
    unlimited = train_bpe([kept], tmp_path / "tok2", BpeConfig(vocab_size=600))
    longest = max(len(t.raw) for t in load_vocab(str(tmp_path / "tok2")).tokens if not t.special)
    assert longest > 4 and manifest["vocab_size"] <= unlimited["vocab_size"]


def test_files_and_curate_output_folder_accepted(kept: Path, tmp_path: Path) -> None:
    files = sorted(kept.glob("*.parquet"))
    a = train_bpe(files, tmp_path / "a", BpeConfig(vocab_size=300))
    b = train_bpe([kept.parent], tmp_path / "b", BpeConfig(vocab_size=300))  # OUT of `sieve curate`: uses OUT/kept
    assert a["inputs"] == b["inputs"]
    assert (tmp_path / "a" / "tokenizer.json").read_text() == (tmp_path / "b" / "tokenizer.json").read_text()


def test_an_output_folder_of_other_files_is_refused(kept: Path, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match=r"holds files sieve tokenizer train did not write \(thesis.tex\)"):
        train_bpe([kept], tmp_path / "notes", BpeConfig(vocab_size=300))
    assert (tmp_path / "notes" / "thesis.tex").read_text() == "precious"


def test_input_errors(tmp_path: Path) -> None:
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"content": ["hello"]}), other)
    with pytest.raises(InputError, match=r"no column `text` in .*other\.parquet; columns are \[content\]"):
        train_bpe([other], tmp_path / "out", BpeConfig(vocab_size=300))
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match="no Parquet files in .*nothing; pass the kept/ folder"):
        train_bpe([tmp_path / "nothing"], tmp_path / "out", BpeConfig(vocab_size=300))
    not_parquet = tmp_path / "a.parquet"
    not_parquet.write_text("not parquet")
    with pytest.raises(InputError, match=r"a\.parquet is not a readable Parquet file"):
        train_bpe([not_parquet], tmp_path / "out", BpeConfig(vocab_size=300))
    empty = write_shard(tmp_path / "empty" / "part-00000.parquet", [""])
    with pytest.raises(InputError, match="nothing to train on"):
        train_bpe([empty], tmp_path / "out", BpeConfig(vocab_size=300))
    assert not (tmp_path / "out" / "tokenizer.json").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vocab_size": 100}, r"BpeConfig.vocab_size = 100 is outside the allowed range \[257, 2097152\]"),
        ({"min_frequency": 0}, r"min_frequency = 0 is outside"),
        ({"max_token_length": 1}, r"max_token_length = 1 is outside the allowed range \[2, 65536\]"),
        ({"special_tokens": ("<a>", "<a>")}, "duplicates"),
        ({"special_tokens": "<a>"}, "list of non-empty strings"),
        ({"text_column": ""}, "text_column must not be empty"),
        ({"batch_rows": 0}, r"batch_rows = 0 is outside"),
    ],
)
def test_config_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BpeConfig(**kwargs)


def test_roundtrip_failure_raises(kept: Path, tmp_path: Path) -> None:
    train_bpe([kept], tmp_path / "tok", BpeConfig(vocab_size=300))
    tok = Tokenizer.from_file(str(tmp_path / "tok" / "tokenizer.json"))
    assert check_roundtrip(tok, TEXTS) == len(TEXTS)
    tok.decoder = decoders.Metaspace()  # leaves GPT-2's byte stand-ins (Ġ) in the output
    with pytest.raises(RoundTripError, match=r"do not survive decode\(encode\(x\)\)"):
        check_roundtrip(tok, TEXTS)
    assert new_tokenizer().get_vocab_size() == 0
