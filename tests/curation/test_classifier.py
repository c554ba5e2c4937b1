"""The content classifier: its text view, training on a tiny labelled file, prediction, the filter and its errors."""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path

import pytest

from curation.classifier import (
    ClassifierConfig,
    ContentClassifier,
    LabelledDataError,
    english_paragraphs,
    held_out,
    meta_path,
    people_daily_paragraphs,
    to_fasttext_line,
    train_classifier,
)
from curation.config import ConfigError
from curation.filters.base import Drop
from curation.filters.classifier import ClassifierFilter, ClassifierFilterConfig

# Hand-made promotional phrases; documents mix them with real clean sentences, as spam pages do.
PROMO = {
    "gambling": ["百家乐真人娱乐城", "时时彩投注平台", "澳门赌场首存送彩金", "online casino bonus", "体育博彩下注"],
    "adult": ["成人视频在线观看", "激情裸聊直播", "色情电影免费看", "free porn videos", "约炮交友一夜情"],
    "spam": [
        "加微信领取优惠券",
        "代开各类发票",
        "减肥药月瘦三十斤",
        "click here to claim your prize",
        "刷单兼职日赚千元",
    ],
}
# A small fast config: the tiny set needs every unit (min_count 1) and no quantisation.
TINY = ClassifierConfig(epochs=30, dim=16, buckets=20_000, min_count=1, quantize=False, max_char_ngram=3)


def tiny_records(seed: int = 0, per_label: int = 40) -> list[dict]:
    rng = random.Random(seed)
    clean = people_daily_paragraphs()[: per_label * 2] + english_paragraphs()[:per_label]
    recs = [{"text": t, "label": "clean"} for t in clean]
    for label, phrases in PROMO.items():
        for _ in range(per_label):
            body = rng.choice(clean)[:60]
            promo = "，".join(rng.sample(phrases, 3))
            recs.append({"text": f"{promo}。{body}", "label": label})
    rng.shuffle(recs)
    return recs


def write_jsonl(path: Path, records: list[object]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("model")
    train_classifier(write_jsonl(d / "train.jsonl", tiny_records()), d / "tiny.bin", TINY)
    return d / "tiny.bin"


def test_fasttext_line_splits_cjk_into_characters_and_folds() -> None:
    assert to_fasttext_line("澳門賭場 Online CASINO！") == "澳 门 赌 场 online casino"
    assert to_fasttext_line("ＡＢＣ１２３") == "abc123"  # full width folded
    assert to_fasttext_line("一行\n两行") == "一 行 两 行"  # single line
    assert to_fasttext_line("__label__spam 好") == "x__label__spam 好"  # cannot smuggle in a label
    assert to_fasttext_line("赌场" * 10, max_chars=3) == "赌 场 赌"


def test_people_daily_reader_strips_tags_and_brackets() -> None:
    paras = people_daily_paragraphs()
    assert len(paras) > 10_000
    assert paras[0].startswith("１２月３１日，中共中央总书记、国家主席江泽民发表")
    assert not any("/n" in p or "]nt" in p for p in paras[:2000])


def test_train_writes_model_and_metadata(tiny_model: Path) -> None:
    meta = json.loads(meta_path(tiny_model).read_text(encoding="utf-8"))
    assert meta["labels"] == ["adult", "clean", "gambling", "spam"]
    assert meta["label_counts"] == {"clean": 120, "gambling": 40, "adult": 40, "spam": 40}
    assert meta["config"]["epochs"] == TINY.epochs
    assert len(meta["training_sha256"]) == 64 and meta["model_bytes"] == tiny_model.stat().st_size
    assert not list(tiny_model.parent.glob(".*tmp*"))  # atomic: no temporary file left behind


def test_predicts_the_obvious_cases(tiny_model: Path) -> None:
    clf = ContentClassifier.load(tiny_model)
    texts = [
        "国务院召开常务会议，研究部署进一步做好农业和农村工作，确保粮食生产稳定增长。",
        "The interpreter reads the module, compiles it to byte code and then executes the statements in order.",
        "百家乐真人娱乐城，澳门赌场首存送彩金，时时彩投注平台",
        "成人视频在线观看，激情裸聊直播，色情电影免费看",
        "加微信领取优惠券，代开各类发票，刷单兼职日赚千元",
        "。。。",
    ]
    got = clf.predict(texts)
    assert [lab for lab, _ in got] == ["clean", "clean", "gambling", "adult", "spam", "clean"]
    assert got[-1] == ("clean", 0.0)  # nothing to judge
    assert all(0.0 <= p <= 1.0 for _, p in got) and got[2][1] > 0.5


def test_training_is_reproducible(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "t.jsonl", tiny_records(per_label=10))
    a = train_classifier(data, tmp_path / "a.bin", TINY)
    b = train_classifier(data, tmp_path / "b.bin", TINY)
    assert a["model_sha256"] == b["model_sha256"]


def test_quantized_model_is_small_and_loads(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "t.jsonl", tiny_records(per_label=20))
    cfg = ClassifierConfig(epochs=20, dim=16, buckets=20_000, min_count=1, quantize=True, quantize_cutoff=5_000)
    meta = train_classifier(data, tmp_path / "m.ftz", cfg)
    assert meta["model_bytes"] < 500_000
    assert ContentClassifier.load(tmp_path / "m.ftz").predict(["百家乐真人娱乐城，时时彩投注平台"])[0][0] == "gambling"
    with pytest.raises(ValueError, match=r"must end in \.ftz"):
        train_classifier(data, tmp_path / "m.bin", cfg)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"text": "unterminated', "not JSON"),
        ('["a list"]', "not an object"),
        ('{"text": "好", "label": "porn"}', "unknown label 'porn'"),
        ('{"label": "spam"}', "`text` is None"),
        ('{"text": "  ", "label": "spam"}', "not a non-empty string"),
    ],
)
def test_bad_labelled_file_names_the_line(tmp_path: Path, bad_line: str, message: str) -> None:
    path = write_jsonl(
        tmp_path / "bad.jsonl", [{"text": "好", "label": "clean"}, "", {"text": "坏", "label": "spam"}, bad_line]
    )
    with pytest.raises(LabelledDataError, match=rf"bad\.jsonl:4: .*{message}"):
        train_classifier(path, tmp_path / "m.bin", TINY)


def test_one_label_is_not_enough(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "one.jsonl", [{"text": "好", "label": "clean"}])
    with pytest.raises(LabelledDataError, match="at least two"):
        train_classifier(path, tmp_path / "m.bin", TINY)


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"ClassifierConfig\.max_char_ngram = 1 is outside"):
        ClassifierConfig(min_char_ngram=2, max_char_ngram=1)
    with pytest.raises(ConfigError, match=r"min_probability_spam = 1\.5"):
        ClassifierFilterConfig(min_probability_spam=1.5)


def test_filter_reasons_and_scores(tiny_model: Path) -> None:
    flt = ClassifierFilter(ClassifierFilterConfig(model_path=str(tiny_model)))
    texts = [
        "百家乐真人娱乐城，澳门赌场首存送彩金，时时彩投注平台",
        "成人视频在线观看，激情裸聊直播，色情电影免费看",
        "加微信领取优惠券，代开各类发票，刷单兼职日赚千元",
        "北京市人民政府今天召开会议，研究部署春节期间的市场供应和交通运输工作。",
    ]
    got = flt.judge(texts, [None] * len(texts))
    assert [d.reason if d else None for d in got] == [
        "gambling_classifier",
        "adult_classifier",
        "spam_classifier",
        None,
    ]
    assert all(d.score is not None and d.score >= 0.7 for d in got[:3] if d)
    assert set(flt.reasons) == {"gambling_classifier", "adult_classifier", "spam_classifier"}
    again = pickle.loads(pickle.dumps(flt))  # workers receive the filter without the fastText object
    assert again.judge(texts[:1], [None])[0].reason == "gambling_classifier"


class FixedModel:
    """Stands in for a ContentClassifier: every text gets the same (label, probability)."""

    path = Path("fixed.ftz")

    def __init__(self, label: str, p: float) -> None:
        self.answer = (label, p)

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        return [self.answer] * len(texts)


@pytest.mark.parametrize(
    ("label", "p", "reason"),
    [
        ("gambling", 0.7, "gambling_classifier"),
        ("gambling", 0.69, None),
        ("adult", 0.8, "adult_classifier"),
        ("spam", 0.69, None),
        ("spam", 0.7, "spam_classifier"),
        ("clean", 1.0, None),
    ],
)
def test_filter_thresholds(label: str, p: float, reason: str | None) -> None:
    flt = ClassifierFilter(ClassifierFilterConfig(), model=FixedModel(label, p))  # type: ignore[arg-type]
    got = flt.judge(["a", "b", "c"], [None] * 3)
    assert got == [None if reason is None else Drop(reason, p)] * 3


def test_filter_without_model_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="sieve classifier build-default"):
        ClassifierFilter(ClassifierFilterConfig(model_path=str(tmp_path / "none.ftz")))


def test_split_is_a_stable_hash() -> None:
    texts = people_daily_paragraphs()[:2000]
    share = sum(held_out(t) for t in texts) / len(texts)
    assert 0.15 < share < 0.25
    # blake2b of the text, not Python's salted hash(): the same answer in every process and on every machine
    assert [held_out(t) for t in ("a", "f", "g", "h", "赌场", "新闻")] == [False, False, True, True, False, True]
