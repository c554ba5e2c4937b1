"""Content filter by lexicon: drop documents dense in gambling, adult or spam terms (`curation.lexicon`).

A document is dropped for a category when its weighted term density (hits per 1,000 characters) and its
number of distinct terms both reach that category's thresholds. Reasons: `gambling_lexicon`, `adult_lexicon`,
`spam_lexicon`; the score is the density that decided. The fastText classifier is a separate filter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from curation.config import ConfigError, check_range
from curation.filters.base import Drop, Filter
from curation.lexicon import CATEGORIES, DATA_DIR, DEFAULT_MIN_CHARS, CategoryHits, Lexicon, density, effective_length
from curation.text import fold, fold_all


@dataclasses.dataclass(frozen=True)
class CategoryThresholds:
    """Both must be reached for a document to be dropped for the category."""

    min_hits_per_kchar: float  # weighted term hits per 1,000 characters (a weak word such as 彩票 weighs 0.3)
    min_distinct_terms: int  # distinct terms (contact patterns count as terms): one word said often is not enough

    def __post_init__(self) -> None:
        check_range(self, "min_hits_per_kchar", 0.0, None)
        check_range(self, "min_distinct_terms", 1, None)


@dataclasses.dataclass(frozen=True)
class LexiconFilterConfig:
    """Thresholds per category, set on People's Daily, product reviews and spam_corpus (tests print the numbers).

    At the defaults, 2 of 11,831 People's Daily paragraphs pass (reports of a crackdown on slot machines, 赌博 +
    老虎机), 4 of 12,410 reviews (resale posts that give a QQ and a phone number), and 95-99% of generated spam.
    """

    enabled: bool = True  # False: the lexicon filter is not in the chain
    # Gambling pages name several games, brands and bonuses; news on a lottery draw scores ~1-3 with one term.
    gambling: CategoryThresholds = CategoryThresholds(min_hits_per_kchar=5.0, min_distinct_terms=2)
    # Porn boilerplate is dense (无码, 在线观看, 国产精品 ...); film and health pages score low on weak words.
    adult: CategoryThresholds = CategoryThresholds(min_hits_per_kchar=5.0, min_distinct_terms=2)
    # Ads carry a contact pattern plus a pitch; reviews that mention 客服 or 淘宝 carry neither.
    spam: CategoryThresholds = CategoryThresholds(min_hits_per_kchar=5.0, min_distinct_terms=2)
    min_chars_for_density: int = DEFAULT_MIN_CHARS  # shorter texts count as this long: one hit in 20 chars is no page
    lexicon_dir: str | None = None  # a folder with {gambling,adult,spam}.txt [+ sources.json]; None: the bundled one

    def __post_init__(self) -> None:
        for cat in CATEGORIES:
            if not isinstance(getattr(self, cat), CategoryThresholds):
                raise ConfigError(f"LexiconFilterConfig.{cat} must be CategoryThresholds, got {getattr(self, cat)!r}")
        check_range(self, "min_chars_for_density", 1, None)
        if self.lexicon_dir is not None:
            missing = [f"{c}.txt" for c in CATEGORIES if not (Path(self.lexicon_dir) / f"{c}.txt").is_file()]
            if missing:
                raise ConfigError(
                    f"LexiconFilterConfig.lexicon_dir = {self.lexicon_dir!r} lacks {missing}; "
                    f"copy {DATA_DIR} as a starting point, or leave lexicon_dir unset for the bundled lexicon"
                )


def load_lexicon(cfg: LexiconFilterConfig) -> Lexicon:
    """The lexicon a config names: the bundled default, or the files in cfg.lexicon_dir."""
    if cfg.lexicon_dir is None:
        return Lexicon.default()
    folder = Path(cfg.lexicon_dir)
    sources = folder / "sources.json"
    return Lexicon.from_files({c: folder / f"{c}.txt" for c in CATEGORIES}, sources if sources.is_file() else None)


class LexiconFilter(Filter):
    """Drop documents whose gambling, adult or spam term density passes the category's thresholds."""

    name = "lexicon"
    reasons = tuple(f"{c}_lexicon" for c in CATEGORIES)

    def __init__(self, cfg: LexiconFilterConfig = LexiconFilterConfig(), lexicon: Lexicon | None = None) -> None:
        self.cfg = cfg
        self.lexicon = load_lexicon(cfg) if lexicon is None else lexicon
        self._thresholds = {c: getattr(cfg, c) for c in CATEGORIES}

    def judge_one(self, text: str) -> Drop | None:
        """Keep (None) or drop one document."""
        folded = fold(text)
        return self._decide(folded, self.lexicon.scan(folded))

    def _decide(self, folded: str, hits: dict[str, CategoryHits]) -> Drop | None:
        """Of the categories over their thresholds, gambling and adult win over spam (a casino page that says
        加微信 is a gambling page); among those, the one furthest over its density threshold decides."""
        length = effective_length(folded)
        over: list[tuple[bool, float, str, float]] = []
        for cat, th in self._thresholds.items():
            h = hits[cat]
            if h.distinct < th.min_distinct_terms or not h.hits:
                continue
            d = density(h, length, self.cfg.min_chars_for_density)
            if d >= th.min_hits_per_kchar:
                over.append((cat != "spam", d / max(th.min_hits_per_kchar, 1e-9), cat, d))
        if not over:
            return None
        _, _, cat, d = max(over)
        return Drop(f"{cat}_lexicon", round(d, 3))

    def judge(self, texts: Sequence[str], urls: Sequence[str | None]) -> list[Drop | None]:
        """One decision per document; URLs are not used (the URL filter reads them)."""
        folded = fold_all(texts)
        return [self._decide(f, h) for f, h in zip(folded, self.lexicon.scan_many(folded), strict=True)]
