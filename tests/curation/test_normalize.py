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
