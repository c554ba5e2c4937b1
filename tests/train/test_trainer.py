"""The trainer on CPU: loss falls on a tiny corpus; resume from a checkpoint gives the uninterrupted next loss."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from curation.config import ConfigError
from curation.io import InputError
from tests.train.test_shards import corpus  # noqa: F401 - the shared fixture
from train.shards import TokenizeConfig, tokenize_shards
from train.trainer import TIMING_WARMUP_STEPS, TrainConfig, lr_at, train

TINY = TrainConfig(
    n_layer=2, n_head=2, n_embd=32, seq_len=32, batch_size=4, max_steps=60, lr=3e-3, min_lr=3e-4, warmup_steps=5,
    eval_interval_steps=20, eval_batches=2, eval_fraction=0.1, checkpoint_interval_steps=20, seed=3,
)  # fmt: skip


@pytest.fixture(scope="module")
def tokens(corpus: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    kept, tok = corpus
    out = tmp_path_factory.mktemp("tokens")
    tokenize_shards([kept], tok, out, TokenizeConfig())
    return out


def test_loss_falls_and_outputs_are_written(tokens: Path, tmp_path: Path) -> None:
    s = train(tokens, tmp_path / "run", TINY)
    hist = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    first = sum(h["loss"] for h in hist[:5]) / 5
    last = sum(h["loss"] for h in hist[-5:]) / 5
    assert last < first - 0.8, (first, last)  # from ~ln(300) = 5.7 nats
    assert s["eval"]["loss"] is not None and 0 < s["eval"]["bpb"] < 10
    assert (tmp_path / "run" / "checkpoint" / "model.safetensors").exists()
    assert s["mfu"] is None and s["device"] == "cpu"
    # tokens/s leaves out the first steps (compilation, first allocations), evaluation and checkpoints
    assert s["timed_steps"] == TINY.max_steps - TIMING_WARMUP_STEPS and s["tokens_per_s"] > 0 and s["wall_seconds"] > 0
    assert train(tokens, tmp_path / "run", TINY) == s  # a rerun of a finished run: nothing to do, the same summary


def test_resume_gives_the_same_next_step_loss(tokens: Path, tmp_path: Path) -> None:
    cfg = dataclasses.replace(TINY, max_steps=12, checkpoint_interval_steps=6, eval_interval_steps=6)
    full = train(tokens, tmp_path / "full", cfg)
    assert full["steps"] == 12
    ref = [json.loads(line)["loss"] for line in (tmp_path / "full" / "history.jsonl").read_text().splitlines()]

    # a run stopped after its step-6 checkpoint, then resumed with the same config
    part = tmp_path / "part"
    train(tokens, part, dataclasses.replace(cfg, max_steps=6))
    ckpt = json.loads((part / "checkpoint" / "checkpoint.json").read_text())
    ckpt["extra"]["train_config"] = json.loads(json.dumps(dataclasses.asdict(cfg)))  # as if max_steps were 12
    (part / "checkpoint" / "checkpoint.json").write_text(json.dumps(ckpt))
    train(tokens, part, cfg)
    resumed = [json.loads(line)["loss"] for line in (part / "history.jsonl").read_text().splitlines()]
    assert resumed[6] == pytest.approx(ref[6], rel=1e-6, abs=1e-6)
    assert resumed[-1] == pytest.approx(ref[-1], rel=1e-5, abs=1e-5)
    with pytest.raises(ConfigError, match=r"another TrainConfig \(lr: 0.003 then, 0.02 now\)"):
        train(tokens, part, dataclasses.replace(cfg, lr=0.02))


def test_schedule_and_config_errors() -> None:
    assert lr_at(0, TINY) == pytest.approx(TINY.lr / 5)
    assert lr_at(4, TINY) == pytest.approx(TINY.lr)
    assert lr_at(TINY.max_steps, TINY) == pytest.approx(TINY.min_lr)
    with pytest.raises(ConfigError, match="TrainConfig.lr = -1"):
        TrainConfig(lr=-1)
    with pytest.raises(ConfigError, match=r"TrainConfig: n_embd=65 must be divisible by n_head=2"):
        TrainConfig(n_embd=65, n_head=2)
    with pytest.raises(ConfigError, match=r"TrainConfig.device = 'cuda:x'; use auto, cpu, cuda or cuda:N"):
        TrainConfig(device="cuda:x")
    with pytest.raises(ConfigError, match=r"TrainConfig: positional='alibi': must be one of \['rope', 'sinusoidal'\]"):
        TrainConfig(positional="alibi")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message a machine without CUDA gives")
def test_cuda_asked_for_without_cuda_is_a_config_error(tokens: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"TrainConfig.device = 'cuda', but this torch .* sees no CUDA device"):
        train(tokens, tmp_path / "run", dataclasses.replace(TINY, device="cuda"))
    assert not (tmp_path / "run").exists()  # a refused run leaves no empty folder behind


def test_a_moved_token_folder_trains_from_anywhere(
    corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    import shutil

    from train.trainer import tokenizer_of

    kept, tok = corpus
    monkeypatch.chdir(tmp_path)
    shutil.copytree(tok, "tok")
    tokenize_shards([kept], Path("tok"), Path("tokens"), TokenizeConfig())  # relative paths, as a user types them
    manifest = json.loads(Path("tokens/manifest.json").read_text())
    assert Path(manifest["tokenizer"]["path"]).is_absolute() and (tmp_path / "tokens" / "tokenizer.json").is_file()
    shutil.move("tokens", tmp_path / "elsewhere")
    shutil.rmtree("tok")  # the tokenizer it was made with is gone: the folder's own copy serves
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert tokenizer_of(tmp_path / "elsewhere", manifest) == tmp_path / "elsewhere" / "tokenizer.json"
    assert train(tmp_path / "elsewhere", tmp_path / "run", dataclasses.replace(TINY, max_steps=2))["steps"] == 2
    (tmp_path / "elsewhere" / "tokenizer.json").unlink()
    with pytest.raises(InputError, match=r"was tokenized with .*tok/tokenizer.json .*rerun `sieve tokenize`"):
        tokenizer_of(tmp_path / "elsewhere", manifest)


def test_cli_tokenize_and_train_with_a_toml_config(corpus: tuple[Path, Path], tmp_path: Path, capsys) -> None:  # noqa: F811
    from flows.cli import main

    kept, tok = corpus
    assert main(["tokenize", str(kept), "--tokenizer", str(tok), "--out", str(tmp_path / "tokens")]) == 0
    (tmp_path / "train.toml").write_text(
        "n_layer = 1\nn_head = 2\nn_embd = 16\nseq_len = 16\nbatch_size = 2\nmax_steps = 3\neval_fraction = 0.1\n"
    )
    argv = ["train", str(tmp_path / "tokens"), "--out", str(tmp_path / "run"), "--config", str(tmp_path / "train.toml")]
    assert main([*argv, "-q"]) == 0
    assert "3 steps on cpu" in capsys.readouterr().out
    (tmp_path / "bad.toml").write_text("n_layer = 0\n")
    assert (
        main(["train", str(tmp_path / "tokens"), "--out", str(tmp_path / "r2"), "--config", str(tmp_path / "bad.toml")])
        == 2
    )
    assert "TrainConfig.n_layer = 0" in capsys.readouterr().err


def test_audit_reads_the_trained_checkpoint(corpus: tuple[Path, Path], tokens: Path, tmp_path: Path) -> None:  # noqa: F811
    from tokenizer.audit import AuditConfig, audit
    from tokenizer.vocab import load_vocab

    _, tok = corpus
    train(tokens, tmp_path / "run", dataclasses.replace(TINY, max_steps=3))
    report = audit(
        load_vocab(str(tok)),
        AuditConfig(use_classifier=False),
        model=tmp_path / "run" / "checkpoint" / "model.safetensors",
    ).to_dict()
    assert report["undertrained"]["tensor"] == "lm_head.weight"  # tied: the embedding is saved once, as the head
    assert report["undertrained"]["shape"][0] == 300


def test_gpu_peak_by_name() -> None:
    from train.trainer import gpu_peak_tflops

    assert gpu_peak_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert gpu_peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert gpu_peak_tflops("NVIDIA H200") == 989.0
    assert gpu_peak_tflops("NVIDIA A100-SXM4-80GB") == 312.0
    assert gpu_peak_tflops("NVIDIA L4") == 121.0
    assert gpu_peak_tflops("Some Future GPU") is None


def test_progress_shows_loss_and_tokens_per_second(tokens: Path, tmp_path: Path) -> None:
    import io
    import time

    from rich.console import Console

    from reports.progress import RichProgress

    class Recorder:
        def __init__(self) -> None:
            self.notes: list[str] = []
            self.advanced = 0

        def start(self, stage: str, total: int | None) -> None:
            pass

        def advance(self, n: int = 1) -> None:
            self.advanced += n

        def status(self, text: str) -> None:
            self.notes.append(text)

        def finish(self) -> None:
            pass

    cfg = dataclasses.replace(TINY, max_steps=4, eval_interval_steps=2)
    rec = Recorder()
    train(tokens, tmp_path / "run", cfg, progress=rec)
    assert len(rec.notes) == 4 and rec.notes[0].startswith("step 1 loss ")
    assert "eval" not in rec.notes[0] and " · eval " in rec.notes[-1] and "bits/byte" in rec.notes[-1]
    assert rec.advanced == 4 * cfg.batch_size * cfg.seq_len

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200)
    with RichProgress(console=console, unit="tokens") as bar:
        bar.start("train", 1000)
        bar.advance(250)
        time.sleep(0.05)  # rich measures a rate from two advances some time apart
        bar.advance(250)
        bar.status("step 1 loss 5.123")
    shown = out.getvalue()
    assert "step 1 loss 5.123" in shown and "tokens/s" in shown
