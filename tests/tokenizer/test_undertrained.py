"""Under-trained indicators on small safetensors files written with numpy: planted rows are found, others are not."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from tests.tokenizer.conftest import write_hf_tokenizer
from tokenizer.audit import AuditConfig, audit
from tokenizer.undertrained import (
    CheckpointError,
    find_embedding,
    read_safetensors_header,
    undertrained,
    write_safetensors,
)
from tokenizer.vocab import Vocab, load_vocab

D = 32
PLANTED = (300, 301, 302)  # ordinary tokens whose rows look like the unused ones
EXTRA = tuple(f"tok{i:03d}" for i in range(64))


@pytest.fixture(scope="module")
def vocab(tmp_path_factory: pytest.TempPathFactory) -> Vocab:
    """256 bytes + 64 words + 2 specials, one of them reserved: 322 ids."""
    path = tmp_path_factory.mktemp("ut") / "tokenizer.json"
    return load_vocab(write_hf_tokenizer(path, EXTRA, specials=("<|endoftext|>", "<|reserved_0|>")))


def embeddings(rows: int, unused: list[int], seed: int = 0) -> np.ndarray:
    """Trained rows spread out; unused and planted rows near one shared direction, as training leaves them."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((rows, D))
    shared = rng.standard_normal(D)
    for i in [*unused, *PLANTED]:
        e[i] = 0.5 * shared + 0.02 * rng.standard_normal(D)
    return e


def test_planted_rows_are_flagged(vocab: Vocab, tmp_path: Path) -> None:
    rows = vocab.vocab_size + 6  # padded to a multiple of 8: rows 322..327 are never used
    unused = [vocab.vocab_size - 1, *range(vocab.vocab_size, rows)]
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"model.embed_tokens.weight": embeddings(rows, unused).astype(np.float32)})
    result = undertrained(path, vocab)
    assert result["tensor"] == "model.embed_tokens.weight" and result["shape"] == [rows, D]
    assert result["method"] == "cosine_to_unused"
    assert result["reference_ids"] == unused
    assert set(result["flagged"]) == set(PLANTED)
    assert result["flagged"][300].startswith("undertrained: cosine 1.00 to the unused tokens' mean (>= 0.")
    assert result["cosine"][unused].min() > 0.9 and np.median(result["cosine"][:256]) < 0.3


def test_audit_with_model_adds_columns(vocab: Vocab, tmp_path: Path) -> None:
    rows = vocab.vocab_size + 6
    unused = [vocab.vocab_size - 1, *range(vocab.vocab_size, rows)]
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"lm_head.weight": np.zeros((rows, D), np.float16), "wte": embeddings(rows, unused)})
    report = audit(vocab, AuditConfig(use_classifier=False), model=path).to_dict()
    toks = {t["id"]: t for t in report["tokens"]}
    assert {i for i, t in toks.items() if "undertrained" in t["categories"]} == set(PLANTED)
    t = toks[300]
    assert t["undertrained_score"] > 0.9 and t["score"] == t["scores"]["undertrained"]
    assert t["unused_cosine"] > 0.9 and t["embedding_norm"] > 0
    assert report["undertrained"]["tensor"] == "wte" and report["undertrained"]["flagged"] == 3
    assert report["summary"]["by_category"]["undertrained"] == 3


def test_float16_and_bfloat16_read_alike(vocab: Vocab, tmp_path: Path) -> None:
    rows = vocab.vocab_size + 6
    unused = [vocab.vocab_size - 1, *range(vocab.vocab_size, rows)]
    e = embeddings(rows, unused).astype(np.float32)
    write_safetensors(tmp_path / "f16.safetensors", {"embed": e.astype(np.float16)})
    # bfloat16 by hand: the upper 16 bits of each float32
    bf16 = (e.view(np.uint32) >> 16).astype("<u2").tobytes()
    head = json.dumps({"embed": {"dtype": "BF16", "shape": [rows, D], "data_offsets": [0, len(bf16)]}}).encode()
    (tmp_path / "bf16.safetensors").write_bytes(struct.pack("<Q", len(head)) + head + bf16)
    for name in ("f16", "bf16"):
        assert set(undertrained(tmp_path / f"{name}.safetensors", vocab)["flagged"]) == set(PLANTED), name


def test_without_known_unused_rows_falls_back_to_norms(tmp_path: Path) -> None:
    vocab = load_vocab(write_hf_tokenizer(tmp_path / "tokenizer.json", EXTRA))  # <|endoftext|> is not "unused"
    rng = np.random.default_rng(1)
    e = rng.standard_normal((vocab.vocab_size, D))
    e[[10, 20]] *= 0.01  # rows weight decay shrank because they never had a gradient
    write_safetensors(tmp_path / "m.safetensors", {"transformer.wte.weight": e})
    result = undertrained(tmp_path / "m.safetensors", vocab)
    assert result["method"] == "norm" and set(result["flagged"]) == {10, 20}
    assert any("no known-unused tokens" in n for n in result["notes"])
    with_ids = undertrained(tmp_path / "m.safetensors", vocab, extra_unused=[10, 20])
    assert with_ids["method"] == "cosine_to_unused" and with_ids["reference_ids"] == [10, 20]


def test_embedding_lookup_and_errors(vocab: Vocab, tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    write_safetensors(path, {"layers.0.w": np.zeros((4, 4), np.float32), "tok_embeddings.weight": np.ones((400, 8))})
    info, matrix = find_embedding(path, vocab.vocab_size)
    assert info.name == "tok_embeddings.weight" and matrix.shape == (400, 8)
    with pytest.raises(CheckpointError, match=r"no tensor 'nope'; tensors are \[layers.0.w \[4, 4\]"):
        find_embedding(path, vocab.vocab_size, "nope")
    with pytest.raises(CheckpointError, match="fewer than the tokenizer's 1000 ids"):
        find_embedding(path, 1000)
    write_safetensors(tmp_path / "none.safetensors", {"layers.0.w": np.zeros((4, 4), np.float32)})
    with pytest.raises(CheckpointError, match="pass --embedding"):
        find_embedding(tmp_path / "none.safetensors", 4)
    data = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        read_safetensors_header(tmp_path / "cut.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(CheckpointError, match="not JSON"):
        read_safetensors_header(tmp_path / "junk.safetensors")
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        read_safetensors_header(tmp_path / "missing.safetensors")
