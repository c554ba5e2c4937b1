from curation.text import jaccard, shingles, units


def test_units_split_cjk_by_character_and_other_scripts_by_word() -> None:
    assert units("Hello, 世界! GPT-4o 用户") == ["hello", "世", "界", "gpt", "4o", "用", "户"]


def test_short_text_is_one_shingle_and_empty_has_none() -> None:
    assert shingles("一二三", 5) == {"一 二 三"}
    assert shingles("!!! ...", 5) == set()


def test_jaccard_known_values() -> None:
    assert jaccard("a b c d e f", "a b c d e f", 2) == 1.0
    # bigrams {ab,bc,cd,de,ef} vs {ab,bc,cd,de,eg}: 4 shared of 6
    assert jaccard("a b c d e f", "a b c d e g", 2) == 4 / 6
