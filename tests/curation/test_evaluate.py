"""Evaluation: metrics on a hand-made set with known answers, the tables, and the evaluation set's split."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from curation.classifier import build_training_set, held_out, read_labelled
from curation.evaluate import build_eval_set, evaluate, render_confusion_table, render_eval_table
from curation.spam_corpus import CATEGORIES, _pools

# text -> (gold, predicted, source); the predictor below answers from this table.
KNOWN = {
    "n1": ("clean", "clean", "news"),
    "n2": ("clean", "clean", "news"),
    "n3": ("clean", "clean", "news"),
    "n4": ("clean", "spam", "news"),
    "r1": ("clean", "clean", "reviews"),
    "r2": ("clean", "spam", "reviews"),
    "e1": ("clean", "clean", "english"),
    "g1": ("gambling", "gambling", None),
    "g2": ("gambling", "gambling", None),
    "g3": ("gambling", "spam", None),
    "g4": ("gambling", "clean", None),
    "a1": ("adult", "adult", None),
    "a2": ("adult", "gambling", None),
    "s1": ("spam", "spam", None),
    "s2": ("spam", "clean", None),
}


def write_known(path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for text, (gold, _, source) in KNOWN.items():
            rec = {"text": text, "label": gold} | ({"source": source} if source else {})
            f.write(json.dumps(rec) + "\n")
    return path


def known_predict(texts: list[str]) -> list[str]:
    return [KNOWN[t][1] for t in texts]


def test_metrics_known_answer(tmp_path: Path) -> None:
    r = evaluate(write_known(tmp_path / "known.jsonl"), known_predict, batch_docs=4)
    pc = r["per_category"]
    # gambling: gold 4, predicted 3 (g1, g2, a2), 2 right
    assert pc["gambling"] == pytest.approx(
        {"support": 4, "predicted": 3, "true_positives": 2, "precision": 2 / 3, "recall": 0.5, "f1": 4 / 7}
    )
    # spam: gold 2, predicted 4 (n4, r2, g3, s1), 1 right
    assert (pc["spam"]["precision"], pc["spam"]["recall"]) == pytest.approx((0.25, 0.5))
    assert pc["adult"]["precision"] == 1.0 and pc["adult"]["recall"] == 0.5
    # any category: 8 unwanted gold, 8 predicted unwanted (2 of them clean), 6 caught
    assert (pc["any"]["support"], pc["any"]["predicted"], pc["any"]["true_positives"]) == (8, 8, 6)
    assert r["confusion"]["gambling"] == {"clean": 1, "gambling": 2, "adult": 0, "spam": 1}
    assert r["confusion"]["clean"] == {"clean": 5, "gambling": 0, "adult": 0, "spam": 2}
    assert r["clean_false_positives"] == {"docs": 7, "false_positives": 2, "rate": 2 / 7}
    by = r["clean_false_positives_by_source"]
    assert by["news"] == {"docs": 4, "false_positives": 1, "rate": 0.25}
    assert by["reviews"]["rate"] == 0.5 and by["english"]["rate"] == 0.0
    assert r["records"] == 15 and r["accuracy"] == pytest.approx(9 / 15)


def test_undefined_metrics_are_none(tmp_path: Path) -> None:
    path = tmp_path / "clean.jsonl"
    path.write_text('{"text": "a", "label": "clean"}\n{"text": "b", "label": "spam"}\n', encoding="utf-8")
    r = evaluate(path, lambda texts: ["clean"] * len(texts))
    assert r["per_category"]["spam"]["precision"] is None and r["per_category"]["spam"]["recall"] == 0.0
    assert r["per_category"]["adult"]["recall"] is None
    assert r["clean_false_positives_by_source"] == {}


def test_predict_must_answer_with_known_labels(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown label\(s\) \['porn'\]"):
        evaluate(write_known(tmp_path / "k.jsonl"), lambda texts: ["porn"] * len(texts))


def test_tables_render(tmp_path: Path) -> None:
    r = evaluate(write_known(tmp_path / "known.jsonl"), known_predict)
    console = Console(record=True, width=120)
    console.print(render_eval_table(r))
    console.print(render_confusion_table(r))
    out = console.export_text()
    assert "gambling" in out and "0.667" in out and "25.00%" in out and "clean / reviews" in out


def _hashes(path: Path) -> set[str]:
    return {hashlib.sha256(r.text.encode("utf-8")).hexdigest() for r in read_labelled(path)}


def test_eval_set_is_disjoint_from_default_training_set(tmp_path: Path) -> None:
    train = build_training_set(tmp_path / "train.jsonl")
    ev = build_eval_set(tmp_path / "eval.jsonl")
    assert not _hashes(tmp_path / "train.jsonl") & _hashes(tmp_path / "eval.jsonl")
    clean = lambda path: [r.text for r in read_labelled(path) if r.label == "clean"]  # noqa: E731
    assert all(held_out(t) for t in clean(tmp_path / "eval.jsonl"))  # clean text: a hash split
    assert not any(held_out(t) for t in clean(tmp_path / "train.jsonl"))
    # spam: a template split; no literal piece of a training-side sentence is in an evaluation document
    eval_spam = "\n".join(r.text for r in read_labelled(tmp_path / "eval.jsonl") if r.label != "clean")
    for side, want in (("train", False), ("eval", True)):
        pieces = {
            piece
            for cat in CATEGORIES
            for template in _pools(cat, side).promo_zh
            for piece in re.split(r"\{\w+\}", template)
            if len(piece) >= 8
        }
        assert pieces and any(p in eval_spam for p in pieces) == want, side
    sources = {k.split("/")[1] for k in ev["counts"]}
    assert {"news", "reviews", "english", "spam_corpus"} <= sources
    assert train["records"] > ev["records"] > 1000
    # reproducible: the same seed writes the same file
    assert build_eval_set(tmp_path / "eval2.jsonl")["sha256"] == ev["sha256"]


def test_evaluate_classifier_alone(tmp_path: Path) -> None:
    from curation.classifier import train_classifier
    from curation.evaluate import evaluate_classifier
    from tests.curation.test_classifier import TINY, tiny_records, write_jsonl

    write_jsonl(tmp_path / "train.jsonl", tiny_records(seed=0))
    test = tiny_records(seed=1, per_label=10)  # a smoke test: same clean paragraphs, new spam mixtures
    write_jsonl(tmp_path / "test.jsonl", [r | {"source": "mixed"} for r in test])
    train_classifier(tmp_path / "train.jsonl", tmp_path / "m.bin", TINY)
    r = evaluate_classifier(tmp_path / "test.jsonl", tmp_path / "m.bin")
    assert r["records"] == len(test)
    assert r["per_category"]["any"]["recall"] > 0.8
    assert r["clean_false_positives_by_source"]["mixed"]["rate"] < 0.2
