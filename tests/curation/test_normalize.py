from curation.normalize import NormalizeConfig, normalize

CFG = NormalizeConfig()


def test_nfkc_folds_fullwidth_and_compatibility_forms() -> None:
    assert normalize("ＡＢＣ１２３　ｘ", CFG) == "ABC123 x"
    assert normalize("ﬁ①", CFG) == "fi1"


def test_fullwidth_without_nfkc() -> None:
    cfg = NormalizeConfig(nfkc=False)
    assert normalize("ＡＢＣ\u3000ﬁ", cfg) == "ABC ﬁ"


def test_control_and_invisible_characters_removed_but_zwj_kept() -> None:
    assert normalize("a\x00b\x07c\u200bd\ufeffe\u202ef", CFG) == "abcdef"
    family = "\U0001f468\u200d\U0001f469"
    assert normalize(family, CFG) == family


def test_whitespace_collapsed_and_paragraphs_kept() -> None:
    assert normalize("  one   two \t three  \r\n\r\n\r\n\n four  \n", CFG) == "one two three\n\nfour"


def test_everything_off_is_identity_except_newlines() -> None:
    cfg = NormalizeConfig(nfkc=False, fullwidth_to_halfwidth=False, remove_control=False, collapse_whitespace=False)
    text = "ＡＢ  c\x00\u200b "
    assert normalize(text, cfg) == text


def test_max_chars_cuts() -> None:
    assert normalize("x" * 50, NormalizeConfig(max_chars=10)) == "x" * 10


def test_whitespace_fast_path_equals_the_plain_substitutions() -> None:
    import re
    import sys

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from curation.normalize import _ODD_SPACES

    # every whitespace character lies below U+3001, so the explicit class misses none
    assert not any(chr(c).isspace() for c in range(0x3001, sys.maxunicode + 1))
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()]
    assert set(_ODD_SPACES) == set(spaces) - {" ", "\n"}

    def plain(text: str) -> str:
        text = re.sub(r"[^\S\n]+", " ", text)
        text = re.sub(r" ?\n ?", "\n", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()

    cfg = NormalizeConfig(nfkc=False, fullwidth_to_halfwidth=False, remove_control=False)

    @settings(max_examples=500, deadline=None)
    @given(st.lists(st.sampled_from([*spaces, "a", "中", "\n"]), max_size=20).map("".join))
    def check(text: str) -> None:
        assert normalize(text, cfg) == plain(text.replace("\r\n", "\n").replace("\r", "\n"))

    check()


def test_nfkc_fast_path_equals_nfkc() -> None:
    import unicodedata

    from hypothesis import given, settings
    from hypothesis import strategies as st

    cfg = NormalizeConfig(fullwidth_to_halfwidth=False, remove_control=False, collapse_whitespace=False)
    pieces = ["Ａ", "ｅ", "\u0301", "\u0327", "，", "。", "\u3000", "ﬁ", "①", "中", "e", "㈱", "ｶ", "\uff9e", "Å", "Ω"]

    @settings(max_examples=500, deadline=None)
    @given(st.lists(st.sampled_from(pieces), max_size=16).map("".join))
    def check(text: str) -> None:
        assert normalize(text, cfg) == unicodedata.normalize("NFKC", text)

    check()
