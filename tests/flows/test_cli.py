"""The `sieve` command: exit codes, messages a person can act on, flags that reach the config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main
from tests.conftest import write_jsonl


def test_curate_prints_summary_and_writes_outputs(tiny_corpus: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["curate", str(tiny_corpus), "--out", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "rejected: dup_minhash" in printed and "documents in" in printed
    assert json.loads((out / "manifest.json").read_text())["kept"] == 4


def test_curate_json_and_flags_reach_config(tiny_corpus: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["curate", str(tiny_corpus), "--out", str(out), "--json", "--no-near", "--languages", "all"]
    argv += ["--no-filter", "quality", "--bands", "16", "--rows-per-band", "4"]
    assert main(argv) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["config"]["dedup"]["near"] is False
    assert m["config"]["dedup"]["num_perm"] == 64
    assert m["config"]["filters"]["language"]["languages"] == []
    assert m["config"]["filters"]["quality"]["enabled"] is False
    assert "dup_minhash" not in m["rejected"]


def test_min_jaccard_flag_turns_down_candidates_below_it(tiny_corpus: Path, tmp_path: Path, capsys) -> None:
    argv = ["curate", str(tiny_corpus), "--out", str(tmp_path / "o"), "--json", "--min-jaccard", "1"]
    assert main(argv) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["config"]["dedup"]["min_jaccard"] == 1.0
    assert m["dedup"]["candidate_edges_below_min_jaccard"] == m["dedup"]["candidate_edges"] == 2
    assert "dup_minhash" not in m["rejected"]  # the planted near duplicates are not exact copies


def test_config_file_then_flags(tiny_corpus: Path, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"shard_rows": 2, "dedup": {"near": False}}))
    assert main(["curate", str(tiny_corpus), "--out", str(tmp_path / "o"), "--config", str(cfg), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["config"]["shard_rows"] == 2 and m["config"]["dedup"]["near"] is False
    cfg.write_text(json.dumps({"shard_rowz": 2}))
    assert main(["curate", str(tiny_corpus), "--out", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "unknown CurateConfig field(s) ['shard_rowz']" in capsys.readouterr().err
    cfg.write_text(json.dumps([1, 2]))
    assert main(["curate", str(tiny_corpus), "--out", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "a CurateConfig is a JSON object of its fields, got list [1, 2]" in capsys.readouterr().err
    cfg.write_text(json.dumps({"dedup": 5}))
    assert main(["curate", str(tiny_corpus), "--out", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "CurateConfig.dedup is an object of DedupConfig fields, got 5" in capsys.readouterr().err


def test_missing_text_column_is_exit_2_with_the_fix(tmp_path: Path, capsys) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"content": "x", "url": "u"}])
    assert main(["curate", str(tmp_path / "a.jsonl"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no column `text`" in err and "[content, url]" in err and "--text-column content" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["curate", "nope.jsonl", "--out", "o"], "does not exist"),
        (["curate", ".", "--out", "o", "--bands", "0"], "DedupConfig.bands = 0 is outside the allowed range"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_console_script_runs(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "flows.cli", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("sieve ")
    r = subprocess.run([sys.executable, "-m", "flows.cli", "curate"], capture_output=True, text=True)
    assert r.returncode == 2 and "--out" in r.stderr


def test_filter_eval_on_a_labelled_file(tmp_path: Path, capsys) -> None:
    from tests.conftest import EN_A, ZH_A

    spam = "时时彩 北京赛车 开户送彩金 注册送38元 首存返水 提现秒到账 加微信 abc123 澳门葡京 百家乐 真人娱乐 " * 3
    write_jsonl(
        tmp_path / "l.jsonl",
        [
            {"text": ZH_A, "label": "clean", "source": "news"},
            {"text": EN_A, "label": "clean", "source": "english"},
            {"text": spam, "label": "gambling"},
        ],
    )
    out = tmp_path / "m.json"
    assert main(["filter", "eval", str(tmp_path / "l.jsonl"), "--json", str(out)]) == 0
    m = json.loads(out.read_text())
    assert m["per_category"]["gambling"]["recall"] == 1.0
    assert m["clean_false_positives"]["false_positives"] == 0
    assert "gambling" in capsys.readouterr().out


def test_classifier_train_then_curate_with_it(tmp_path: Path, tiny_corpus: Path, capsys) -> None:
    from tests.conftest import EN_A, EN_B, ZH_A, ZH_B

    recs = []
    for i in range(40):
        recs.append({"text": f"{ZH_A} {i}", "label": "clean"})
        recs.append({"text": f"{EN_B} {ZH_B} {i}", "label": "clean"})
        recs.append({"text": f"时时彩 北京赛车 开户送彩金 注册送{i}元 首存返水 百家乐", "label": "gambling"})
        recs.append({"text": f"无码 高清 在线观看 国产精品 久久 第{i}集 成人视频", "label": "adult"})
        recs.append({"text": f"加微信 abc{i} 代开发票 兼职日结 刷单 日赚 点击这里", "label": "spam"})
    write_jsonl(tmp_path / "train.jsonl", recs)
    model = tmp_path / "m.bin"
    assert main(["classifier", "train", str(tmp_path / "train.jsonl"), "--out", str(model)]) == 0
    assert model.is_file()
    write_jsonl(tmp_path / "bad.jsonl", [*recs[:4], {"text": "x", "label": "casino"}])
    assert main(["classifier", "train", str(tmp_path / "bad.jsonl"), "--out", str(tmp_path / "bad.bin")]) == 2
    assert "bad.jsonl:5: unknown label 'casino'" in capsys.readouterr().err
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"filters": {"classifier": {"model_path": str(model)}}}))
    assert main(["curate", str(tiny_corpus), "--out", str(tmp_path / "o"), "--config", str(cfg), "-q"]) == 0
    assert EN_A  # the tiny corpus stays clean under this model
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert not any(r.endswith("_classifier") for r in m["rejected"])


def test_serve_without_a_server_says_how_to_start_one(capsys, monkeypatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(["serve", "data/landing", "--out", "data/out"]) == 2
    assert "prefect server start" in capsys.readouterr().err
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api")
    assert main(["serve", "data/landing", "--out", "data/out"]) == 2
    err = capsys.readouterr().err
    assert f"no Prefect server answers at PREFECT_API_URL=http://127.0.0.1:{port}/api" in err and "Traceback" not in err


def test_pipeline_config_file_round_trips_nested_and_optional_sections(tmp_path: Path) -> None:
    from curation.config import from_dict, to_dict
    from flows.pipeline import PipelineConfig
    from train.trainer import TrainConfig

    data = to_dict(PipelineConfig())
    data["train"]["max_steps"] = 7
    data["bpe"]["vocab_size"] = 1000
    cfg = from_dict(PipelineConfig, data)
    assert isinstance(cfg.train, TrainConfig) and cfg.train.max_steps == 7 and cfg.bpe.vocab_size == 1000
    assert from_dict(PipelineConfig, {**data, "train": None}).train is None


def test_tables_written_to_a_pipe_are_wide_enough_for_tokens(monkeypatch) -> None:
    from flows.cli import PIPED_WIDTH, stdout_console

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert stdout_console().width == PIPED_WIDTH
    monkeypatch.setenv("COLUMNS", "90")
    assert stdout_console().width == 90


def test_run_logs_keep_tracebacks_only_for_unexpected_errors() -> None:
    import logging

    from curation.io import InputError
    from flows.cli import _no_traceback_for_user_errors

    def record(exc: Exception) -> logging.LogRecord:
        try:
            raise exc
        except Exception:
            return logging.LogRecord("prefect.task_runs", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())

    user, bug = record(InputError("tokenize more text")), record(RuntimeError("a bug"))
    assert _no_traceback_for_user_errors(user) and user.exc_info is None
    assert _no_traceback_for_user_errors(bug) and bug.exc_info is not None


def test_an_unreachable_dask_scheduler_is_one_clear_error() -> None:
    from curation.io import InputError
    from flows.cli import _check_dask_scheduler

    with pytest.raises(InputError, match=r"no Dask scheduler answers at --dask-address tcp://127.0.0.1:1 within 1 s"):
        _check_dask_scheduler("tcp://127.0.0.1:1", timeout_s=1)
