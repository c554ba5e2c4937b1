"""The shape every filter shares: judge a batch of normalised documents, return keep or (reason, score).

Filters do no bookkeeping: the pipeline counts reasons and writes rejected documents with them.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class Drop:
    """Why a document is rejected: a fixed snake_case reason code and the score that decided it."""

    reason: str
    score: float | None = None


class Filter(ABC):
    """A document filter. Subclasses set `name` and `reasons` (every reason code they may return)."""

    name: str = "filter"
    reasons: tuple[str, ...] = ()

    @abstractmethod
    def judge(self, texts: Sequence[str], urls: Sequence[str | None]) -> list[Drop | None]:
        """One decision per document: None keeps it, a Drop rejects it."""
