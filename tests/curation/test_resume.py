"""Kill and resume: a curate run killed with SIGKILL anywhere, then rerun, gives the uninterrupted output."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EN_A, ZH_A

pytestmark = pytest.mark.slow


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def make_corpus(root: Path) -> Path:
    rnd = random.Random(7)
    words = EN_A.split()
    chars = list(ZH_A)
    d = root / "corpus"
    d.mkdir()
    for f in range(24):
        with open(d / f"part-{f:03d}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(250):
                if i % 2:
                    text = " ".join(rnd.choice(words) for _ in range(80))
                else:
                    text = "".join(rnd.choice(chars) for _ in range(150))
                if i % 17 == 0:
                    fh.write("{broken json\n")
                fh.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    return d


def run(corpus: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "curate", str(corpus), "--out", str(out), "-q", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


def test_sigkill_at_several_points_then_rerun_gives_identical_output(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    ref = tmp_path / "ref"
    t0 = time.monotonic()
    assert run(corpus, ref).wait() == 0
    duration = time.monotonic() - t0
    expected = snapshot(ref)
    m = json.loads((ref / "manifest.json").read_text())
    assert m["documents_in"] == m["kept"] + m["rejected_total"] + m["quarantined"]

    # Kill points by what the run has written so far, so they fall in every step whatever the machine's speed.
    points = {
        "mid-read": lambda w: (w / "ingest" / "part-00005.json").exists(),
        "after exact dedup": lambda w: (w / "drops" / "exact.parquet").exists(),
        "mid-signatures": lambda w: any((w / "signatures").glob("part-*.parquet")),
        "after lsh edges": lambda w: (w / "edges.parquet").exists(),
        "mid-write": lambda w: (w / "final" / "kept").exists(),
    }
    killed = 0
    for n, (name, reached) in enumerate(points.items()):
        out = tmp_path / f"out{n}"
        p = run(corpus, out)
        while p.poll() is None and not reached(out / "_work"):
            time.sleep(0.002)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        p.wait()
        assert not list(out.glob("*/part-*.parquet.tmp")), "a part under its final name was half written"
        if n == 0:  # kill the resumed run too, once
            p = run(corpus, out)
            time.sleep(duration * 0.3)
            p.send_signal(signal.SIGKILL)
            p.wait()
        p = run(corpus, out)
        assert p.wait() == 0, p.stderr.read().decode() if p.stderr else ""
        assert snapshot(out) == expected, f"output differs after a kill {name}"
    assert killed >= 4, f"only {killed} of {len(points)} kill points were reached before the run ended"
