"""The lexicon: folding, categorised terms from our files and the reviewed public lists, matching and density."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.lexicon import (
    CATEGORIES,
    DATA_DIR,
    Lexicon,
    density,
    effective_length,
    read_term_file,
    select_public_terms,
)
from curation.text import fold, t2s

# A realistic news paragraph that mentions the lottery once (People's Daily style).
LOTTERY_NEWS = (
    "本报北京3月2日电 记者从财政部获悉，去年全国彩票销售总额比上年增长百分之十二，筹集的公益金主要用于"
    "补充全国社会保障基金，支持城乡医疗救助、教育助学、残疾人事业和农村养老服务设施建设。财政部有关负责人表示，"
    "今年将继续加强资金使用情况的监督检查，按规定向社会公告公益金的筹集、分配和使用情况，自觉接受社会监督。"
    "有关部门还将加快推进管理信息系统建设，提高资金使用效益，确保每一笔公益金都用在群众最需要的地方。"
)
# A promotion page: several games, bonuses, a contact line.
GAMBLING_PAGE = (
    "【鸿运娱乐】重庆时时彩、北京赛车、幸运飞艇全天开奖，官方直营信誉平台。新会员开户送彩金188元，注册即送体验金，"
    "首存再送百分之五十，天天返水，提现秒到账。加微信：hy8888vip 客服QQ：3456789012"
)


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.default()


# --- folding -------------------------------------------------------------------------------------------------


def test_fold_traditional_fullwidth_case() -> None:
    assert fold("時時彩 澳門博彩 線上娛樂城") == "时时彩 澳门博彩 线上娱乐城"
    assert fold("Ｑ Ｑ") == "q q"
    assert fold("ＷＥＣＨＡＴ：ＡＢＣ１２３") == "wechat:abc123"
    assert fold("Online CASINO") == "online casino"


def test_fold_uses_opencc_phrases_where_characters_disagree() -> None:
    assert fold("乾隆年間") == "乾隆年间"  # 乾 -> 干 by character, but not in 乾隆
    assert fold("我瞭解") == "我了解"
    assert fold("乾淨") == "干净"


def test_fold_agrees_with_opencc_and_is_idempotent() -> None:
    from opencc import OpenCC

    from curation.classifier import people_daily_paragraphs

    paras = people_daily_paragraphs(min_chars=50)[::400][:30]
    s2t, opencc_t2s = OpenCC("s2t"), OpenCC("t2s")
    for p in paras:
        trad = s2t.convert(p)
        assert t2s(trad) == opencc_t2s.convert(trad)
        assert fold(fold(trad)) == fold(trad)
    assert fold(fold("蕭乾")) == fold("蕭乾") == "萧乾"  # OpenCC itself would turn 萧乾 into 萧干 on a second pass


# --- matching ------------------------------------------------------------------------------------------------


def test_traditional_gambling_phrases_are_caught(lex: Lexicon) -> None:
    hits = lex.scan(fold("時時彩、澳門博彩、線上娛樂城，開戶送彩金"))["gambling"]
    assert {"时时彩", "线上娱乐城", "开户送彩金"} <= set(hits.terms)
    assert "博彩" in hits.terms  # 澳门博彩 is not a term of its own; its weak part is


def test_fullwidth_contact_lines_are_caught(lex: Lexicon) -> None:
    spam = lex.scan(fold("加ＱＱ：１２３４５６７８，ＷＥＣＨＡＴ：ａｂｃ_１２３ｘ，Ｑ Ｑ ８７６５４３２１"))["spam"]
    assert spam.terms["<qq>"] == 2
    assert spam.terms["<wechat>"] == 1
    assert "加qq" in spam.terms


def test_english_terms_match_whole_words(lex: Lexicon) -> None:
    for clean in [
        "Sussex",
        "a sextant",
        "a specialist in lung disease",
        "size XXXXL",
        "pornography regulation",
        "class Point: __slots__ = ('x', 'y')",
        "the alphabet365 project",
    ]:
        assert lex.match_token(clean) == [], clean
        assert not any(h.hits for h in lex.scan(fold(clean)).values()), clean
    assert lex.match_token("sex") == []  # a bare short token is a fragment as often as a word (sexton)
    assert ("adult", "sex") in lex.match_token("free sex")
    assert ("spam", "cialis") in lex.match_token("Cialis")
    assert ("gambling", "casino") in lex.match_token("casinos")  # plural of an English term
    assert lex.scan(fold("buy cialis, viagra and levitra"))["spam"].distinct == 3


def test_mobile_numbers_stand_alone(lex: Lexicon) -> None:
    assert lex.scan("call 13812345678 now")["spam"].terms == {"<mobile>": 1}
    assert lex.scan("订单号 2013812345678901，金额 3.13812345678")["spam"].hits == 0


def test_overlapping_terms_count_once(lex: Lexicon) -> None:
    gambling = lex.scan(fold("重庆时时彩"))["gambling"]
    assert gambling.terms == {"重庆时时彩": 1}


def test_contact_lines_count_for_the_category_they_advertise(lex: Lexicon) -> None:
    hits = lex.scan(fold("大发快三计划群免费进 QQ：123456789"))
    assert "<qq>" in hits["gambling"].terms and "<qq>" in hits["spam"].terms
    assert "<qq>" not in hits["adult"].terms  # no adult term of its own


def test_match_token_for_vocabulary_tokens(lex: Lexicon) -> None:
    expect = {
        " 天天中彩票": "gambling",
        "时时彩": "gambling",
        "北京赛车": "gambling",
        "大发快三": "gambling",
        "彩票平台": "gambling",
        "娱乐平台": "gambling",
        "澳门葡京": "gambling",
        "Ġonline casino": "gambling",
        "无码": "adult",
        "高清无码": "adult",
        "免费视频": "adult",
        "一本道": "adult",
        "久久精品": "adult",
        "日本一级特黄大片": "adult",
        "▁porn": "adult",
        "微信号": "spam",
        "加微信": "spam",
        " click here": "spam",
    }
    for token, cat in expect.items():
        assert cat in {c for c, _ in lex.match_token(token)}, token
    for token in ["久久", "中", "彩", "特", "形形色色", "特色区域", "被干扰", "人民", " the", "政府工作报告"]:
        assert lex.match_token(token) == [], token
    assert lex.match_token("彩票") == [("gambling", "彩票")]
    assert lex.match_token("彩票", min_weight=0.5) == []  # an everyday word weighs 0.3


# --- density -------------------------------------------------------------------------------------------------


def test_density_keeps_news_that_mentions_the_lottery_once(lex: Lexicon) -> None:
    news = lex.score(LOTTERY_NEWS)
    page = lex.score(GAMBLING_PAGE)
    print(f"\nlottery news: {news['gambling']:.2f}/kchar; gambling page: {page['gambling']:.1f}/kchar")
    assert news["gambling"] < 2.0
    assert page["gambling"] > 30.0
    assert page["gambling"] > 20 * news["gambling"]


def test_effective_length_weighs_ascii_a_quarter() -> None:
    assert effective_length("abcd") == 1.0
    assert effective_length("时时彩") == 3.0
    hits = Lexicon({"spam": {"click here": 1.0}}).scan("click here")["spam"]
    assert density(hits, 100.0, min_chars=200) == density(hits, 10.0, min_chars=200) == 5.0


# --- sources -------------------------------------------------------------------------------------------------


def test_public_lists_are_selected_and_reviewed() -> None:
    cfg = json.loads((DATA_DIR / "sources.json").read_text(encoding="utf-8"))
    assert not any("politics" in s["path"] for s in cfg["sources"]), "political lists are never read"
    public = select_public_terms(DATA_DIR / "sources.json")
    assert set(public) <= set(CATEGORIES)
    assert "代开发票" in public["spam"] and "六合彩" in public["gambling"] and "成人电影" in public["adult"]
    everything = set().union(*public.values())
    for excluded in ["色色", "乳房", "阴道", "兼职", "淘宝", "客服", "微信", "浸淫", "形形色色"]:
        assert excluded not in everything, excluded
    assert all(2 <= len(t) <= cfg["max_term_chars"] for t in everything)


def test_our_files_have_no_bare_common_words() -> None:
    for cat in CATEGORIES:
        terms = read_term_file(DATA_DIR / f"{cat}.txt")
        assert terms, cat
        assert all(len(t) >= 2 for t in terms)
        assert not {"中", "彩", "特", "久久", "日日夜夜", "兼职日"} & set(terms)


def test_term_file_format(tmp_path: Path) -> None:
    f = tmp_path / "gambling.txt"
    f.write_text("# comment\n時時彩\n@weight 0.3  # weak\n彩票  # a trailing comment\n\nOnline Casino\n", "utf-8")
    assert read_term_file(f) == {"时时彩": 1.0, "彩票": 0.3, "online casino": 0.3}
    f.write_text("彩\n", "utf-8")
    with pytest.raises(ValueError, match="shorter than 2"):
        read_term_file(f)
    f.write_text("@weight heavy\n", "utf-8")
    with pytest.raises(ValueError, match="@weight 0.3"):
        read_term_file(f)


def test_from_files_without_public_lists(tmp_path: Path) -> None:
    (tmp_path / "spam.txt").write_text("加微信\n", "utf-8")
    lex = Lexicon.from_files({"spam": tmp_path / "spam.txt"})
    assert len(lex) == 1 and lex.match_token("加微信") == [("spam", "加微信")]
    with pytest.raises(ValueError, match="unknown lexicon categories"):
        Lexicon({"politics": {"x": 1.0}})


def test_default_is_cached(lex: Lexicon) -> None:
    assert Lexicon.default() is lex
    assert len(lex) > 1000


def test_word_boundaries_respect_accented_letters_and_bare_fragments() -> None:
    from curation.lexicon import Lexicon

    lex = Lexicon.default()
    assert lex.match_token(" spécialisé") == []  # cialis inside a French word
    assert lex.match_token(" cialis") == [("spam", "cialis")]
    assert lex.match_token("jav") == []  # a SentencePiece piece of "java"
    assert lex.scan(fold("cours spécialisé en droit"))["spam"].hits == 0


def test_scan_many_equals_scan_of_each(lex: Lexicon) -> None:
    from curation.classifier import english_paragraphs, people_daily_paragraphs
    from curation.spam_corpus import spam_documents

    texts = [
        *people_daily_paragraphs()[:300],
        *english_paragraphs()[:100],
        *(t for cat in ("gambling", "adult", "spam") for t in spam_documents(cat, 40, 5)),
        "call 13812345678 now",  # a contact pattern and no term: the prefilter must not skip it
        "微信 abc12345 加我",
        "sussex sextant casinos",
        "",
    ]
    folded = [fold(t) for t in texts]
    many = lex.scan_many(folded)
    assert many == [lex.scan(f) for f in folded]
    assert sum(any(h.hits for h in m.values()) for m in many) > 100  # the comparison covers real hits
    assert lex.scan_many([]) == []
