"""Terminal tables and Markdown for stage results: curate manifests and tokenizer audits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table


def _pct(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f}%" if total else "-"


def curate_rows(manifest: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(what, documents, share of input) rows: kept, each rejection reason, each quarantine error, total."""
    total = manifest["documents_in"]
    rows = [("kept", manifest["kept"], _pct(manifest["kept"], total))]
    for reason, n in sorted(manifest["rejected"].items(), key=lambda kv: -kv[1]):
        rows.append((f"rejected: {reason}", n, _pct(n, total)))
    for error, n in sorted(manifest["quarantined_by_error"].items(), key=lambda kv: -kv[1]):
        rows.append((f"quarantined: {error}", n, _pct(n, total)))
    rows.append(("documents in", total, "100.0%" if total else "-"))
    return rows


def curate_table(manifest: dict[str, Any]) -> Table:
    """A rich table summarising a curate run."""
    table = Table(title="sieve curate", show_footer=False)
    table.add_column("outcome")
    table.add_column("documents", justify="right")
    table.add_column("share", justify="right")
    rows = curate_rows(manifest)
    for i, (what, n, share) in enumerate(rows):
        style = "bold" if i in (0, len(rows) - 1) else None
        table.add_row(what, f"{n:,}", share, style=style, end_section=i == len(rows) - 2)
    return table


def curate_markdown(manifest: dict[str, Any]) -> str:
    """A Markdown summary of a curate run."""
    lines = ["| outcome | documents | share |", "|---|---:|---:|"]
    lines += [f"| {what} | {n:,} | {share} |" for what, n, share in curate_rows(manifest)]
    d = manifest.get("dedup", {})
    if d:
        lines.append("")
        lines.append(
            f"Near-duplicate clusters: {d.get('clusters', 0):,}; exact duplicates: {d.get('exact_duplicates', 0):,}."
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ tokenizer audit
# Every string from a report is made inert before it is shown: token texts with render_token (control, bidi and
# escape characters become visible escapes, edge spaces ␣), other strings (reasons, names, paths) with inert(); then
# rich Text (no markup is parsed) in the terminal, or md_escape / html.escape in files.

AUDIT_TOP_ROWS = 15  # rows in the longest / highest-scoring tables
AUDIT_MARKDOWN_ROWS = 500  # flagged tokens listed in Markdown; the JSON lists them all
AUDIT_SCRIPT_COLUMNS = 8  # scripts shown as columns of the category x script table; the rest are summed as `other`


def token_text(value: object) -> str:
    """A token's text made safe and readable on one line (tokenizer.vocab.render_token)."""
    from tokenizer.vocab import render_token

    return render_token(str(value))


def inert(value: object) -> str:
    """Any other string made safe: control, invisible and bidi characters escaped; backslashes left alone, so
    text that already holds rendered tokens (reasons) is not escaped twice."""
    from tokenizer.vocab import _HIDDEN, render_token

    s = str(value)
    if s.isprintable() and not _HIDDEN.search(s):
        return s
    return "".join(c if c.isprintable() and not _HIDDEN.match(c) else render_token(c) for c in s)


def md_escape(text: str) -> str:
    """An inert string made literal in Markdown: HTML-escaped, and Markdown's special characters backslashed."""
    import html
    import re

    return re.sub(r"([\\`*_\[\]|~#!{}])", r"\\\1", html.escape(text, quote=False))


def audit_category_script(report: dict[str, Any]) -> tuple[list[str], list[tuple[str, list[int], int]]]:
    """(scripts shown as columns, rows of (category, counts per column, total)); scripts past the first
    AUDIT_SCRIPT_COLUMNS (by flagged count) are summed in a last `other` column."""
    summary = report["summary"]
    scripts = list(summary["by_script"])
    shown = scripts[:AUDIT_SCRIPT_COLUMNS]
    rows = []
    for cat, total in summary["by_category"].items():
        per = summary["by_category_script"].get(cat, {})
        counts = [per.get(s, 0) for s in shown]
        if len(scripts) > len(shown):
            counts.append(sum(n for s, n in per.items() if s not in shown))
        rows.append((cat, counts, total))
    columns = shown + (["other"] if len(scripts) > len(shown) else [])
    return columns, rows


def audit_longest(report: dict[str, Any], n: int = AUDIT_TOP_ROWS) -> list[dict[str, Any]]:
    """The longest flagged tokens (in bytes): content-flagged ones if any, else any flagged ordinary token."""
    from tokenizer.audit import CONTENT_CATEGORIES

    flagged = [t for t in report["tokens"] if t["categories"] and not t["special"]]
    content = [t for t in flagged if set(CONTENT_CATEGORIES) & set(t["categories"])]
    return sorted(content or flagged, key=lambda t: (-t["bytes"], t["id"]))[:n]


def audit_top_scoring(report: dict[str, Any], n: int = AUDIT_TOP_ROWS) -> list[dict[str, Any]]:
    """The highest-scoring flagged tokens (spam or under-trained evidence), longer first among equals."""
    scored = [t for t in report["tokens"] if t["score"] > 0 and t["categories"]]
    return sorted(scored, key=lambda t: (-t["score"], -t["chars"], t["id"]))[:n]


def compact_reasons(reasons: list[str]) -> str:
    """Reasons grouped by category and source: `gambling: lexicon 天天中彩票, 彩票, classifier 1.00; control: ...`."""
    groups: dict[str, dict[str, list[str]]] = {}
    for r in reasons:
        cat, _, rest = r.partition(": ")
        source, _, detail = rest.partition(" ")
        groups.setdefault(cat, {}).setdefault(source, []).append(detail)
    return "; ".join(
        f"{cat}: "
        + ", ".join(f"{source} {', '.join(d for d in details if d)}".strip() for source, details in by.items())
        for cat, by in groups.items()
    )


def audit_token_cells(t: dict[str, Any]) -> list[str]:
    """Inert cells of one token row: id, token, chars, bytes, script, score, categories, reasons (compacted)."""
    return [
        str(t["id"]),
        token_text(t["text"]),
        str(t["chars"]),
        str(t["bytes"]),
        inert(t["script"]),
        f"{t['score']:.2f}",
        inert(", ".join(t["categories"])),
        inert(compact_reasons(t["reasons"])),
    ]


AUDIT_TOKEN_COLUMNS = ("id", "token", "chars", "bytes", "script", "score", "categories", "reasons")


def audit_renderables(report: dict[str, Any]) -> list[Any]:
    """The terminal summary of an audit report (AuditResult.to_dict()): rich Text and Tables, no markup parsed."""
    from rich.text import Text

    tok, summary = report["tokenizer"], report["summary"]
    out: list[Any] = [
        Text(
            f"sieve audit: {inert(tok['name'])} ({inert(tok['format'])}, {tok['vocab_size']:,} ids) "
            f"from {inert(tok['source'])}"
        ),
        Text(
            f"{summary['flagged']:,} of {summary['tokens']:,} tokens flagged; "
            f"{summary['content_flagged']:,} as gambling/adult/spam"
        ),
    ]
    columns, rows = audit_category_script(report)
    table = Table(title="flagged tokens by category and script")
    table.add_column("category", no_wrap=True)
    for c in columns:
        table.add_column(Text(inert(c)), justify="right", no_wrap=True)
    table.add_column("total", justify="right", style="bold")
    for cat, counts, total in rows:
        table.add_row(Text(inert(cat)), *(Text(f"{n:,}" if n else "-") for n in counts), Text(f"{total:,}"))
    out.append(table)
    for title, toks in (
        ("longest flagged tokens", audit_longest(report)),
        ("highest-scoring flagged tokens", audit_top_scoring(report)),
    ):
        if toks:
            t = Table(title=title)
            for col in AUDIT_TOKEN_COLUMNS:
                right = col in ("id", "chars", "bytes", "score")
                wide = col in ("token", "reasons")
                t.add_column(
                    col,
                    justify="right" if right else "left",
                    overflow="fold" if wide else "ellipsis",
                    no_wrap=not wide,
                    ratio=2 if col == "reasons" else 1 if col == "token" else None,
                )
            for r in toks:
                t.add_row(*(Text(c) for c in audit_token_cells(r)))
            out.append(t)
    out.extend(Text(line) for line in audit_extra_lines(report))
    return out


def audit_extra_lines(report: dict[str, Any]) -> list[str]:
    """Inert lines on provenance, under-training, comparison, and the notes."""
    lines: list[str] = []
    prov = report.get("provenance")
    if prov:
        lines.append(
            f"corpus: {prov['documents']:,} documents, {prov['tokens']:,} tokens; {prov['flagged_seen']:,} flagged "
            f"tokens occur, {len(prov['flagged_never_seen']):,} never; {prov['never_seen']:,} of "
            f"{prov['ordinary_tokens']:,} ordinary tokens never occur"
        )
        seen = [t for t in report["tokens"] if t.get("corpus_count") and t["categories"] and not t["special"]]
        for t in sorted(seen, key=lambda t: (-t["corpus_count"], t["id"]))[:5]:
            domains = ", ".join(f"{inert(d['domain'])} ({d['count']:,})" for d in t["top_domains"][:3])
            lines.append(
                f"  {token_text(t['text'])} ({inert(', '.join(t['categories']))}): {t['corpus_count']:,} times in "
                f"{t['corpus_documents']:,} documents" + (f"; top domains {domains}" if domains else "")
            )
    under = report.get("undertrained")
    if under:
        lines.append(
            f"model: tensor {inert(under['tensor'])} {under['shape']} {inert(under['dtype'])}: {under['flagged']:,} "
            f"tokens look under-trained ({inert(under['method'])}, threshold {under['threshold']:.3g}, "
            f"{under['reference_tokens']:,} known-unused tokens as reference)"
        )
    cmp = report.get("compare")
    if cmp:
        c = cmp["counts"]
        lines.append(
            f"compare with {inert(cmp['other']['name'])} ({inert('/'.join(cmp['categories']))}): {c['shared']:,} "
            f"flagged in both, {c['only_this']:,} only here, {c['only_other']:,} only there"
        )
        for key, label in (("shared", "both"), ("only_this", "only here"), ("only_other", "only there")):
            for e in cmp[key][:5]:
                here = "not in vocab" if e["id"] is None else f"id {e['id']}"
                there = "not in vocab" if e["other_id"] is None else f"id {e['other_id']}"
                lines.append(f"  {label}: {token_text(e['text'])} (here {here}, there {there})")
    lines.extend(f"note: {inert(n)}" for n in report.get("notes", []))
    return lines


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(md_escape(c) for c in cells) + " |"


def audit_markdown(report: dict[str, Any], max_rows: int = AUDIT_MARKDOWN_ROWS) -> str:
    """A Markdown report of an audit: summary, category x script, top tokens, flagged tokens (first max_rows)."""
    tok, summary = report["tokenizer"], report["summary"]
    lines = [
        f"# Tokenizer audit: {md_escape(inert(tok['name']))}",
        "",
        _md_row(["tokenizer", "format", "ids", "tokens", "sha256"]),
        "|---|---|---:|---:|---|",
        _md_row(
            [
                inert(tok["name"]),
                inert(tok["format"]),
                f"{tok['vocab_size']:,}",
                f"{tok['tokens']:,}",
                inert(tok["sha256"][:16]),
            ]
        ),  # fmt: skip
        "",
        f"Source: {md_escape(inert(tok['source']))}",
        "",
        f"**{summary['flagged']:,}** of {summary['tokens']:,} tokens flagged; "
        f"**{summary['content_flagged']:,}** as gambling, adult or spam.",
        "",
        "## Flagged tokens by category and script",
        "",
    ]
    columns, rows = audit_category_script(report)
    lines.append(_md_row(["category", *(inert(c) for c in columns), "total"]))
    lines.append("|---|" + "---:|" * (len(columns) + 1))
    lines += [
        _md_row([inert(cat), *(f"{n:,}" if n else "-" for n in counts), f"{total:,}"]) for cat, counts, total in rows
    ]
    header = _md_row(list(AUDIT_TOKEN_COLUMNS))
    align = "|---:|---|---:|---:|---|---:|---|---|"
    for title, toks in (("Longest flagged tokens", audit_longest(report)),
                        ("Highest-scoring flagged tokens", audit_top_scoring(report))):  # fmt: skip
        if toks:
            lines += ["", f"## {title}", "", header, align, *(_md_row(audit_token_cells(t)) for t in toks)]
    flagged = sorted((t for t in report["tokens"] if t["categories"]), key=lambda t: (-t["score"], t["id"]))
    lines += ["", "## Flagged tokens", ""]
    if len(flagged) > max_rows:
        lines += [f"The {max_rows:,} highest-scoring of {len(flagged):,}; the JSON report lists them all.", ""]
    lines += [header, align, *(_md_row(audit_token_cells(t)) for t in flagged[:max_rows])]
    extra = audit_extra_lines(report)
    if extra:
        lines += ["", "## Corpus, model, comparison and notes", ""]
        lines += [f"- {md_escape(line.strip())}" for line in extra]
    return "\n".join(lines) + "\n"


def write_audit_reports(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write audit.json, audit.md and audit.html into out_dir (atomically); returns their paths by format."""
    from curation.io import atomic_write_bytes
    from reports.html import audit_html

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "audit.json", "markdown": out_dir / "audit.md", "html": out_dir / "audit.html"}
    atomic_write_bytes(paths["json"], (json.dumps(report, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    atomic_write_bytes(paths["markdown"], audit_markdown(report).encode("utf-8"))
    atomic_write_bytes(paths["html"], audit_html(report).encode("utf-8"))
    return paths
