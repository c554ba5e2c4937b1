"""Terminal tables and Markdown for stage results (curate manifests so far)."""

from __future__ import annotations

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
