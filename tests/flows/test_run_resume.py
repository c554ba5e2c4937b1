"""`sieve run` killed with SIGKILL mid-pipeline and started again ends with the uninterrupted run's output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def corpus(root: Path) -> Path:
    from curation.classifier import people_daily_paragraphs
    from curation.spam_corpus import spam_documents

    d = root / "in"
    d.mkdir()
    texts = people_daily_paragraphs()[:600] + spam_documents("adult", 100, 5)
    for f in range(6):
        with open(d / f"p{f}.jsonl", "w", encoding="utf-8") as fh:
            for t in texts[f::6]:
                fh.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    return d


def run(inputs: Path, out: Path, home: Path) -> subprocess.Popen:
    env = dict(os.environ, PREFECT_HOME=str(home), PYTHONHASHSEED="0")
    env.pop("PREFECT_API_URL", None)
    cmd = [sys.executable, "-m", "flows.cli", "-q", "run", str(inputs), "--out", str(out), "--vocab-size", "1200"]
    # its own process group, so that the kill below takes its children too (the temporary Prefect server, workers),
    # as a machine that dies would; otherwise they outlive the test
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)


def outputs(out: Path) -> dict[str, object]:
    files = sorted(p for p in (out / "curated").rglob("*") if p.is_file())
    got: dict[str, object] = {p.relative_to(out).as_posix(): p.read_bytes() for p in files}
    for tok in ("tokenizer", "tokenizer-raw"):
        got[f"{tok}/tokenizer.json"] = (out / tok / "tokenizer.json").read_bytes()
    for audit in ("audit", "audit-raw"):
        report = json.loads((out / audit / "audit.json").read_text())
        got[audit] = (report["summary"], [t["id"] for t in report["tokens"]])
    return got


def test_sieve_run_killed_mid_curate_then_rerun(tmp_path: Path) -> None:
    inputs = corpus(tmp_path)
    ref = tmp_path / "ref"
    assert run(inputs, ref, tmp_path / "home").wait() == 0
    expected = outputs(ref)

    out = tmp_path / "out"
    p = run(inputs, out, tmp_path / "home")
    deadline = time.monotonic() + 300
    while p.poll() is None and not (out / "curated" / "_work" / "ingest" / "part-00002.json").exists():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    killed = p.poll() is None
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert killed, "the run ended before the kill point"
    p = run(inputs, out, tmp_path / "home")
    assert p.wait() == 0, p.stderr.read().decode() if p.stderr else ""
    assert outputs(out) == expected
