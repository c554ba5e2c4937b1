"""Document filters: language, URL, content (lexicon, classifier) and quality, each with fixed reason codes.

`FilterConfig` switches and tunes them all; `build_filters` turns it into the chain curate runs, in order.
"""

from __future__ import annotations

import dataclasses

from curation.filters.base import Drop, Filter
from curation.filters.language import LanguageConfig, LanguageFilter
from curation.filters.quality import QualityConfig, QualityFilter
from curation.filters.url import UrlConfig, UrlFilter
from curation.pii import PiiConfig

__all__ = ["Drop", "Filter", "FilterConfig", "build_filters"]


@dataclasses.dataclass(frozen=True)
class FilterConfig:
    """Every filter of the curate stage; the first filter that rejects a document gives its reason."""

    url: UrlConfig = UrlConfig()
    language: LanguageConfig = LanguageConfig()
    quality: QualityConfig = QualityConfig()
    pii: PiiConfig = PiiConfig()  # scrubbing, not a filter: applied to every document after filtering


def build_filters(cfg: FilterConfig) -> list[Filter]:
    """The enabled filters, cheapest and most decisive first: URL, language, content, quality."""
    chain: list[Filter] = []
    if cfg.url.enabled:
        chain.append(UrlFilter(cfg.url))
    if cfg.language.enabled:
        chain.append(LanguageFilter(cfg.language))
    if cfg.quality.enabled:
        chain.append(QualityFilter(cfg.quality))
    return chain
