"""Packing: (x, y) shifted by one, fixed shapes, document ids, seeded order, exact resume, disjoint held-out split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curation.config import ConfigError
from curation.io import InputError
from tests.train.test_shards import DOCS, write_shard
from tokenizer.bpe import BpeConfig, train_bpe
from train.data import PackedDataset, PackedLoader, TokenStream
from train.shards import TokenizeConfig, open_token_shards, shard_tokens, tokenize_shards

T, B = 32, 4


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A token folder of several shards and chunks, from the 60 documents of test_shards."""
    root = tmp_path_factory.mktemp("data")
    write_shard(root / "kept" / "part-00000.parquet", DOCS)
    train_bpe([root / "kept"], root / "tok", BpeConfig(vocab_size=300))
    tokenize_shards([root / "kept"], root / "tok", root / "tokens", TokenizeConfig(shard_tokens=1500, batch_rows=7))
    return root / "tokens"


def all_tokens(tokdir: Path) -> np.ndarray:
    return np.concatenate([shard_tokens(t)[0] for t in open_token_shards(tokdir)]).astype(np.int64)


def test_stream_is_the_concatenated_shards(tokens: Path) -> None:
    s = TokenStream(tokens)
    flat = all_tokens(tokens)
    assert s.tokens == len(flat) and s.documents == len(DOCS) and len(s.chunks) > 3
    tok, doc = s.window(0, s.tokens)
    assert np.array_equal(tok, flat)
    assert doc[0] == 0 and doc[-1] == len(DOCS) - 1 and np.all(np.diff(doc) >= 0)
    a, b = 1234, 2345  # a window across chunk boundaries
    assert np.array_equal(s.window(a, b)[0], flat[a:b]) and np.array_equal(s.window(a, b)[1], doc[a:b])


def test_sequences_shift_by_one_and_doc_ids_change_after_eos(tokens: Path) -> None:
    ds = PackedDataset(tokens, T, eval_fraction=0.1)
    eos = ds.stream.eos_id
    flat = all_tokens(tokens)
    loader = PackedLoader(ds, B, seed=1)
    for _ in range(loader.batches_per_epoch + 2):  # into the second epoch
        epoch, i = (loader.epoch, loader.step * B) if loader.step < loader.batches_per_epoch else (loader.epoch + 1, 0)
        seqs = loader.order(epoch)[i : i + B]
        batch = loader.next_batch()
        x, y, d = batch.astuple()
        assert x.shape == y.shape == d.shape == (B, T) and x.dtype == y.dtype == d.dtype == np.int64
        assert np.array_equal(x[:, 1:], y[:, :-1])
        steps = np.diff(d, axis=1)
        assert np.array_equal(steps, (x[:, :-1] == eos).astype(np.int64))  # +1 exactly after EOS, else 0
        for row, k in enumerate(seqs):  # row = sequence k: the stream window [k*T, k*T + T + 1)
            assert np.array_equal(x[row], flat[k * T : k * T + T]) and np.array_equal(
                y[row], flat[k * T + 1 : k * T + T + 1]
            )
    assert loader.epoch == 1
    xt, yt, dt = batch.to_torch()
    assert tuple(xt.shape) == (B, T) and str(xt.dtype) == "torch.int64" and np.array_equal(yt.numpy(), y)


def test_epoch_order_is_seeded(tokens: Path) -> None:
    ds = PackedDataset(tokens, T, eval_fraction=0.1)
    one = [b.x for b in PackedLoader(ds, B, seed=7, epochs=1)]
    two = [b.x for b in PackedLoader(ds, B, seed=7, epochs=1)]
    other = [b.x for b in PackedLoader(ds, B, seed=8, epochs=1)]
    assert len(one) == len(ds) // B and all(np.array_equal(a, b) for a, b in zip(one, two, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(one, other, strict=True))
    loader = PackedLoader(ds, B, seed=7)
    assert not np.array_equal(loader.order(0), loader.order(1))  # a new shuffle every epoch
    assert sorted(loader.order(1)) == list(range(len(ds)))


@pytest.mark.parametrize("k", [0, 3, 11])  # 11 crosses into the second epoch
def test_resume_gives_the_identical_next_batch(tokens: Path, tmp_path: Path, k: int) -> None:
    ds = PackedDataset(tokens, T, eval_fraction=0.1)
    run = PackedLoader(ds, B, seed=3)
    assert k < 2 * run.batches_per_epoch
    for _ in range(k):
        run.next_batch()
    (tmp_path / "state.json").write_text(json.dumps(run.state_dict()))
    expected = [run.next_batch() for _ in range(3)]

    resumed = PackedLoader(PackedDataset(tokens, T, eval_fraction=0.1), B, seed=3)
    resumed.load_state_dict(json.loads((tmp_path / "state.json").read_text()))
    for want in expected:
        got = resumed.next_batch()
        assert all(np.array_equal(a, b) for a, b in zip(got.astuple(), want.astuple(), strict=True))


def test_state_from_other_settings_is_refused(tokens: Path) -> None:
    ds = PackedDataset(tokens, T, eval_fraction=0.1)
    state = PackedLoader(ds, B, seed=3).state_dict()
    with pytest.raises(ConfigError, match="seed: saved 3, now 4"):
        PackedLoader(ds, B, seed=4).load_state_dict(state)
    with pytest.raises(ConfigError, match="batch_size"):
        PackedLoader(ds, B + 1, seed=3).load_state_dict(state)


def test_held_out_split_is_disjoint_and_at_a_document_boundary(tokens: Path) -> None:
    train = PackedDataset(tokens, T, "train", eval_fraction=0.2)
    held = PackedDataset(train.stream, T, "eval", eval_fraction=0.2)
    s = train.stream
    assert train.start == 0 and train.stop == held.start and held.stop == s.tokens
    assert s.window(held.start - 1, held.start)[0][0] == s.eos_id  # the split falls right after an EOS
    assert 0.15 < (held.stop - held.start) / s.tokens < 0.25
    train_docs = {int(d) for k in range(len(train)) for d in train[k][2]}
    held_docs = {int(d) for k in range(len(held)) for d in held[k][2]}
    assert train_docs and held_docs and not train_docs & held_docs
    last_train_y_end = train.start + len(train) * T + 1  # tokens any train (x, y) touches end here
    assert last_train_y_end <= held.start
    batches = list(PackedLoader(held, 2, shuffle=False, epochs=1))
    assert len(batches) == len(held) // 2 and np.array_equal(batches[0].x[0], held[0][0])


def test_a_cut_inside_the_last_document_holds_that_document_out(tokens: Path) -> None:
    s = TokenStream(tokens)
    last = s.doc_start(s.documents - 1)
    fraction = (s.tokens - last - 1) / s.tokens / 2  # the cut falls inside the last document
    held = PackedDataset(s, 4, "eval", eval_fraction=fraction)
    train = PackedDataset(s, 4, "train", eval_fraction=fraction)
    assert held.start == train.stop == last and held.stop == s.tokens and held.first_doc == s.documents - 1


def test_a_last_document_of_most_tokens_is_not_held_out(tmp_path: Path) -> None:
    write_shard(tmp_path / "kept" / "part-00000.parquet", DOCS[:10] + [" ".join(DOCS) * 3])
    train_bpe([tmp_path / "kept"], tmp_path / "tok", BpeConfig(vocab_size=300))
    tokenize_shards([tmp_path / "kept"], tmp_path / "tok", tmp_path / "tokens")
    with pytest.raises(InputError, match=r"the last document of .* holds 9\d% of its tokens.*eval_fraction = 0"):
        PackedDataset(tmp_path / "tokens", T, "eval", eval_fraction=0.01)
    assert len(PackedDataset(tmp_path / "tokens", T, "train", eval_fraction=0)) > 0


def test_errors_name_the_fix(tokens: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="fewer than one sequence"):
        PackedDataset(tokens, 10**6)
    with pytest.raises(InputError, match="more than the"):
        PackedLoader(PackedDataset(tokens, T), 10**6)
    with pytest.raises(ConfigError, match="eval_fraction"):
        PackedDataset(tokens, T, eval_fraction=1.0)
    with pytest.raises(InputError, match="no manifest.json"):
        TokenStream(tmp_path)
