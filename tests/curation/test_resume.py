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

    out = tmp_path / "out"
    killed = 0
    for fraction in (0.35, 0.55, 0.7, 0.85, 0.95):
        p = run(corpus, out)
        time.sleep(duration * fraction)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        p.wait()
        assert not [f for f in out.glob("kept/*.parquet") if f.name.endswith(".tmp")]
    assert killed >= 3, "the run finished before most kill points; make the corpus larger"
    p = run(corpus, out)
    assert p.wait() == 0, p.stderr.read().decode() if p.stderr else ""
    assert snapshot(out) == expected
