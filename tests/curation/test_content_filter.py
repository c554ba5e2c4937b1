"""LexiconFilter: one test per reason code, thresholds, and measured false-positive rates and recall.

The measurements print their numbers (run with -s to see them): false positives on 2,000 People's Daily
paragraphs, 2,000 product reviews and the CPython docs' English prose; recall on 300 generated spam documents
per category (curation.spam_corpus; about a third of its promotional sentences hold no lexicon term).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from curation.config import ConfigError, from_dict, to_dict
from curation.filters.content import CategoryThresholds, LexiconFilter, LexiconFilterConfig
from curation.lexicon import CATEGORIES, DATA_DIR
from curation.spam_corpus import spam_documents

NEWS = (
    "本报讯 今年以来，全市体育彩票销售工作稳步推进，各销售网点认真落实各项管理制度，不断提高服务水平。"
    "体彩中心负责人介绍，筹集的公益金将全部用于全民健身设施建设和青少年体育活动，惠及广大群众。"
)
REVIEW = "在淘宝上买的，客服态度很好，发货也快，包装完好，用了一个星期感觉不错，性价比高，会推荐给朋友。"
GAMBLING = (
    "澳门新葡京线上娱乐城，百家乐、老虎机、时时彩应有尽有。新会员注册送88元，首存送百分之百，天天返水，"
    "提现秒到账。客服微信：pj888vip"
)
ADULT = (
    "最新高清无码视频在线观看，国产精品自拍偷拍、日韩av女优作品每日更新，永久免费观看。"
    "防屏蔽地址发布页：www.example-av.cc"
)
SPAM = "招聘网络兼职，刷单日赚300元，一单一结，宝妈学生都能做。加微信：job2024abc，或QQ：123456789"
ENGLISH_CASINO = (
    "Best online casino in Canada! Claim 200 free spins and a 100% deposit bonus. Play online slots, roulette "
    "and live casino games. Fast payouts. Join now at www.example-casino.com"
)


@pytest.fixture(scope="module")
def filt() -> LexiconFilter:
    return LexiconFilter()


def reasons(f: LexiconFilter, texts: list[str]) -> list[str | None]:
    return [d.reason if d else None for d in f.judge(texts, [None] * len(texts))]


def test_reason_codes(filt: LexiconFilter) -> None:
    assert filt.reasons == ("gambling_lexicon", "adult_lexicon", "spam_lexicon")
    out = filt.judge([GAMBLING, ADULT, SPAM, ENGLISH_CASINO], [None] * 4)
    assert [d.reason if d else None for d in out] == [
        "gambling_lexicon",
        "adult_lexicon",
        "spam_lexicon",
        "gambling_lexicon",
    ]
    for d in out:
        assert d is not None and d.score is not None and d.score >= 5.0


def test_traditional_script_page_is_caught(filt: LexiconFilter) -> None:
    trad = "線上娛樂城開戶送彩金，時時彩、北京賽車、百家樂全天開獎，提現秒到賬。"
    assert reasons(filt, [trad]) == ["gambling_lexicon"]


def test_clean_texts_are_kept(filt: LexiconFilter) -> None:
    assert reasons(filt, [NEWS, REVIEW, "The committee met on Tuesday to review the budget."]) == [None] * 3


def test_a_casino_ad_with_a_wechat_line_is_gambling_not_spam(filt: LexiconFilter) -> None:
    assert reasons(filt, ["北京赛车pk10计划群，加微信 abc12345 带你稳赚"]) == ["gambling_lexicon"]


def test_thresholds_decide(filt: LexiconFilter) -> None:
    lenient = LexiconFilter(
        LexiconFilterConfig(spam=CategoryThresholds(min_hits_per_kchar=1000.0, min_distinct_terms=2))
    )
    assert reasons(lenient, [SPAM]) == [None]
    one_term = "彩票" * 3
    assert reasons(filt, [one_term]) == [None]  # one word said often is not enough


def test_config_validation_and_round_trip(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="min_hits_per_kchar"):
        CategoryThresholds(min_hits_per_kchar=-1.0, min_distinct_terms=2)
    with pytest.raises(ConfigError, match="min_distinct_terms"):
        CategoryThresholds(min_hits_per_kchar=5.0, min_distinct_terms=0)
    with pytest.raises(ConfigError, match="lacks"):
        LexiconFilterConfig(lexicon_dir=str(tmp_path))
    cfg = LexiconFilterConfig(adult=CategoryThresholds(min_hits_per_kchar=7.5, min_distinct_terms=3))
    assert from_dict(LexiconFilterConfig, to_dict(cfg)) == cfg


def test_custom_lexicon_dir(tmp_path: Path) -> None:
    for cat in CATEGORIES:
        shutil.copy(DATA_DIR / f"{cat}.txt", tmp_path / f"{cat}.txt")
    (tmp_path / "spam.txt").write_text("特价秒杀\n限时抢购\n", "utf-8")
    f = LexiconFilter(LexiconFilterConfig(lexicon_dir=str(tmp_path)))  # no sources.json: our files only
    assert reasons(f, ["特价秒杀！限时抢购！"]) == ["spam_lexicon"]


# --- measurements --------------------------------------------------------------------------------------------


def _fp_rate(f: LexiconFilter, texts: list[str]) -> tuple[float, list[tuple[str, str]]]:
    out = f.judge(texts, [None] * len(texts))
    flagged = [(d.reason, t[:60]) for d, t in zip(out, texts, strict=True) if d is not None]
    return len(flagged) / len(texts), flagged


def test_false_positives_on_news_reviews_and_english(filt: LexiconFilter) -> None:
    from curation.classifier import english_paragraphs, people_daily_paragraphs, review_texts

    news = random.Random(0).sample(people_daily_paragraphs(min_chars=50), 2000)
    reviews = random.Random(0).sample(review_texts(min_chars=30), 2000)
    english = english_paragraphs()
    rates = {}
    for name, texts in [("news", news), ("reviews", reviews), ("english", english)]:
        rate, flagged = _fp_rate(filt, texts)
        rates[name] = rate
        print(f"\nfalse positives on {len(texts)} {name}: {rate:.2%} {flagged[:3]}")
    assert rates["news"] <= 0.01
    assert rates["reviews"] <= 0.01
    assert rates["english"] <= 0.01


@pytest.mark.parametrize("category", CATEGORIES)
def test_recall_on_generated_spam(filt: LexiconFilter, category: str) -> None:
    docs = spam_documents(category, 300, seed=2024)
    got = reasons(filt, docs)
    own = sum(r == f"{category}_lexicon" for r in got) / len(docs)
    caught = sum(r is not None for r in got) / len(docs)
    print(f"\n{category}: recall {caught:.3f} (under its own reason {own:.3f}) on {len(docs)} generated documents")
    assert caught >= 0.95  # removed, whatever the reason
    assert own >= 0.90  # and mostly for the right reason: a casino ad with no casino word left is caught as spam


def test_spam_corpus_is_deterministic_and_varied() -> None:
    a = spam_documents("gambling", 200, seed=1)
    assert a == spam_documents("gambling", 200, seed=1)
    assert a != spam_documents("gambling", 200, seed=2)
    assert len(set(a)) == len(a)
    assert any(d.isascii() for d in a)  # English documents
    assert any("時" in d or "開" in d or "娛" in d for d in a)  # traditional script
    assert any("\uff10" <= ch <= "\uff5a" for d in a for ch in d)  # full-width contact lines
    with pytest.raises(ValueError, match="unknown spam category"):
        spam_documents("politics", 1, seed=0)


def test_spam_corpus_template_split_partitions_sentences_and_names() -> None:
    from curation.spam_corpus import _pools

    for cat in ("gambling", "adult", "spam"):
        every, train, held = _pools(cat, "all"), _pools(cat, "train"), _pools(cat, "eval")
        for field in ("promo_zh", "promo_en", "titles"):
            a, b = getattr(train, field), getattr(held, field)
            assert a and b and not set(a) & set(b) and sorted(a + b) == sorted(getattr(every, field))
        for slot, names in every.names.items():
            assert sorted(train.names[slot] + held.names[slot]) == sorted(names) and held.names[slot], slot
    assert spam_documents("adult", 50, 3, "eval") != spam_documents("adult", 50, 3, "train")
    with pytest.raises(ValueError, match="side = 'test'"):
        spam_documents("adult", 1, 0, side="test")
