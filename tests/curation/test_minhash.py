"""MinHash signatures: the vectorised ones equal datasketch's; LSH finds what it should; union-find is right."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash

from curation.dedup.minhash import (
    DedupConfig,
    _UnitHashes,
    connected_components,
    minhash_signatures,
    shingle_hashes,
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
