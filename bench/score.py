"""Score a contender's duplicate decisions against the planted pairs.

A planted pair is found when the reported links (document -> the document kept in its place, or any earlier
candidate) put both of its documents in one connected group. A removal is correct when it names its planted partner,
or when the two texts are truly similar (exact shingle Jaccard >= 0.7): the corpus may hold duplicates nobody planted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from curation.text import jaccard

SIMILAR_J = 0.7  # a removal of a pair this similar is correct even if the pair was not planted
THEORY_AT = (0.5, 0.7, 0.8, 0.9)  # Jaccard values at which measured recall is compared with 1 - (1 - J^r)^b
THEORY_HALF_WIDTH = 0.025  # the measured recall "at J" uses planted pairs with true Jaccard within this of J


def detection_probability(j: float, bands: int = 14, rows: int = 8) -> float:
    """Probability that two documents of Jaccard j share at least one of `bands` LSH bands of `rows` rows."""
    return 1.0 - (1.0 - j**rows) ** bands


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _share(found: list[bool]) -> float | None:
    return round(sum(found) / len(found), 4) if found else None


def score(
    plants: list[dict[str, Any]],
    edges: Iterable[tuple[str, str]],
    removals: list[tuple[str, str]],
    texts: Callable[[set[str]], dict[str, str]],
    ngram: int = 5,
) -> dict[str, Any]:
    """Recall by true-Jaccard band, language and edit style, and precision of the removals.

    plants: the planted pairs of the documents the contender saw; texts(ids) returns the texts of those ids.
    """
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    found = [uf.find(p["a"]) == uf.find(p["b"]) for p in plants]

    def recall(pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        sel = [(p, f) for p, f in zip(plants, found, strict=True) if pred(p)]
        theory = sum(detection_probability(p["jaccard"]) for p, _ in sel) / len(sel) if sel else None
        return {
            "pairs": len(sel),
            "found": sum(f for _, f in sel),
            "recall": _share([f for _, f in sel]),
            "theory": None if theory is None else round(theory, 4),  # mean LSH detection probability of these pairs
        }

    planted = {frozenset((p["a"], p["b"])) for p in plants}
    unplanted = [(a, b) for a, b in removals if frozenset((a, b)) not in planted]
    tx = texts({x for pair in unplanted for x in pair}) if unplanted else {}
    uj = [jaccard(tx[a], tx[b], ngram) for a, b in unplanted]
    correct = len(removals) - len(unplanted) + sum(j >= SIMILAR_J for j in uj)
    return {
        "planted_pairs": len(plants),
        "recall_j_ge_0.8": recall(lambda p: p["jaccard"] >= 0.8),
        "recall_j_0.7_0.8": recall(lambda p: 0.7 <= p["jaccard"] < 0.8),
        "found_j_0.6_0.7": recall(lambda p: 0.6 <= p["jaccard"] < 0.7),
        "found_j_lt_0.6": recall(lambda p: p["jaccard"] < 0.6),
        "recall_j_ge_0.8_by_lang": {
            lang: recall(lambda p, lang=lang: p["jaccard"] >= 0.8 and p["lang"] == lang) for lang in ("zh", "en")
        },
        "recall_by_style": {s: recall(lambda p, s=s: p["style"] == s) for s in sorted({p["style"] for p in plants})},
        "recall_at": {
            str(j): {
                **recall(lambda p, j=j: abs(p["jaccard"] - j) <= THEORY_HALF_WIDTH),
                "theory_at_j": round(detection_probability(j), 4),
            }
            for j in THEORY_AT
        },
        "removals": len(removals),
        "removals_planted": len(removals) - len(unplanted),
        "removals_unplanted": len(unplanted),
        "removals_unplanted_similar": sum(j >= SIMILAR_J for j in uj),
        "unplanted_jaccard_max": round(max(uj), 4) if uj else None,
        "precision": round(correct / len(removals), 4) if removals else None,
        "unplanted_examples": sorted(
            ({"a": a, "b": b, "jaccard": round(j, 4)} for (a, b), j in zip(unplanted, uj, strict=True)),
            key=lambda e: -e["jaccard"],
        )[:10],
        "missed_examples": [
            {k: p[k] for k in ("a", "b", "lang", "style", "jaccard")}
            for p, f in sorted(zip(plants, found, strict=True), key=lambda x: -x[0]["jaccard"])
            if not f and p["jaccard"] >= 0.8
        ][:10],
        "missed_j_ge_0.8_by_style": dict(
            Counter(p["style"] for p, f in zip(plants, found, strict=True) if not f and p["jaccard"] >= 0.8)
        ),
    }
