"""URL and domain rules, applied when the input has a `url` column: blocked domains and host keywords.

Hosts are matched label by label (`casino` matches `casino.example` and `best-casino.example`, not
`occasional.example`), so ordinary sites that merely contain the letters are kept. Reasons: `url_<category>`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from curation.filters.base import Drop, Filter

# Host-label words by category: English words and the pinyin/abbreviations Chinese spam domains use.
HOST_WORDS: dict[str, frozenset[str]] = {
    "gambling": frozenset(
        [
            "casino",
            "casinos",
            "bet",
            "bets",
            "betting",
            "sportsbook",
            "poker",
            "slots",
            "slot",
            "baccarat",
            "roulette",
            "jackpot",
            "gamble",
            "gambling",
            "lottery",
            "bingo",
            "caipiao",
            "cp",
            "dafa",
            "xpj",
            "pj",
            "amjs",
            "yabo",
            "bwin",
            "bet365",
            "1xbet",
            "jinsha",
            "pujing",
            "hg",
            "hgw",
            "aomen",
            "duchang",
            "bocai",
            "shishicai",
            "ssc",
            "pk10",
            "kuai3",
            "k3",
            "liuhecai",
            "lhc",
        ]
    ),
    "adult": frozenset(
        [
            "porn",
            "porno",
            "xxx",
            "sex",
            "sexy",
            "adult",
            "nude",
            "nudes",
            "camgirl",
            "camgirls",
            "cams",
            "hentai",
            "milf",
            "escort",
            "escorts",
            "xvideos",
            "xhamster",
            "pornhub",
            "redtube",
            "youporn",
            "av",
            "jav",
            "seqing",
            "huangse",
            "chengren",
            "se91",
            "91porn",
        ]
    ),
    "spam": frozenset(["viagra", "cialis", "pharmacy", "replica", "loans", "payday", "followers", "seo", "backlinks"]),
}
# Words that are gambling/adult only as a whole label, never as part of one (too short to be safe).
_WHOLE_LABEL_ONLY = frozenset({"bet", "bets", "cp", "pj", "hg", "ssc", "k3", "lhc", "av", "sex", "se91", "seo"})
_SPLIT_RE = re.compile(r"[-_.0-9]+")


@dataclasses.dataclass(frozen=True)
class UrlConfig:
    """Domain rules."""

    enabled: bool = True
    blocked_domains: tuple[str, ...] = ()  # exact domains (and their subdomains) to drop, e.g. from a site blocklist
    host_keywords: bool = True  # drop hosts whose labels are gambling/adult/spam words (HOST_WORDS)


def host_of(url: str) -> str:
    """Lower-case host of a URL, without port and a leading `www.`; '' when there is none."""
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def host_category(host: str) -> tuple[str, str] | None:
    """(category, word) when a label of the host, or a hyphen/digit-separated part of one, is a listed word."""
    labels = host.split(".")[:-1] or host.split(".")  # the top-level domain says nothing
    for label in labels:
        parts = [p for p in _SPLIT_RE.split(label) if p]
        for cat, words in HOST_WORDS.items():
            if label in words:
                return cat, label
            for p in parts:
                if p in words and p not in _WHOLE_LABEL_ONLY:
                    return cat, p
    return None


class UrlFilter(Filter):
    """Drops documents from blocked domains or gambling/adult/spam hosts."""

    name = "url"
    reasons = ("url_blocked", "url_gambling", "url_adult", "url_spam")

    def __init__(self, config: UrlConfig) -> None:
        self.config = config
        self._blocked = tuple(d.lower().removeprefix("www.") for d in config.blocked_domains)

    def judge(self, texts: Sequence[str], urls: Sequence[str | None]) -> list[Drop | None]:
        return [self.judge_url(u) if u else None for u in urls]

    def judge_url(self, url: str) -> Drop | None:
        host = host_of(url)
        if not host:
            return None
        for d in self._blocked:
            if host == d or host.endswith("." + d):
                return Drop("url_blocked", 1.0)
        if self.config.host_keywords:
            hit = host_category(host)
            if hit is not None:
                return Drop(f"url_{hit[0]}", 1.0)
        return None
