"""One test per reason code of the language, quality and URL filters, and the PII placeholders."""

from __future__ import annotations

from collections import Counter

import pytest

from curation.filters.language import LanguageConfig, LanguageFilter, identify, lid_model_path
from curation.filters.quality import QualityConfig, QualityFilter
from curation.filters.url import UrlConfig, UrlFilter
from curation.pii import PiiConfig, scrub, valid_cn_id
from tests.conftest import EN_A, ZH_A

NEWS_ZH = (
    "本报北京1月5日讯 国家统计局今天发布的数据显示，去年全国粮食总产量达到四千九百多亿公斤，比上年增长百分之二。"
    "农业部门表示，今年将继续加强农田水利建设，推广优良品种，提高粮食生产的科技含量，确保农民收入稳定增长。"
    "专家认为，粮食连续丰收为稳定物价和保持经济平稳发展打下了坚实基础。"
)


def test_language_model_ships_in_package_and_identifies() -> None:
    assert lid_model_path().name == "lid.176.ftz"
    langs = [lang for lang, _ in identify([ZH_A, EN_A, "這是一段繁體中文的句子，談論今天的天氣和交通。"])]
    assert langs == ["zh", "en", "zh"]


def test_language_filter_reason_codes() -> None:
    f = LanguageFilter(LanguageConfig(languages=("zh", "en")))
    de = "Die Bundesregierung hat heute beschlossen, die Mittel für den öffentlichen Nahverkehr zu erhöhen."
    out = f.judge([ZH_A, EN_A, de], [None] * 3)
    assert out[0] is None and out[1] is None
    assert out[2] is not None and out[2].reason == "lang_de" and out[2].score > 0.9
    assert LanguageFilter(LanguageConfig(languages=())).judge([de], [None]) == [None]
    strict = LanguageFilter(LanguageConfig(min_confidence=0.999999))
    assert strict.judge(["ok 123"], [None])[0].reason == "lang_unknown"


def quality(text: str, **kw: object) -> str | None:
    d = QualityFilter(QualityConfig(**kw)).judge_one(text)  # type: ignore[arg-type]
    return d.reason if d else None


def test_quality_keeps_real_news_and_english() -> None:
    assert quality(NEWS_ZH) is None
    assert quality(EN_A) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("太短了", "quality_too_short"),
        ("word " * 300, "quality_too_long"),
        ("a b c d e f g h i j k l m n o p q r s t u v w x y z " * 2, "quality_mean_word_length"),
        ("#tag #more " * 20 + EN_A, "quality_symbol_ratio"),
        ("\n".join(f"- item number {i} in the list of things to buy" for i in range(10)), "quality_bullet_lines"),
        (
            "\n".join(f"Read the full story about the new city budget and topic {i} here..." for i in range(10)),
            "quality_ellipsis_lines",
        ),
        ("12345 67890 !!! ??? 2468 " * 10 + "中文", "quality_letter_share"),
        ("\n".join(["Buy cheap tickets for the summer concert now"] * 6 + [EN_A]), "quality_dup_lines"),
        ("点击这里 " * 5 + "ABCDEFG HIJKLMN OPQRST UVWXYZ abcdefg hijklmn opqrst uvwxyz " * 6, "quality_cjk_share"),
        ("buy cheap shoes online today " * 40, "quality_top_ngram"),
        (EN_A + " " + EN_A, "quality_dup_ngram"),
        (
            "Useful links: " + " ".join(f"https://site{i}.example.com/page/{i}/index.html" for i in range(30)),
            "quality_url_share",
        ),
    ],
)
def test_quality_reason_codes(text: str, reason: str) -> None:
    kw = {"max_units": 200} if reason == "quality_too_long" else {}
    if reason == "quality_dup_ngram":
        kw = {"max_top_2gram_share": None, "max_top_4gram_share": None}
    assert quality(text, **kw) == reason


def test_url_filter_reason_codes_and_label_matching() -> None:
    f = UrlFilter(UrlConfig(blocked_domains=("spam.example",)))
    urls = [
        "https://www.best-casino.example/win",
        "https://xxx-videos.example/",
        "http://cheap-viagra.example/buy",
        "https://news.spam.example/a",
        "https://occasional.example/sextant",
        "https://news.example.cn/1998/01/01",
    ]
    got = [d.reason if d else None for d in f.judge([""] * len(urls), urls)]
    assert got == ["url_gambling", "url_adult", "url_spam", "url_blocked", None, None]


def test_pii_placeholders_and_counts() -> None:
    text = (
        "联系 zhang.san@example.com 或 138 1234 5678；身份证 11010519491231002X；服务器 10.0.0.255；订单 20240101123456"
    )
    out, counts = scrub(text, PiiConfig())
    assert out == "联系 <EMAIL> 或 <PHONE>；身份证 <ID_NUMBER>；服务器 <IP>；订单 20240101123456"
    assert counts == Counter(email=1, phone=1, id_number=1, ip=1)
    assert valid_cn_id("11010519491231002X") and not valid_cn_id("110105194912310021")
    assert scrub("人口 1123456789 人, 版本 1.2.3.4.5", PiiConfig()) == ("人口 1123456789 人, 版本 1.2.3.4.5", Counter())
    assert scrub(text, PiiConfig(enabled=False))[0] == text
    assert scrub("Served from 10.0.0.255. Then", PiiConfig()) == ("Served from <IP>. Then", Counter(ip=1))


def test_mostly_han_text_is_chinese_without_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import curation.filters.language as language

    asked: list[list[str]] = []

    class Recorder:
        def predict(self, lines: list[str], k: int) -> tuple[list[list[str]], list[list[float]]]:
            asked.append(lines)
            return [["__label__en"]] * len(lines), [[0.9]] * len(lines)

    monkeypatch.setattr(language, "_load_lid", lambda: Recorder())
    texts = [ZH_A, "這是一段繁體中文的句子，談論今天的天氣。", "これは日本語の文です。漢字もある。", EN_A]
    got = identify(texts)
    assert got[:2] == [("zh", 1.0), ("zh", 1.0)]  # Han without kana: decided without the model
    assert asked == [[texts[2], texts[3]]]  # kana, and Latin text, go to the model
