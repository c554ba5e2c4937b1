"""Fixtures for the audit tests: o200k_base audited once, hand-made hostile vocabularies, a small spam corpus."""

from __future__ import annotations

import argparse
import base64
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from tokenizer.vocab import BYTE_DECODER, Vocab, load_vocab

# Token strings that must never reach a terminal, a Markdown renderer or a browser as they are.
HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "\x1b[31mRED",
    "abc\u202eevil",
    "[link=https://evil.example]click[/link]",
    "a|b`c`|d",
)
# Content tokens the lexicon knows: ' 天天中彩票' (gambling), '人妻' (adult).
CONTENT = (" 天天中彩票", "人妻")
BYTE_ENCODER = {b: c for c, b in BYTE_DECODER.items()}


def bytelevel(s: str) -> str:
    """A string as GPT-2 byte-level vocab tokens spell it (Ġ for space)."""
    return "".join(BYTE_ENCODER[b] for b in s.encode("utf-8"))


def write_hf_tokenizer(path: Path, extra: tuple[str, ...], specials: tuple[str, ...] = ("<|endoftext|>",)) -> Path:
    """A byte-level BPE tokenizer.json: the 256 bytes, then `extra` as whole tokens (no merges make them)."""
    vocab = {BYTE_ENCODER[b]: b for b in range(256)}
    for s in extra:
        vocab[bytelevel(s)] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(specials))
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return path


def write_tiktoken(path: Path, extra: tuple[str, ...]) -> Path:
    """A .tiktoken file: the 256 bytes (ranks 0-255), then `extra`."""
    raws = [bytes([b]) for b in range(256)] + [s.encode("utf-8") for s in extra]
    lines = [f"{base64.b64encode(r).decode()} {i}" for i, r in enumerate(raws)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


@pytest.fixture(scope="session")
def o200k() -> Vocab:
    return load_vocab("o200k_base")


@pytest.fixture(scope="session")
def o200k_report(o200k: Vocab) -> dict[str, Any]:
    from tokenizer.audit import audit

    return audit(o200k).to_dict()


@pytest.fixture(scope="session")
def hostile_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tokenizer.json with hostile and content tokens, in a folder whose name is itself markup."""
    return write_hf_tokenizer(tmp_path_factory.mktemp("tok") / "<b>x" / "tokenizer.json", HOSTILE + CONTENT)


@pytest.fixture(scope="session")
def hostile_tiktoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiktoken(tmp_path_factory.mktemp("tik") / "hostile.tiktoken", HOSTILE + CONTENT)


def spam_corpus_docs(n_spam: int, n_clean: int, seed: int = 7) -> list[dict[str, str]]:
    """Gambling and adult documents from spam_corpus on spam domains, People's Daily paragraphs on a news domain,
    shuffled. Spam domains are neutral words, so the curate stage must judge the text, not the URL."""
    from curation.classifier import people_daily_paragraphs
    from curation.spam_corpus import spam_documents

    docs = []
    for cat in ("gambling", "adult"):
        for i, text in enumerate(spam_documents(cat, n_spam, seed)):
            docs.append({"id": f"{cat}-{i}", "text": text, "url": f"https://www.site{i % 5}.example.net/p/{i}"})
    rng = random.Random(seed)
    for i, text in enumerate(rng.sample(people_daily_paragraphs(), n_clean)):
        docs.append({"id": f"news-{i}", "text": text, "url": f"https://news.example.cn/{i}"})
    rng.shuffle(docs)
    return docs


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """raw.parquet (300 spam + 200 news documents), news.parquet (the news only) and a 2000-token BPE trained on
    raw.parquet (tokenizer.json)."""
    from tokenizer.bpe import BpeConfig, train_bpe

    root = tmp_path_factory.mktemp("corpus")
    docs = spam_corpus_docs(150, 200)
    raw = write_parquet(root / "raw.parquet", docs)
    news = write_parquet(root / "news.parquet", [d for d in docs if d["id"].startswith("news-")])
    train_bpe([raw], root / "tok", BpeConfig(vocab_size=2000, max_token_length=16, roundtrip_docs=20))
    return {"raw": raw, "news": news, "tokenizer": root / "tok" / "tokenizer.json"}


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def run_sieve(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `sieve ARGV` through the real entry point."""
    from flows import cli

    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err
