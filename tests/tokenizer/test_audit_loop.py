"""Closing the loop: a tokenizer trained on a corpus with spam learns spam tokens; curate the same corpus, train
again on what curate kept, and the audit finds (almost) none."""

from __future__ import annotations

from pathlib import Path

from curation.pipeline import curate
from tests.tokenizer.conftest import spam_corpus_docs, write_parquet
from tokenizer.audit import AuditConfig, audit
from tokenizer.bpe import BpeConfig, train_bpe
from tokenizer.vocab import load_vocab

BPE = BpeConfig(vocab_size=3000, max_token_length=16, roundtrip_docs=100)  # 16 bytes: up to five Chinese characters


def content_flagged(tokenizer_json: Path) -> tuple[dict[str, int], list[str]]:
    report = audit(load_vocab(tokenizer_json), AuditConfig(categories=("gambling", "adult", "spam"))).to_dict()
    return report["summary"]["by_category"], [t["rendered"] for t in report["tokens"]]


def test_curation_removes_spam_tokens_from_a_trained_tokenizer(tmp_path: Path) -> None:
    docs = spam_corpus_docs(300, 2000)  # 600 gambling and adult pages among 2,000 People's Daily paragraphs
    raw = write_parquet(tmp_path / "raw" / "part-00000.parquet", docs)

    train_bpe([raw], tmp_path / "tok-raw", BPE)
    before, before_tokens = content_flagged(tmp_path / "tok-raw" / "tokenizer.json")

    manifest = curate([raw], tmp_path / "curated")  # default config: the same lexicon and classifier judge documents
    dropped_spam = sum(n for reason, n in manifest["rejected"].items() if reason.startswith(("gambling", "adult")))
    assert dropped_spam >= 550
    train_bpe([tmp_path / "curated" / "kept"], tmp_path / "tok-curated", BPE)
    after, after_tokens = content_flagged(tmp_path / "tok-curated" / "tokenizer.json")

    spam_before = before["gambling"] + before["adult"]
    spam_after = after["gambling"] + after["adult"]
    print(f"gambling+adult tokens: {spam_before} before curation, {spam_after} after; {before} -> {after}")
    assert spam_before >= 20, before_tokens
    assert spam_after <= 2, after_tokens
    assert spam_after <= spam_before // 10
