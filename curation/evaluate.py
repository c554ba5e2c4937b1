"""The labelled evaluation set and the metrics of content filtering: precision, recall and F1 per category,
the confusion table, and the false-positive rate on clean text by source.

`evaluate` takes any texts -> labels callable, so the same numbers describe the classifier alone
(`classifier_predict`) or the whole filter chain. The set is the held-out side of `curation.classifier.held_out`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from curation.classifier import (
    CATEGORIES,
    LABELS,
    ContentClassifier,
    labelled_set,
    read_labelled,
)
from curation.filters.classifier import ClassifierFilter, ClassifierFilterConfig
from curation.io import sha256_file

if TYPE_CHECKING:
    from curation.filters import FilterConfig

log = logging.getLogger(__name__)

EVAL_SEED = 4242  # differs from classifier.TRAIN_SEED: spam documents are drawn afresh, not reused
# Clean sources outnumber spam, as on the web; news is the largest so its false-positive rate is measured finely.
DEFAULT_EVAL_SIZES = {"news": 2000, "reviews": 1500, "english": 140, "gambling": 500, "adult": 500, "spam": 500}

Predict = Callable[[list[str]], list[str]]
ANY = "any"  # the row of "not clean" against clean, whichever category was predicted


def build_eval_set(out: Path, seed: int = EVAL_SEED, sizes: dict[str, int] | None = None) -> dict:
    """Write the labelled evaluation set (JSONL: text, label, source) from the held-out side of every source.

    Clean: People's Daily paragraphs, product reviews and CPython-doc paragraphs whose text hash falls in the
    held-out share (`curation.classifier.held_out`), which training never reads. Spam: `spam_documents` drawn with
    `seed`, also kept only on the held-out side, so no text of the evaluation set is in a default training set.
    """
    records = labelled_set(out, seed, DEFAULT_EVAL_SIZES if sizes is None else sizes, held_out_side=True)
    sha = sha256_file(out)
    counts = dict(sorted(Counter(f"{r.label}/{r.source}" for r in records).items()))
    return {"path": str(out), "sha256": sha, "records": len(records), "counts": counts, "seed": seed}


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _prf(tp: int, predicted: int, support: int) -> dict:
    p, r = _ratio(tp, predicted), _ratio(tp, support)
    f1 = None if p is None or r is None else (2 * p * r / (p + r) if p + r else 0.0)
    return {"support": support, "predicted": predicted, "true_positives": tp, "precision": p, "recall": r, "f1": f1}


def evaluate(labelled_jsonl: Path, predict: Predict, batch_docs: int = 2048) -> dict:
    """Score predict (texts -> one label of LABELS each) against a labelled JSONL file.

    Precision/recall/F1 are None where undefined (nothing predicted, or no support).
    """
    records = list(read_labelled(labelled_jsonl))
    predicted: list[str] = []
    for i in range(0, len(records), batch_docs):
        batch = [r.text for r in records[i : i + batch_docs]]
        labels = list(predict(batch))
        if len(labels) != len(batch):
            raise ValueError(f"predict returned {len(labels)} labels for {len(batch)} texts")
        bad = sorted({lab for lab in labels if lab not in LABELS})
        if bad:
            raise ValueError(f"predict returned unknown label(s) {bad}; labels must be one of {LABELS}")
        predicted += labels

    confusion = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for r, p in zip(records, predicted, strict=True):
        confusion[r.label][p] += 1
    per_category = {}
    for cat in CATEGORIES:
        support = sum(confusion[cat].values())
        n_pred = sum(confusion[g][cat] for g in LABELS)
        per_category[cat] = _prf(confusion[cat][cat], n_pred, support)
    support = sum(sum(confusion[g].values()) for g in CATEGORIES)
    n_pred = sum(confusion[g][p] for g in LABELS for p in CATEGORIES)
    tp = sum(confusion[g][p] for g in CATEGORIES for p in CATEGORIES)  # caught, even if under another category
    per_category[ANY] = _prf(tp, n_pred, support)

    clean_total = sum(confusion["clean"].values())
    clean_fp = clean_total - confusion["clean"]["clean"]
    by_source: dict[str, dict] = {}
    for r, p in zip(records, predicted, strict=True):
        if r.label == "clean" and r.source is not None:
            s = by_source.setdefault(r.source, {"docs": 0, "false_positives": 0})
            s["docs"] += 1
            s["false_positives"] += p != "clean"
    for s in by_source.values():
        s["rate"] = _ratio(s["false_positives"], s["docs"])
    return {
        "path": str(labelled_jsonl),
        "records": len(records),
        "accuracy": _ratio(sum(confusion[g][g] for g in LABELS), len(records)),
        "per_category": per_category,
        "confusion": confusion,
        "clean_false_positives": {
            "docs": clean_total,
            "false_positives": clean_fp,
            "rate": _ratio(clean_fp, clean_total),
        },
        "clean_false_positives_by_source": dict(sorted(by_source.items())),
    }


def classifier_predict(
    model: ContentClassifier | Path | str | None = None, config: ClassifierFilterConfig | None = None
) -> Predict:
    """texts -> labels through the classifier filter's thresholds (config), with model or config's model path.

    A document is labelled with the category the filter drops it for, else "clean".
    """
    config = ClassifierFilterConfig() if config is None else config
    if isinstance(model, str | Path):
        model = ContentClassifier.load(model)
    flt = ClassifierFilter(config, model=model)

    def predict(texts: list[str]) -> list[str]:
        return [
            "clean" if d is None else d.reason.removesuffix("_classifier")
            for d in flt.judge(texts, [None] * len(texts))
        ]

    return predict


def evaluate_classifier(
    labelled_jsonl: Path,
    model: ContentClassifier | Path | str | None = None,
    config: ClassifierFilterConfig | None = None,
) -> dict:
    """evaluate() of the classifier filter alone."""
    return evaluate(labelled_jsonl, classifier_predict(model, config))


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:.2f}%" if pct else f"{x:.3f}"


def render_eval_table(result: dict, title: str = "Content filtering on the evaluation set") -> Table:
    """Per-category precision/recall/F1, then the false-positive rate on clean text, overall and by source."""
    t = Table(title=title)
    for col in ("", "support", "predicted", "precision", "recall", "F1"):
        t.add_column(col, justify="left" if not col else "right")
    for cat, m in result["per_category"].items():
        name = "any category" if cat == ANY else cat
        t.add_row(name, str(m["support"]), str(m["predicted"]), _fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"]))
    t.add_section()
    t.add_row("[b]clean dropped[/b]", "docs", "dropped", "rate", "", "")
    rows = [("all clean", result["clean_false_positives"])]
    rows += [(f"clean / {s}", v) for s, v in result["clean_false_positives_by_source"].items()]
    for name, v in rows:
        t.add_row(name, str(v["docs"]), str(v["false_positives"]), _fmt(v["rate"], pct=True), "", "")
    return t


def render_confusion_table(result: dict, title: str = "Gold (rows) x predicted (columns)") -> Table:
    """The confusion table, clean included."""
    t = Table(title=title)
    t.add_column("gold \\ predicted")
    for lab in LABELS:
        t.add_column(lab, justify="right")
    for gold in LABELS:
        t.add_row(gold, *(str(result["confusion"][gold][p]) for p in LABELS))
    return t


def content_label(reason: str | None) -> str:
    """The category a drop reason stands for (`gambling_lexicon`, `url_adult` ...), or "clean" for any other."""
    if reason is None:
        return "clean"
    for cat in CATEGORIES:
        if reason.startswith(f"{cat}_") or reason == f"url_{cat}":
            return cat
    return "clean"


def evaluate_chain(labelled_jsonl: Path, config: FilterConfig | None = None) -> dict:
    """evaluate() of the whole curate filter chain, on normalised text as curate sees it.

    A document dropped for a content reason (lexicon, classifier, URL) is labelled with that category; one
    dropped for another reason (language, quality) counts as "clean" in the category metrics and is reported
    under `dropped_by_other_filters` by gold label, so clean text lost to any filter is still visible.
    """
    from curation.filters import FilterConfig, build_filters
    from curation.normalize import NormalizeConfig, normalize
    from curation.pipeline import judge_texts

    chain = build_filters(config or FilterConfig())
    ncfg = NormalizeConfig()
    reasons: list[str | None] = []

    def predict(texts: list[str]) -> list[str]:
        decisions = judge_texts(chain, [normalize(t, ncfg) for t in texts], [None] * len(texts))
        batch = [d.reason if d is not None else None for d in decisions]
        reasons.extend(batch)
        return [content_label(r) for r in batch]

    result = evaluate(labelled_jsonl, predict)
    other: dict[str, Counter[str]] = {}
    for rec, reason in zip(read_labelled(labelled_jsonl), reasons, strict=True):
        if reason is not None and content_label(reason) == "clean":
            other.setdefault(rec.label, Counter())[reason] += 1
    result["filters"] = [f.name for f in chain]
    result["dropped_by_other_filters"] = {g: dict(c.most_common()) for g, c in sorted(other.items())}
    return result
