"""Content classifier filter: drops a document when the fastText model's top label is a spam category
and its probability reaches that category's threshold. Reasons: `gambling_classifier`, `adult_classifier`,
`spam_classifier`, with the probability as score. The model is trained by `curation.classifier`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from curation.classifier import CATEGORIES, ContentClassifier, ModelNotFoundError, default_model_path
from curation.config import check_range
from curation.filters.base import Drop, Filter


@dataclasses.dataclass(frozen=True)
class ClassifierFilterConfig:
    """Which model to run and how sure it must be before a document is dropped."""

    enabled: bool = True
    model_path: str | None = None  # None: the default model, curation/data/models/content.bin (build_default_model)
    # Per-category thresholds on the top label's probability. On the held-out evaluation set (curation.evaluate) the
    # clean documents the default model calls spam score 0.57-0.89 and 99% of spam scores >= 0.95: at 0.7, 2 of 3,640
    # clean documents are dropped and 99.9% of spam is caught; at 0.9, none and 99.6%. Synthetic spam is more
    # confident than real spam will be, so the defaults stay at 0.7 rather than chase the last false positive.
    min_probability_gambling: float = 0.7  # as the others; lottery-result news scores ~1.0 at any threshold
    min_probability_adult: float = 0.7  # romance and "for married readers" book reviews sit near the line
    min_probability_spam: float = 0.7  # reviews with prices, delivery and customer service sit near the line
    batch_docs: int = 4096  # documents per fastText call: bounds the memory of one call

    def __post_init__(self) -> None:
        for cat in CATEGORIES:
            check_range(self, f"min_probability_{cat}", 0.0, 1.0)
        check_range(self, "batch_docs", 1, 10_000_000)

    def resolved_model_path(self) -> Path:
        """The model file this config points at (the default model when model_path is None)."""
        return default_model_path() if self.model_path is None else Path(self.model_path)

    def min_probability(self, category: str) -> float:
        return float(getattr(self, f"min_probability_{category}"))


class ClassifierFilter(Filter):
    """Drops documents the content classifier puts in gambling, adult or spam with enough probability."""

    name = "classifier"
    reasons = tuple(f"{cat}_classifier" for cat in CATEGORIES)

    def __init__(
        self, config: ClassifierFilterConfig = ClassifierFilterConfig(), model: ContentClassifier | None = None
    ):
        self.config = config
        self._model = model
        self._path = model.path if model is not None else config.resolved_model_path()
        if model is None and not self._path.is_file():
            raise ModelNotFoundError(self._path)
        self._thresholds = {cat: config.min_probability(cat) for cat in CATEGORIES}

    @property
    def model(self) -> ContentClassifier:
        """The model, loaded on first use (filters are built in worker processes; fastText models do not pickle)."""
        if self._model is None:
            self._model = ContentClassifier.load(self._path)
        return self._model

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_model"] = None
        return state

    def judge(self, texts: Sequence[str], urls: Sequence[str | None]) -> list[Drop | None]:
        out: list[Drop | None] = []
        step = self.config.batch_docs
        for i in range(0, len(texts), step):
            for label, p in self.model.predict(texts[i : i + step]):
                drop = label in self._thresholds and p >= self._thresholds[label]
                out.append(Drop(f"{label}_classifier", p) if drop else None)
        return out
