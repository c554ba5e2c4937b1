"""MinHash signatures: the vectorised ones equal datasketch's; LSH finds what it should and verification drops band
collisions of dissimilar documents; union-find is right."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketch import MinHash

from curation.config import ConfigError
from curation.dedup.minhash import (
    Candidates,
    DedupConfig,
    _UnitHashes,
    candidate_edges,
    cluster_drops,
    connected_components,
    minhash_signatures,
    shingle_hashes,
    signature_agreement,
    signature_batch,
)
from curation.text import shingles
from tests.conftest import EN_A, EN_A_NEAR, ZH_A, ZH_A_NEAR, ZH_B


def test_signatures_equal_datasketch_minhash_of_the_same_shingle_hashes() -> None:
    cfg = DedupConfig()
    uh = _UnitHashes()
    texts = [ZH_A, EN_A, "!!!", "短文", ZH_B]
    keep, sigs = minhash_signatures(texts, cfg, uh)
    assert keep == [0, 1, 3, 4]  # no units, no signature
    for row, i in enumerate(keep):
        m = MinHash(num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=int)
        m.update_batch(shingle_hashes(texts[i], cfg.ngram_units, uh).tolist())
        assert np.array_equal(m.hashvalues, sigs[row])


def test_shingle_hashes_count_the_shingles() -> None:
    uh = _UnitHashes()
    assert len(set(shingle_hashes(EN_A, 5, uh).tolist())) == len(shingles(EN_A, 5))
    assert len(shingle_hashes("一二三", 5, uh)) == 1


def test_estimated_jaccard_tracks_the_true_one() -> None:
    cfg = DedupConfig()
    _, sigs = minhash_signatures([ZH_A, ZH_A_NEAR, EN_A, EN_A_NEAR, ZH_B], cfg, _UnitHashes())
    est = lambda i, j: float(np.mean(sigs[i] == sigs[j]))  # noqa: E731
    assert est(0, 1) > 0.75 and est(2, 3) > 0.7
    assert est(0, 4) < 0.1 and est(0, 2) < 0.05


def test_connected_components_root_is_the_smallest_member() -> None:
    nodes, roots = connected_components(np.array([5, 1, 9, 3, 7]), np.array([9, 2, 10, 1, 8]))
    assert dict(zip(nodes.tolist(), roots.tolist(), strict=True)) == {1: 1, 2: 1, 3: 1, 5: 5, 9: 5, 10: 5, 7: 7, 8: 7}


def _signature_file(path: Path, sigs: np.ndarray, cfg: DedupConfig) -> Path:
    pq.write_table(pa.Table.from_batches([signature_batch(list(range(len(sigs))), sigs, cfg)]), path)
    return path


def test_band_collisions_of_dissimilar_documents_are_not_duplicates(tmp_path: Path) -> None:
    cfg = DedupConfig()
    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 2**32, size=(6, cfg.num_perm), dtype=np.uint64).astype(np.uint32)
    sigs[1, :8] = sigs[0, :8]  # 0 and 1 share band 0 only: a collision at an estimated J of 8/112
    sigs[3, :90] = sigs[2, :90]  # 2 and 3 agree on 90 of 112 rows: a near duplicate
    sigs[5, : cfg.num_perm // 2] = sigs[4, : cfg.num_perm // 2]  # exactly min_jaccard = 0.5: kept
    sig = _signature_file(tmp_path / "sig.parquet", sigs, cfg)
    got = candidate_edges([sig], cfg, tmp_path / "edges.parquet")
    assert got == Candidates(edges=3, verified=2)
    edges = pl.read_parquet(tmp_path / "edges.parquet")
    assert edges.select("root", "doc_idx").rows() == [(2, 3), (4, 5)]
    assert edges["jaccard"].to_list() == pytest.approx([90 / 112, 0.5])
    trusting = dataclasses.replace(cfg, min_jaccard=0.0)
    assert candidate_edges([sig], trusting, tmp_path / "all.parquet") == Candidates(edges=3, verified=3)


def test_signature_agreement_reads_signatures_across_files_and_chunks(tmp_path: Path) -> None:
    cfg = DedupConfig()
    rng = np.random.default_rng(1)
    sigs = rng.integers(0, 2**32, size=(10, cfg.num_perm), dtype=np.uint64).astype(np.uint32)
    sigs[7, :56] = sigs[2, :56]
    first = pa.Table.from_batches([signature_batch(list(range(5)), sigs[:5], cfg)])
    second = pa.Table.from_batches([signature_batch(list(range(5, 10)), sigs[5:], cfg)])
    pq.write_table(first, tmp_path / "a.parquet")
    pq.write_table(second, tmp_path / "b.parquet")
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    a, b = np.array([2, 7, 0, 9]), np.array([7, 2, 0, 1])
    want = [(sigs[i] == sigs[j]).mean() for i, j in zip(a, b, strict=True)]
    assert signature_agreement(files, a, b, chunk_pairs=3).tolist() == pytest.approx(want)
    assert want[:3] == [0.5, 0.5, 1.0]
    with pytest.raises(RuntimeError, match="no signature"):
        signature_agreement(files, np.array([2]), np.array([42]))


def test_config_rejects_a_min_jaccard_outside_0_1() -> None:
    with pytest.raises(ConfigError, match=r"min_jaccard = 1.5 is outside the allowed range \[0.0, 1.0\]"):
        DedupConfig(min_jaccard=1.5)


def test_a_pair_behind_an_unrelated_earliest_bucket_member_is_still_found(tmp_path: Path) -> None:
    cfg = DedupConfig()
    rng = np.random.default_rng(2)
    sigs = rng.integers(0, 2**32, size=(3, cfg.num_perm), dtype=np.uint64).astype(np.uint32)
    sigs[2, 8:] = sigs[1, 8:]  # 1 and 2: near duplicates (agree on 104 of 112 rows) ...
    sigs[2, :8] = sigs[1, :8] = sigs[0, :8]  # ... sharing band 0 with document 0, an unrelated collision
    for b in range(1, cfg.bands):  # and no other band: scramble one row of each other band of document 2
        sigs[2, b * cfg.rows_per_band] ^= 1
    sig = _signature_file(tmp_path / "sig.parquet", sigs, cfg)
    got = candidate_edges([sig], cfg, tmp_path / "edges.parquet")
    edges = pl.read_parquet(tmp_path / "edges.parquet")
    assert edges.select("root", "doc_idx").rows() == [(1, 2)] and got == Candidates(edges=3, verified=1)


def test_drop_scores_come_from_edges_and_chain_members_are_measured(tmp_path: Path) -> None:
    cfg = DedupConfig()
    rng = np.random.default_rng(3)
    sigs = np.repeat(rng.integers(0, 2**32, size=(1, cfg.num_perm), dtype=np.uint64).astype(np.uint32), 3, axis=0)
    sigs[1, :40] ^= 1  # 1 agrees with 0 on 72 of 112 rows
    sigs[2, :40] ^= 1
    sigs[2, 40:80] ^= 1  # 2 agrees with 1 on 72 rows, with 0 on 32: a chain 0 - 1 - 2
    sig = _signature_file(tmp_path / "sig.parquet", sigs, cfg)
    docs = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"doc_idx": pa.array([0, 1, 2], pa.int64()), "id": ["a", "b", "c"]}), docs)
    assert candidate_edges([sig], cfg, tmp_path / "edges.parquet") == Candidates(edges=3, verified=2)
    got = cluster_drops(tmp_path / "edges.parquet", [docs], [sig], tmp_path / "d.parquet", tmp_path / "c.parquet")
    assert got == (2, 1)
    drops = pl.read_parquet(tmp_path / "d.parquet")
    assert drops["duplicate_of"].to_list() == ["a", "a"]
    assert drops["score"].to_list() == pytest.approx([72 / 112, 32 / 112])  # the second below min_jaccard: a chain
