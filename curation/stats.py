"""Counts that add up: per-shard stats that merge with + and check the accounting invariant."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any


class AccountingError(RuntimeError):
    """documents_in != kept + rejected + quarantined: a document was lost or counted twice."""


@dataclasses.dataclass
class CurateStats:
    """What happened to the documents of one shard, or of a whole run once merged."""

    documents_in: int = 0
    kept: int = 0
    rejected: Counter[str] = dataclasses.field(default_factory=Counter)
    quarantined: Counter[str] = dataclasses.field(default_factory=Counter)  # by error code
    truncated: int = 0  # texts cut at NormalizeConfig.max_chars (kept or not)
    pii: Counter[str] = dataclasses.field(default_factory=Counter)  # placeholders put in, by kind

    def __add__(self, other: CurateStats) -> CurateStats:
        return CurateStats(
            self.documents_in + other.documents_in,
            self.kept + other.kept,
            self.rejected + other.rejected,
            self.quarantined + other.quarantined,
            self.truncated + other.truncated,
            self.pii + other.pii,
        )

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    def check(self) -> None:
        """Raise AccountingError unless every document ended in exactly one place."""
        out = self.kept + self.rejected_total + self.quarantined_total
        if self.documents_in != out:
            raise AccountingError(
                f"accounting does not add up: documents_in = {self.documents_in} but kept + rejected + quarantined "
                f"= {self.kept} + {self.rejected_total} + {self.quarantined_total} = {out}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents_in": self.documents_in,
            "kept": self.kept,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": self.rejected_total,
            "quarantined": self.quarantined_total,
            "quarantined_by_error": dict(sorted(self.quarantined.items())),
            "truncated": self.truncated,
            "pii": dict(sorted(self.pii.items())),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CurateStats:
        return cls(
            d["documents_in"],
            d["kept"],
            Counter(d["rejected"]),
            Counter(d["quarantined_by_error"]),
            d["truncated"],
            Counter(d.get("pii", {})),
        )
