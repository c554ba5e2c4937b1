"""A self-contained HTML report of a tokenizer audit: tables and inline SVG plots drawn here; no script, no CDN.

Takes the plain report dict (tokenizer.audit.AuditResult.to_dict()). Every string from it is made inert (token texts
with render_token, other strings with reports.render.inert) and then html.escape'd; a Content-Security-Policy meta
tag forbids scripts and remote loads as a second line of defence.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from reports.render import (
    AUDIT_TOKEN_COLUMNS,
    audit_category_script,
    audit_extra_lines,
    audit_longest,
    audit_token_cells,
    audit_top_scoring,
    inert,
)

HTML_MAX_ROWS = 20_000  # flagged-token rows in the page (an --all report of 200k rows would be ~40 MB of HTML)
LENGTH_CAP = 32  # plots put every token of this many characters or more in the last bar
SCRIPTS_PLOTTED = 8  # lines in the length-by-script plot
PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e")
W, H = 720, 260  # plot size in px
PAD_L, PAD_R, PAD_T, PAD_B = 56, 16, 28, 40

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.tok{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all;max-width:28em}
.plots{display:flex;flex-wrap:wrap;gap:1em}.plots svg{border:1px solid #eee;background:#fff}
.muted{color:#666}
"""


def esc(value: object) -> str:
    """An inert string, HTML-escaped (quotes too, so it is safe in attributes)."""
    return html.escape(inert(value), quote=True)


# ------------------------------------------------------------------------------------------------ plots


def _svg(title: str, body: list[str], w: int = W, h: int = H) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">'
        f"<title>{esc(title)}</title>"
        f'<text x="{w / 2:.0f}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{esc(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _axes(y_max: float, y_label: str, percent: bool, x_label: str) -> list[str]:
    out = []
    plot_h = H - PAD_T - PAD_B
    for i in range(5):
        v = y_max * i / 4
        y = H - PAD_B - plot_h * i / 4
        label = f"{100 * v:.0f}%" if percent else f"{v:,.0f}"
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{esc(label)}</text>')
    out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{H - PAD_B}" y2="{H - PAD_B}" stroke="#999"/>')
    out.append(
        f'<text x="12" y="{PAD_T + plot_h / 2:.0f}" font-size="11" transform="rotate(-90 12 {PAD_T + plot_h / 2:.0f})"'
        f' text-anchor="middle">{esc(y_label)}</text>'
    )
    out.append(
        f'<text x="{(PAD_L + W - PAD_R) / 2:.0f}" y="{H - 6}" font-size="11" text-anchor="middle">{esc(x_label)}</text>'
    )
    return out


def _legend(names: Sequence[str]) -> list[str]:
    out = []
    x = PAD_L
    for i, name in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{PAD_T - 6}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14}" y="{PAD_T + 3}" font-size="11">{esc(name)}</text>')
        x += 24 + 7 * len(name)
    return out


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    y_label: str,
    x_label: str,
    percent: bool = False,
) -> str:
    """Vertical bars, one group per label, one bar per series."""
    values = [v for _, vs in series for v in vs]
    y_max = max(values, default=0) or 1.0
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    group = plot_w / max(len(labels), 1)
    bar = group * 0.8 / max(len(series), 1)
    body = _axes(y_max, y_label, percent, x_label)
    every = max(1, len(labels) // 16)
    for i, label in enumerate(labels):
        x0 = PAD_L + i * group + group * 0.1
        for j, (name, vs) in enumerate(series):
            v = vs[i]
            h = plot_h * v / y_max
            shown = f"{100 * v:.2f}%" if percent else f"{v:,.0f}"
            body.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{H - PAD_B - h:.1f}" width="{max(bar - 1, 1):.1f}" height="{h:.1f}"'
                f' fill="{PALETTE[j % len(PALETTE)]}"><title>{esc(f"{label}: {name} {shown}")}</title></rect>'
            )
        if i % every == 0:
            body.append(
                f'<text x="{x0 + group * 0.4:.1f}" y="{H - PAD_B + 13}" font-size="10" '
                f'text-anchor="middle">{esc(label)}</text>'
            )
    if len(series) > 1:
        body += _legend([name for name, _ in series])
    return _svg(title, body)


def hbar_chart(title: str, items: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars with their values, one per item."""
    row = 20
    h = PAD_T + 10 + row * max(len(items), 1)
    v_max = max((v for _, v in items), default=0) or 1.0
    left, plot_w = 120, W - 120 - 80
    body = []
    for i, (label, v) in enumerate(items):
        y = PAD_T + 6 + i * row
        w = plot_w * v / v_max
        body.append(f'<text x="{left - 6}" y="{y + 13}" font-size="11" text-anchor="end">{esc(label)}</text>')
        body.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="{PALETTE[0]}"/>')
        body.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" font-size="11">{esc(f"{v:,.0f}")}</text>')
    return _svg(title, body, W, h)


def line_chart(title: str, xs: Sequence[int], series: Sequence[tuple[str, Sequence[float]]], y_label: str,
               x_label: str, percent: bool = True) -> str:  # fmt: skip
    """One polyline per series over shared x values."""
    values = [v for _, vs in series for v in vs]
    y_max = max(values, default=0) or 1.0
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    step = plot_w / max(len(xs) - 1, 1)
    body = _axes(y_max, y_label, percent, x_label)
    for i, x in enumerate(xs):
        if i % max(1, len(xs) // 16) == 0:
            label = f"{x}+" if x == xs[-1] and x >= LENGTH_CAP else str(x)
            body.append(
                f'<text x="{PAD_L + i * step:.1f}" y="{H - PAD_B + 13}" font-size="10" '
                f'text-anchor="middle">{esc(label)}</text>'
            )
    for j, (name, vs) in enumerate(series):
        pts = " ".join(f"{PAD_L + i * step:.1f},{H - PAD_B - plot_h * v / y_max:.1f}" for i, v in enumerate(vs))
        color = PALETTE[j % len(PALETTE)]
        body.append(
            f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.8">'
            f"<title>{esc(name)}</title></polyline>"
        )
    body += _legend([name for name, _ in series])
    return _svg(title, body)


def audit_plots(report: dict[str, Any]) -> list[str]:
    """SVG plots: category counts, token length by script, flagged share by length and by merge rank."""
    dist = report["distributions"]
    plots = [hbar_chart("flagged tokens by category", list(report["summary"]["by_category"].items()))]
    by_script = dist["length_by_script"]
    top = sorted(by_script, key=lambda s: -sum(by_script[s].values()))[:SCRIPTS_PLOTTED]
    xs = list(range(1, LENGTH_CAP + 1))
    series = []
    for s in top:
        counts = {int(k): v for k, v in by_script[s].items()}
        total = sum(counts.values()) or 1
        capped = [counts.get(x, 0) for x in xs[:-1]] + [sum(v for k, v in counts.items() if k >= LENGTH_CAP)]
        series.append((f"{s} ({total:,})", [c / total for c in capped]))
    if series:
        plots.append(line_chart("token length by script", xs, series, "share of the script's tokens", "characters"))
    rows = dist["flagged_by_length"]
    if rows:  # the content share: any-category shares are dominated by stray bytes and '====' runs
        lengths = sorted({min(r["chars"], LENGTH_CAP) for r in rows})
        agg = {n: [0, 0] for n in lengths}
        for r in rows:
            a = agg[min(r["chars"], LENGTH_CAP)]
            a[0] += r["tokens"]
            a[1] += r["content"]
        labels = [f"{n}+" if n == LENGTH_CAP else str(n) for n in lengths]
        series = [("all scripts", [agg[n][1] / agg[n][0] if agg[n][0] else 0.0 for n in lengths])]
        content = dist.get("content_by_script_length", {})
        if content:  # the script with the most flagged tokens, on its own (Han, for o200k_base)
            script = max(content, key=lambda s: sum(content[s].values()))
            totals, hits = [0] * len(lengths), [0] * len(lengths)
            for k, v in by_script.get(script, {}).items():
                totals[lengths.index(min(int(k), LENGTH_CAP))] += v
            for k, v in content[script].items():
                hits[lengths.index(min(int(k), LENGTH_CAP))] += v
            series.append((f"{script} tokens", [h / t if t else 0.0 for h, t in zip(hits, totals, strict=True)]))
        plots.append(
            bar_chart(
                "gambling/adult/spam share by token length",
                labels,
                series,
                "share of tokens flagged",
                "characters",
                percent=True,
            )
        )
    rank = dist["flagged_by_rank"]
    buckets = [b for b in rank["buckets"] if b["tokens"]]
    if buckets:
        labels = [f"{b['start'] // 1000}k" if rank["bucket_width"] >= 1000 else str(b["start"]) for b in buckets]
        what = rank["rank"].replace("_", " ")
        plots.append(
            bar_chart(
                f"gambling/adult/spam share by {what}",
                labels,
                [("gambling/adult/spam", [b["content"] / b["tokens"] for b in buckets])],
                "share of tokens flagged",
                f"{what} (bucket start: later merges to the right)",
                percent=True,
            )
        )
    return plots


# ------------------------------------------------------------------------------------------------ tables


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool], token_col: int = -1) -> str:
    """An HTML table of cells that are already inert (they are escaped here)."""
    head = "".join(f'<th class="{"n" if n else ""}">{esc(h)}</th>' for h, n in zip(header, numeric, strict=True))
    body = []
    for row in rows:
        cells = []
        for i, (c, n) in enumerate(zip(row, numeric, strict=True)):
            cls = "n" if n else "tok" if i == token_col else ""
            cells.append(f'<td class="{cls}">{html.escape(c, quote=True)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _token_table(report: dict[str, Any], toks: Sequence[dict[str, Any]]) -> str:
    header = list(AUDIT_TOKEN_COLUMNS)
    numeric = [True, False, True, True, False, True, False, False]
    with_corpus = report.get("provenance") is not None
    with_model = report.get("undertrained") is not None
    if with_corpus:
        header += ["corpus count", "top domains", "top documents"]
        numeric += [True, False, False]
    if with_model:
        header += ["norm", "cosine to unused"]
        numeric += [True, True]
    rows = []
    for t in toks:
        cells = audit_token_cells(t)
        if with_corpus:
            cells += [
                f"{t.get('corpus_count', 0):,}",
                inert(", ".join(f"{d['domain']} ({d['count']})" for d in t.get("top_domains", []))),
                inert(", ".join(f"{d['id']} ({d['count']})" for d in t.get("top_documents", []))),
            ]
        if with_model:
            cos = t.get("unused_cosine")
            cells += [f"{t.get('embedding_norm', 0):.3g}", "-" if cos is None else f"{cos:.3f}"]
        rows.append(cells)
    return _table(header, rows, numeric, token_col=1)


def audit_html(report: dict[str, Any], max_rows: int = HTML_MAX_ROWS) -> str:
    """The whole report as one HTML page (UTF-8), openable offline."""
    tok, summary = report["tokenizer"], report["summary"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>sieve audit: {esc(tok['name'])}</title><style>{CSS}</style></head><body>",
        f"<h1>Tokenizer audit: {esc(tok['name'])}</h1>",
        _table(
            ["tokenizer", "format", "ids", "tokens", "source", "sha256"],
            [
                [
                    inert(tok["name"]),
                    inert(tok["format"]),
                    f"{tok['vocab_size']:,}",
                    f"{tok['tokens']:,}",
                    inert(tok["source"]),
                    inert(tok["sha256"]),
                ]
            ],  # fmt: skip
            [False, False, True, True, False, False],
        ),
        f"<p><b>{summary['flagged']:,}</b> of {summary['tokens']:,} tokens flagged; "
        f"<b>{summary['content_flagged']:,}</b> as gambling, adult or spam.</p>",
        '<div class="plots">' + "".join(audit_plots(report)) + "</div>",
        "<h2>Flagged tokens by category and script</h2>",
    ]
    columns, rows = audit_category_script(report)
    parts.append(
        _table(
            ["category", *(inert(c) for c in columns), "total"],
            [[inert(cat), *(f"{n:,}" if n else "-" for n in counts), f"{total:,}"] for cat, counts, total in rows],
            [False] + [True] * (len(columns) + 1),
        )
    )
    for title, toks in (("Longest flagged tokens", audit_longest(report)),
                        ("Highest-scoring flagged tokens", audit_top_scoring(report))):  # fmt: skip
        if toks:
            parts += [f"<h2>{esc(title)}</h2>", _token_table(report, toks)]
    extra = audit_extra_lines(report)
    if extra:
        parts.append("<h2>Corpus, model, comparison and notes</h2><ul>")
        parts += [f"<li>{esc(line.strip())}</li>" for line in extra]
        parts.append("</ul>")
    flagged = sorted((t for t in report["tokens"] if t["categories"]), key=lambda t: (-t["score"], t["id"]))
    parts.append(f"<h2>Flagged tokens ({len(flagged):,})</h2>")
    if len(flagged) > max_rows:
        parts.append(f'<p class="muted">The {max_rows:,} highest-scoring; the JSON report lists all.</p>')
    parts.append(_token_table(report, flagged[:max_rows]))
    parts.append(
        '<p class="muted">Tokens are shown escaped: \\n \\t \\x1b for control characters, &lt;U+202E&gt; for '
        "invisible and bidi characters, &lt;0xAB&gt; for bytes that are not complete UTF-8, ␣ for a space at either "
        "end.</p></body></html>"
    )
    return "\n".join(parts) + "\n"
