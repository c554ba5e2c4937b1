"""`sieve audit` and `sieve tokenizer train` end to end: reports, gate exit codes, bad inputs exit 2 with a message."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from tests.tokenizer.conftest import CONTENT, HOSTILE, run_sieve, write_hf_tokenizer, write_parquet, write_tiktoken
from tokenizer.undertrained import write_safetensors


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def test_audit_writes_every_report(hostile_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reports"
    code, stdout, _ = run_sieve(
        [
            "audit",
            str(hostile_json),
            "--json",
            str(out / "a.json"),
            "--markdown",
            str(out / "a.md"),
            "--html",
            str(out / "a.html"),
        ],  # fmt: skip
        capsys,
    )
    assert code == 0
    report = json.loads((out / "a.json").read_text(encoding="utf-8"))
    assert report["tokenizer"]["source"] == str(hostile_json)
    assert {t["text"] for t in report["tokens"]} >= set(HOSTILE + CONTENT)
    assert (out / "a.md").read_text(encoding="utf-8").startswith("# Tokenizer audit:")
    assert (out / "a.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "flagged tokens by category and script" in stdout and f"json: {out / 'a.json'}" in stdout


def test_all_lists_every_token(hostile_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run_sieve(["audit", str(hostile_json), "--all", "--json", str(tmp_path / "a.json")], capsys)
    assert code == 0
    report = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert len(report["tokens"]) == 256 + len(HOSTILE + CONTENT) + 1
    assert report["config"]["include_all"] is True


@pytest.mark.parametrize(("max_flagged", "code"), [(0, 1), (1, 1), (2, 0), (5, 0)])
def test_gate_exit_codes(hostile_json: Path, max_flagged: int, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    """Two content tokens: ' 天天中彩票' (gambling) and '人妻' (adult)."""
    argv = ["audit", str(hostile_json), "--fail-on", "gambling,adult", "--max-flagged", str(max_flagged)]
    got, stdout, _ = run_sieve(argv, capsys)
    assert got == code
    assert f"2 tokens flagged gambling,adult (allowed {max_flagged})" in stdout
    assert ("gate FAIL" in stdout) == (code == 1)


def test_gate_on_one_category(hostile_json: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_sieve(["audit", str(hostile_json), "--fail-on", "adult", "--max-flagged", "1"], capsys)
    assert code == 0 and "1 tokens flagged adult" in stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "X", "--fail-on", "gambling,porn"],
        ["audit", "X", "--max-flagged", "many"],
        ["audit"],
        ["tokenizer", "train", "x.parquet"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_sieve(argv, capsys)
    assert code == 2 and "usage:" in err


def _truncated_json(tmp_path: Path, hostile_json: Path) -> Path:
    data = hostile_json.read_bytes()
    path = tmp_path / "cut" / "tokenizer.json"
    path.parent.mkdir()
    path.write_bytes(data[: len(data) // 2])
    return path


def _truncated_tiktoken(tmp_path: Path, hostile_json: Path) -> Path:
    path = write_tiktoken(tmp_path / "t.tiktoken", HOSTILE)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 7])  # ends mid-line
    return path


def _corrupt_gzip(tmp_path: Path, hostile_json: Path) -> Path:
    data = gzip.compress(write_tiktoken(tmp_path / "t.tiktoken", HOSTILE).read_bytes())
    path = tmp_path / "t.tiktoken.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_truncated_json, "invalid JSON at line"),
        (_truncated_tiktoken, "truncated?"),
        (_corrupt_gzip, "corrupt or truncated gzip data"),
    ],
)
def test_broken_tokenizer_files_exit_2(
    make, message: str, hostile_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path, hostile_json)
    code, stdout, err = run_sieve(["audit", str(path)], capsys)
    assert code == 2 and stdout == ""
    assert err.startswith("error: ") and err.count("\n") == 1  # one line, however long
    assert str(path) in err and message in err


def test_unknown_tokenizer_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_sieve(["audit", "no-such-tokenizer"], capsys)
    flat = " ".join(err.split())
    assert code == 2 and "no file no-such-tokenizer and no known tokenizer of that name" in flat
    assert "o200k_base" in flat


def test_missing_and_broken_inputs_exit_2(hostile_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_sieve(["audit", str(hostile_json), "--model", str(tmp_path / "none.safetensors")], capsys)
    assert code == 2 and "no checkpoint file" in err
    cut = tmp_path / "cut.safetensors"
    write_safetensors(cut, {"wte": np.zeros((300, 4), np.float32)})
    cut.write_bytes(cut.read_bytes()[:100])
    code, _, err = run_sieve(["audit", str(hostile_json), "--model", str(cut)], capsys)
    assert code == 2 and "truncated" in " ".join(err.split())
    code, _, err = run_sieve(["audit", str(hostile_json), "--corpus", str(tmp_path / "none")], capsys)
    assert code == 2 and "no corpus file or folder" in " ".join(err.split())
    bad = write_parquet(tmp_path / "bad.parquet", [{"body": "x"}])
    code, _, err = run_sieve(["audit", str(hostile_json), "--corpus", str(bad)], capsys)
    assert code == 2 and "no column `text`" in " ".join(err.split())
    code, _, err = run_sieve(["audit", str(hostile_json), "--json", str(hostile_json / "x.json")], capsys)
    assert code == 2 and "error:" in err  # a report path under a file


def test_compare(hostile_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = write_hf_tokenizer(tmp_path / "other" / "tokenizer.json", (" 天天中彩票", " 百家乐"))
    code, stdout, _ = run_sieve(
        ["audit", str(hostile_json), "--compare", str(other), "--json", str(tmp_path / "a.json")], capsys
    )
    assert code == 0
    cmp = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))["compare"]
    assert cmp["counts"] == {"shared": 1, "only_this": 1, "only_other": 1}
    assert cmp["other"]["source"] == str(other)
    assert "1 flagged in both, 1 only here, 1 only there" in " ".join(stdout.split())


def test_corpus_and_model(small_corpus: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    tok = small_corpus["tokenizer"]
    rows = 2000 + 8
    e = np.random.default_rng(0).standard_normal((rows, 16)).astype(np.float32)
    e[2000:] = e[1234] = 0.3  # padding rows, never trained, and one ordinary token like them
    model = tmp_path / "m.safetensors"
    write_safetensors(model, {"transformer.wte.weight": e})
    code, stdout, _ = run_sieve(
        [
            "audit",
            str(tok),
            "--corpus",
            str(small_corpus["raw"]),
            "--model",
            str(model),
            "--json",
            str(tmp_path / "a.json"),
            "--html",
            str(tmp_path / "a.html"),
        ],  # fmt: skip
        capsys,
    )
    assert code == 0
    report = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert report["provenance"]["documents"] == 500
    assert report["undertrained"]["tensor"] == "transformer.wte.weight"
    assert [t["id"] for t in report["tokens"] if "undertrained" in t["categories"]] == [1234]
    assert "corpus: 500 documents" in stdout and "model: tensor transformer.wte.weight" in stdout
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "corpus count" in page and "cosine to unused" in page


def test_tokenizer_train(small_corpus: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "tok"
    code, stdout, _ = run_sieve(
        [
            "tokenizer",
            "train",
            str(small_corpus["news"]),
            "--vocab-size",
            "400",
            "--out",
            str(out),
            "--max-token-length",
            "8",
            "--special-tokens",
            "<|endoftext|>",
            "<|pad|>",
        ],  # fmt: skip
        capsys,
    )
    assert code == 0 and "trained 400 tokens" in stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["max_token_length"] == 8 and manifest["config"]["special_tokens"] == [
        "<|endoftext|>",
        "<|pad|>",
    ]
    code, _, err = run_sieve(["tokenizer", "train", str(tmp_path / "none"), "--vocab-size", "400", "--out",
                              str(out)], capsys)  # fmt: skip
    assert code == 2 and "no such file or folder" in err
    code, _, err = run_sieve(
        ["tokenizer", "train", str(small_corpus["news"]), "--vocab-size", "10", "--out", str(out)], capsys
    )
    assert code == 2 and "vocab_size" in err


@pytest.mark.parametrize("name", ["mistral-v3", "mistral-tekken"])
@pytest.mark.parametrize("cut", [0.5, 0.999])
def test_truncated_sentencepiece_and_tekken_files_exit_2(
    name: str, cut: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokenizer.vocab import load_vocab

    src = Path(load_vocab(name).source)
    data = src.read_bytes()
    path = tmp_path / ("broken.model" if name == "mistral-v3" else "broken.json")
    path.write_bytes(data[: int(len(data) * cut)])
    code, stdout, err = run_sieve(["audit", str(path)], capsys)
    assert code == 2 and stdout == ""
    assert err.startswith("error: ") and str(path) in err
