"""Audit reports: hostile token strings stay inert in HTML, Markdown and the terminal; plots and tables are there."""

from __future__ import annotations

import copy
import io
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from rich.console import Console

from reports.html import audit_html
from reports.render import audit_markdown, audit_renderables, compact_reasons, inert, md_escape
from tests.tokenizer.conftest import CONTENT, HOSTILE, write_hf_tokenizer
from tokenizer.audit import AuditConfig, audit
from tokenizer.vocab import load_vocab

RAW_NEVER = ("<script", "<img", "\x1b", "\u202e", "onerror=alert(1)>")  # as they would act, unescaped


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An audit of hostile tokens, from a folder whose name is markup, with a hostile note and domain added."""
    path = write_hf_tokenizer(tmp_path_factory.mktemp("r") / "<b>x" / "tokenizer.json", HOSTILE + CONTENT)
    rep = audit(load_vocab(path), AuditConfig(use_classifier=False)).to_dict()
    rep["notes"].append("note with <script>alert(2)</script> and \x1b[2J and \u202e")
    rep["provenance"] = {
        "files": ["x"], "documents": 1, "tokens": 3, "ordinary_tokens": 10, "never_seen": 1, "flagged_seen": 1,
        "flagged_never_seen": [],
    }  # fmt: skip
    for t in rep["tokens"]:
        t.update(corpus_count=2, corpus_documents=1, top_documents=[{"id": "<i>doc</i>", "count": 2}],
                 top_domains=[{"domain": "<b>evil</b>.example", "count": 2}])  # fmt: skip
    return rep


def test_every_hostile_token_is_listed(report: dict[str, Any]) -> None:
    assert {t["text"] for t in report["tokens"]} >= set(HOSTILE)  # all unreachable: they reach every output


def test_html_is_inert(report: dict[str, Any]) -> None:
    page = audit_html(report)
    for raw in RAW_NEVER + ("<b>x", "<b>evil", "<i>doc"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\\x1b[31mRED" in page and "abc&lt;U+202E&gt;evil" in page
    assert "&lt;b&gt;x" in page  # the source path
    assert "default-src &#x27;none&#x27;" in page or "default-src 'none'" in page  # CSP: no scripts, no loads
    assert not re.search(r"<(script|iframe|object|embed|link|img)\b", page, re.I)
    assert (
        "http://" not in page.replace("http://www.w3.org/2000/svg", "")
        and "https://evil" not in page.split("[link=")[0]
    )


def test_html_plots_are_well_formed_svg(report: dict[str, Any]) -> None:
    page = audit_html(report)
    svgs = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(svgs) >= 3
    titles = []
    for svg in svgs:
        root = ET.fromstring(svg)  # raises on broken markup
        titles.append(root.find("{http://www.w3.org/2000/svg}title").text)
    assert "flagged tokens by category" in titles and "token length by script" in titles
    assert "gambling/adult/spam share by token length" in titles and "gambling/adult/spam share by id" in titles


def test_markdown_is_inert(report: dict[str, Any]) -> None:
    md = audit_markdown(report)
    for raw in RAW_NEVER + ("<b>x", "<b>evil"):
        assert raw not in md, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "a\\|b\\`c\\`\\|d" in md  # pipes and backticks escaped
    assert "\\[link=https://evil.example\\]click\\[/link\\]" in md
    for line in md.splitlines():
        if line.startswith("| ") and "a\\|b" in line:  # the pipes in the token do not add columns
            assert len(re.findall(r"(?<!\\)\|", line)) == 9


def test_terminal_is_inert(report: dict[str, Any]) -> None:
    scored = copy.deepcopy(report)  # give the hostile tokens a score, so the top tables show them
    for t in scored["tokens"]:
        if t["text"] in HOSTILE:
            t.update(score=1.0, categories=["spam", *t["categories"]], reasons=[f"spam: lexicon {t['text']}"])
    buf = io.StringIO()
    console = Console(file=buf, width=200, force_terminal=True, color_system="truecolor")
    for item in audit_renderables(scored):
        console.print(item)
    out = buf.getvalue()
    text = re.sub(r"\x1b\[[0-9;]*m", "", out)  # rich's own styling is fine; nothing else may escape
    assert "\x1b" not in text and "\u202e" not in out
    assert "\\x1b[31mRED" in text and "abc<U+202E>evil" in text
    assert "[link=https://evil.example]click[/link]" in text  # shown, not taken as rich markup
    assert "<script>alert(1)</script>" in text  # printable text is harmless on a terminal
    assert "\\x1b[2J" in text
    assert "spam: lexicon \\x1b[31mRED" in text  # reasons are made inert too


def test_escapers() -> None:
    assert inert("a\x1bb\u202ec\\d") == "a\\x1bb<U+202E>c\\d"
    assert md_escape("x|y`z`*_<a>") == "x\\|y\\`z\\`\\*\\_&lt;a&gt;"
    reasons = ["gambling: lexicon 天天中彩票", "gambling: lexicon 彩票", "gambling: classifier 1.00", "special: x y"]
    assert compact_reasons(reasons) == "gambling: lexicon 天天中彩票, 彩票, classifier 1.00; special: x y"
