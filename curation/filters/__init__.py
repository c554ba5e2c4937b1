"""Document filters: language, URL, content (lexicon, classifier) and quality, each with fixed reason codes.

`FilterConfig` switches and tunes them all; `build_filters` turns it into the chain curate runs, in order.
"""

from __future__ import annotations

import dataclasses
import logging

from curation.classifier import default_model_path
from curation.filters.base import Drop, Filter
from curation.filters.classifier import ClassifierFilter, ClassifierFilterConfig
from curation.filters.content import LexiconFilter, LexiconFilterConfig
from curation.filters.language import LanguageConfig, LanguageFilter
from curation.filters.quality import QualityConfig, QualityFilter
from curation.filters.url import UrlConfig, UrlFilter
from curation.pii import PiiConfig

__all__ = ["Drop", "Filter", "FilterConfig", "build_filters"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FilterConfig:
    """Every filter of the curate stage; the first filter that rejects a document gives its reason."""

    url: UrlConfig = UrlConfig()
    language: LanguageConfig = LanguageConfig()
    lexicon: LexiconFilterConfig = LexiconFilterConfig()
    classifier: ClassifierFilterConfig = ClassifierFilterConfig()  # runs when its model exists (make builds it)
    quality: QualityConfig = QualityConfig()
    pii: PiiConfig = PiiConfig()  # scrubbing, not a filter: applied to every document after filtering


def build_filters(cfg: FilterConfig) -> list[Filter]:
    """The enabled filters, cheapest and most decisive first: URL, language, content, quality.

    The content classifier runs when its model exists; without the default model it is skipped with a
    warning (`sieve classifier build-default` makes it), while a model_path that does not exist is an error.
    """
    chain: list[Filter] = []
    if cfg.url.enabled:
        chain.append(UrlFilter(cfg.url))
    if cfg.language.enabled:
        chain.append(LanguageFilter(cfg.language))
    if cfg.lexicon.enabled:
        chain.append(LexiconFilter(cfg.lexicon))
    if cfg.classifier.enabled:
        if cfg.classifier.model_path is None and not default_model_path().is_file():
            log.warning(
                "content classifier skipped: no default model at %s; run `sieve classifier build-default`",
                default_model_path(),
            )
        else:
            chain.append(ClassifierFilter(cfg.classifier))
    if cfg.quality.enabled:
        chain.append(QualityFilter(cfg.quality))
    return chain
