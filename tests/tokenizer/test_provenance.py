"""Corpus provenance: counts match a plain encode, top documents and domains point at the spam, never-seen tokens."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from curation.io import InputError
from tests.tokenizer.conftest import write_parquet
from tokenizer.audit import AuditConfig, audit, build_encoder
from tokenizer.provenance import corpus_provenance, domain_of
from tokenizer.vocab import load_vocab


def test_domain_of() -> None:
    assert domain_of("https://www.Example.com/a?b") == "example.com"
    assert domain_of("news.example.cn/path") == "news.example.cn"
    assert domain_of(None) is None and domain_of("") is None and domain_of("http://[bad") is None


def test_counts_match_a_plain_encode_in_small_batches(small_corpus: dict[str, Path]) -> None:
    vocab = load_vocab(small_corpus["tokenizer"])
    encoder = build_encoder(vocab, for_corpus=True)
    texts = pq.read_table(small_corpus["raw"], columns=["text"]).column("text").to_pylist()
    expected = Counter(i for ids in encoder.encode_batch(texts) for i in ids)
    flagged = [vocab.by_bytes()[" 天天".encode()]] if " 天天".encode() in vocab.by_bytes() else [300]
    prov = corpus_provenance([small_corpus["raw"]], encoder.encode_batch, vocab.vocab_size, flagged, batch_rows=7)
    assert prov["documents"] == len(texts) and prov["tokens"] == sum(expected.values())
    assert {i: int(n) for i, n in enumerate(prov["counts"]) if n} == dict(expected)
    src = prov["sources"][flagged[0]]
    assert src["count"] == expected[flagged[0]]
    assert len(src["top_documents"]) <= 5 and src["top_documents"] == sorted(
        src["top_documents"], key=lambda d: -d["count"]
    )


def test_audit_with_corpus_names_spam_documents_and_domains(small_corpus: dict[str, Path]) -> None:
    vocab = load_vocab(small_corpus["tokenizer"])
    report = audit(vocab, AuditConfig(top_documents=3), corpus=[small_corpus["raw"]]).to_dict()
    prov = report["provenance"]
    assert prov["documents"] == 500 and prov["files"] == [str(small_corpus["raw"])]
    content = [t for t in report["tokens"] if {"gambling", "adult"} & set(t["categories"])]
    assert len(content) >= 5
    seen = [t for t in content if t["corpus_count"] > 0]
    assert seen, "tokens learnt from the corpus occur in it"
    for t in seen:
        assert 1 <= len(t["top_documents"]) <= 3
        assert t["corpus_documents"] >= len(t["top_documents"])
        assert sum(d["count"] for d in t["top_documents"]) <= t["corpus_count"]
    docs = [d["id"] for t in seen for d in t["top_documents"]]
    assert sum(d.startswith(("gambling-", "adult-")) for d in docs) > 0.8 * len(docs)
    domains = {d["domain"] for t in seen for d in t["top_domains"]}
    assert domains and domains <= {f"site{i}.example.net" for i in range(5)} | {"news.example.cn"}
    assert "www.site0.example.net" not in domains  # www. is dropped


def test_flagged_tokens_never_seen_in_a_clean_corpus(small_corpus: dict[str, Path]) -> None:
    vocab = load_vocab(small_corpus["tokenizer"])
    report = audit(vocab, AuditConfig(categories=("gambling", "adult")), corpus=small_corpus["news"]).to_dict()
    prov = report["provenance"]
    flagged = {t["id"] for t in report["tokens"]}
    never = set(prov["flagged_never_seen"])
    assert never and never <= flagged
    assert prov["flagged_seen"] + len(never) == len(flagged)
    assert 0 < prov["never_seen"] < prov["ordinary_tokens"]
    assert all(t["corpus_count"] == 0 for t in report["tokens"] if t["id"] in never)


def test_corpus_without_url_or_id_columns(small_corpus: dict[str, Path], tmp_path: Path) -> None:
    rows = [{"body": "天天中彩票 百家乐 人妻"}, {"body": "北京今天召开会议"}]
    path = write_parquet(tmp_path / "plain.parquet", rows)
    vocab = load_vocab(small_corpus["tokenizer"])
    enc = build_encoder(vocab, for_corpus=True)
    ids = sorted(set(enc.encode_batch([rows[0]["body"]])[0]))
    prov = corpus_provenance([path], enc.encode_batch, vocab.vocab_size, ids, text_column="body")
    src = prov["sources"][ids[0]]
    assert src["top_documents"][0]["id"] == "plain.parquet:0" and src["top_domains"] == []
    assert int(np.asarray(prov["counts"]).sum()) == prov["tokens"]


def test_bad_corpus_inputs(small_corpus: dict[str, Path], tmp_path: Path) -> None:
    vocab = load_vocab(small_corpus["tokenizer"])
    enc = build_encoder(vocab, for_corpus=True)
    with pytest.raises(InputError, match=r"no column `text` in .*plain\.parquet; columns are \[body\]"):
        corpus_provenance([write_parquet(tmp_path / "plain.parquet", [{"body": "x"}])], enc.encode_batch, 2000, [])
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        corpus_provenance([bad], enc.encode_batch, 2000, [])
    with pytest.raises(InputError, match="no such file"):
        corpus_provenance([tmp_path / "missing.parquet"], enc.encode_batch, 2000, [])
