"""The training loop: packed sequences from token shards, AdamW with warm-up and cosine decay, gradient clipping
and accumulation, periodic evaluation (loss and bits per byte), safetensors checkpoints, exact resume.

Runs on CPU with a tiny config; on CUDA it uses bf16 autocast, optional torch.compile, and reports MFU.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from curation.config import ConfigError, check_range, to_dict
from curation.io import InputError, sha256_file, write_json
from curation.progress import NoProgress, Progress
from train.data import PackedDataset, PackedLoader, TokenStream
from train.model import GPT, GPTConfig, load_checkpoint, load_optimizer_state, save_checkpoint
from train.shards import read_manifest

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything `sieve train` does; saved with every checkpoint. Defaults: a small model a CPU can train."""

    n_layer: int = 4  # depth of the default small model
    n_head: int = 4
    n_embd: int = 256  # ~3M parameters without the embedding: trains on CPU in minutes
    seq_len: int = 256  # tokens per packed sequence (the model's block size)
    positional: str = "rope"  # rope | sinusoidal
    attention: str = "auto"  # auto | sdpa | flex | naive (see train.model.attention_backend)
    doc_masking: bool = True  # packed documents do not attend to each other
    dropout: float = 0.0
    batch_size: int = 16  # sequences per micro-batch
    grad_accum_steps: int = 1  # micro-batches per optimizer step
    max_steps: int = 1000  # optimizer steps
    lr: float = 1e-3  # peak learning rate, after warm-up
    min_lr: float = 1e-4  # at the end of the cosine decay (10% of peak, as in Chinchilla)
    warmup_steps: int = 50  # linear warm-up from 0
    weight_decay: float = 0.1  # on 2-D weights only
    grad_clip: float = 1.0  # global norm; 0 disables
    eval_interval_steps: int = 100  # evaluate every so many steps (and at the end)
    eval_batches: int = 20  # batches of the held-out split per evaluation
    eval_fraction: float = 0.01  # share of the token stream held out (its tail, cut at a document boundary)
    checkpoint_interval_steps: int = 200  # and at the end
    seed: int = 1337
    device: str = "auto"  # auto: cuda when available, else cpu
    compile: bool = False  # torch.compile the model (CUDA: worth it for long runs)
    peak_tflops: float | None = None  # bf16 dense peak of the GPU for MFU; None: by the GPU's name (gpu_peak_tflops)

    def __post_init__(self) -> None:
        for name, lo in (("n_layer", 1), ("n_head", 1), ("n_embd", 1), ("seq_len", 2), ("batch_size", 1)):
            check_range(self, name, lo, 1 << 20)
        check_range(self, "grad_accum_steps", 1, 1 << 16)
        check_range(self, "max_steps", 1, 1 << 40)
        check_range(self, "warmup_steps", 0, 1 << 40)
        check_range(self, "lr", 0.0, 10.0)
        check_range(self, "min_lr", 0.0, 10.0)
        check_range(self, "eval_fraction", 0.0, 0.5)
        check_range(self, "eval_interval_steps", 1, 1 << 40)
        check_range(self, "checkpoint_interval_steps", 1, 1 << 40)
        if self.device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", self.device):
            raise ConfigError(f"TrainConfig.device = {self.device!r}; use auto, cpu, cuda or cuda:N")
        try:  # the model's own checks (head size, positional, attention), said here where the fields are set
            self.model_config(vocab_size=256)
        except ValueError as e:
            raise ConfigError(f"TrainConfig: {e}".replace("GPTConfig.", "")) from None

    def model_config(self, vocab_size: int) -> GPTConfig:
        return GPTConfig(
            vocab_size=vocab_size,
            block_size=self.seq_len,
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_embd=self.n_embd,
            dropout=self.dropout,
            positional=self.positional,
            attention=self.attention,
        )


# Dense bf16 tensor-core peaks (TFLOP/s, no sparsity) from the vendors' data sheets, by a substring of the CUDA
# device name; the first that matches wins, so the more specific names come first.
GPU_PEAK_TFLOPS: tuple[tuple[str, float], ...] = (
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.0),  # SXM
    ("H200", 989.0),
    ("H800", 989.0),
    ("GH200", 989.0),
    ("B200", 2250.0),
    ("A100", 312.0),
    ("A800", 312.0),
    ("L40S", 362.0),
    ("L4", 121.0),
    ("A10G", 70.0),
    ("RTX 4090", 165.0),
)
TIMING_WARMUP_STEPS = 2  # steps of each run left out of tokens/s: compilation, autotuning, first allocations


def gpu_peak_tflops(device_name: str) -> float | None:
    """The bf16 dense peak of a GPU by its CUDA name (torch.cuda.get_device_name), None when unknown."""
    for key, tflops in GPU_PEAK_TFLOPS:
        if key.lower() in device_name.lower():
            return tflops
    return None


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to min_lr at max_steps."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.max_steps - cfg.warmup_steps)
    ratio = min(1.0, (step - cfg.warmup_steps) / span)
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg.lr - cfg.min_lr)


def _device(cfg: TrainConfig) -> torch.device:
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if cfg.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"TrainConfig.device = {cfg.device!r}, but this torch ({torch.__version__}) sees no CUDA device; "
                "use --device cpu, or auto to take a GPU where there is one"
            )
        index = torch.device(cfg.device).index or 0
        if index >= (n := torch.cuda.device_count()):
            raise ConfigError(f"TrainConfig.device = {cfg.device!r}: this machine has {n} GPU(s), cuda:0..cuda:{n - 1}")
    return torch.device(cfg.device)


def tokenizer_of(tokdir: Path | str, manifest: dict[str, Any]) -> Path:
    """The tokenizer.json a token folder was made with: its copy in the folder, else where it was read from.

    A candidate counts only if its sha256 is the manifest's; the error says what was looked for and where.
    """
    tokdir = Path(tokdir)
    info = manifest["tokenizer"]
    candidates = [tokdir / info["file"]] if info.get("file") else []
    candidates += [Path(info["path"]), tokdir / info["path"]]  # older folders recorded a path relative to the cwd
    for path in candidates:
        if path.is_file() and sha256_file(path) == info["sha256"]:
            return path
    raise InputError(
        f"{tokdir} was tokenized with {info['path']} (sha256 {info['sha256'][:12]}...), which is not there any more "
        f"and has no copy in the folder; rerun `sieve tokenize` with that tokenizer"
    )


def _token_bytes(tokdir: Path | str, manifest: dict[str, Any], vocab_size: int) -> np.ndarray:
    """Bytes each token id stands for, for bits per byte (specials count 0)."""
    from tokenizer.vocab import load_vocab

    vocab = load_vocab(str(tokenizer_of(tokdir, manifest)))
    lengths = np.zeros(vocab_size, dtype=np.int64)
    for t in vocab.tokens:
        if not t.special and t.id < vocab_size:
            lengths[t.id] = len(t.raw)
    return lengths


@torch.no_grad()
def evaluate(model: GPT, ds: PackedDataset, cfg: TrainConfig, device: torch.device, token_bytes: np.ndarray) -> dict:
    """Mean loss (nats/token) and bits per byte on up to eval_batches batches of the held-out split."""
    if len(ds) == 0:
        return {"loss": None, "bpb": None, "tokens": 0}
    model.eval()
    loader = PackedLoader(ds, min(cfg.batch_size, len(ds)), seed=0, shuffle=False, epochs=1)  # small corpora
    nats = 0.0
    tokens = 0
    nbytes = 0
    for i, batch in enumerate(loader):
        if i >= cfg.eval_batches:
            break
        x, y, doc = batch.to_torch(device)
        with _autocast(device):
            logits, _ = model(x, doc_ids=doc if cfg.doc_masking else None)
        losses = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), y.flatten(), reduction="none")
        nats += float(losses.sum())
        tokens += y.numel()
        nbytes += int(token_bytes[batch.y].sum())
    model.train()
    if not tokens:
        return {"loss": None, "bpb": None, "tokens": 0}
    return {"loss": nats / tokens, "bpb": nats / math.log(2) / max(1, nbytes), "tokens": tokens}


def _finished_summary(out: Path, step: int) -> dict[str, Any] | None:
    """The summary of the run that reached `step` in OUT, if it wrote one (a rerun of a finished run)."""
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) and summary.get("steps") == step else None


def _autocast(device: torch.device) -> Any:
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def _status(record: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """The progress bar's note: step, loss, and the latest evaluation."""
    text = f"step {record['step']} loss {record['loss']:.3f}"
    last = next((h["eval"] for h in reversed(history) if h.get("eval") and h["eval"]["loss"] is not None), None)
    return text + (f" · eval {last['loss']:.3f} ({last['bpb']:.3f} bits/byte)" if last else "")


def train(
    tokdir: str | Path, out: str | Path, cfg: TrainConfig | None = None, progress: Progress | None = None
) -> dict:
    """Train (or resume, when OUT/checkpoint exists) a GPT on token shards; returns the summary (OUT/summary.json)."""
    cfg = cfg or TrainConfig()
    progress = progress or NoProgress()
    out = Path(out)
    manifest = read_manifest(tokdir)
    vocab_size = int(manifest["tokenizer"]["vocab_size"])
    device = _device(cfg)
    stream = TokenStream(tokdir)
    train_ds = PackedDataset(stream, cfg.seq_len, split="train", eval_fraction=cfg.eval_fraction)
    eval_ds = PackedDataset(stream, cfg.seq_len, split="eval", eval_fraction=cfg.eval_fraction)
    if len(train_ds) < cfg.batch_size:
        raise ConfigError(
            f"{tokdir} holds {len(train_ds)} training sequences of {cfg.seq_len} tokens, fewer than batch_size = "
            f"{cfg.batch_size}; lower seq_len or batch_size, or tokenize more text"
        )
    loader = PackedLoader(train_ds, cfg.batch_size, seed=cfg.seed)
    token_bytes = _token_bytes(tokdir, manifest, vocab_size)
    out.mkdir(parents=True, exist_ok=True)  # after the checks: a refused run leaves no empty folder

    ckpt = out / CHECKPOINT_DIR
    history: list[dict[str, Any]] = []
    torch.manual_seed(cfg.seed)
    if (ckpt / "checkpoint.json").exists():
        model, extra = load_checkpoint(ckpt, device)
        if (saved := extra.get("train_config")) != (now := to_dict(cfg)):
            saved = saved if isinstance(saved, dict) else {}
            keys = sorted(set(saved) | set(now))
            diff = [f"{k}: {saved.get(k)!r} then, {now.get(k)!r} now" for k in keys if saved.get(k) != now.get(k)]
            raise ConfigError(
                f"{ckpt} was written with another TrainConfig ({'; '.join(diff)}); resume with the same settings, "
                "or pass a new --out (max_steps too: it shapes the learning-rate schedule)"
            )
        model.train()
        opt = model.configure_optimizers(cfg.weight_decay, cfg.lr)
        load_optimizer_state(opt, ckpt)
        loader.load_state_dict(extra["loader"])
        step = int(extra["step"])
        history = list(extra.get("history", []))
        log.info("resumed from %s at step %d", ckpt, step)
    else:
        model = GPT(cfg.model_config(vocab_size)).to(device)
        opt = model.configure_optimizers(cfg.weight_decay, cfg.lr)
        step = 0
    fwd = torch.compile(model) if cfg.compile else model

    tokens_per_step = cfg.batch_size * cfg.grad_accum_steps * cfg.seq_len
    progress.start("train", cfg.max_steps * tokens_per_step)
    progress.advance(step * tokens_per_step)
    t_start = time.perf_counter()
    timed_seconds = 0.0  # optimizer steps only, after the first TIMING_WARMUP_STEPS of this run: no eval, no I/O
    timed_steps = 0
    run_steps = 0
    while step < cfg.max_steps:
        t_step = time.perf_counter()
        lr = lr_at(step, cfg)
        for g in opt.param_groups:
            g["lr"] = lr
        loss_sum = torch.zeros((), device=device)  # on the device: no host sync per micro-batch
        for _ in range(cfg.grad_accum_steps):
            x, y, doc = loader.next_batch().to_torch(device)
            with _autocast(device):
                _, loss = fwd(x, y, doc_ids=doc if cfg.doc_masking else None)
            (loss / cfg.grad_accum_steps).backward()
            loss_sum += loss.detach() / cfg.grad_accum_steps
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step_loss = float(loss_sum)  # the one sync of the step: the GPU has finished it
        run_steps += 1
        if run_steps > TIMING_WARMUP_STEPS:
            timed_seconds += time.perf_counter() - t_step
            timed_steps += 1
        step += 1
        progress.advance(tokens_per_step)
        record: dict[str, Any] = {"step": step, "loss": step_loss, "lr": lr}
        if step % cfg.eval_interval_steps == 0 or step == cfg.max_steps:
            record["eval"] = evaluate(model, eval_ds, cfg, device, token_bytes)
        history.append(record)
        progress.status(_status(record, history))
        if step % cfg.checkpoint_interval_steps == 0 or step == cfg.max_steps:
            extra = {"step": step, "loader": loader.state_dict(), "train_config": to_dict(cfg), "history": history}
            save_checkpoint(model, ckpt, optimizer=opt, extra=extra)
    wall_seconds = time.perf_counter() - t_start
    if run_steps == 0 and (done := _finished_summary(out, step)) is not None:
        log.info("%s is already trained to step %d; nothing to do", out, step)
        return done
    if not timed_steps:  # a run of TIMING_WARMUP_STEPS steps or fewer: all it has is the whole loop
        timed_seconds, timed_steps = wall_seconds, run_steps
    tokens_per_s = timed_steps * tokens_per_step / timed_seconds if timed_seconds and timed_steps else 0.0
    peak = cfg.peak_tflops
    if peak is None and device.type == "cuda":
        peak = gpu_peak_tflops(torch.cuda.get_device_name(device))
        if peak is None:
            log.warning("no bf16 peak known for %s: set TrainConfig.peak_tflops for MFU", torch.cuda.get_device_name())
    summary = {
        "steps": step,
        "final_loss": history[-1]["loss"] if history else None,
        "eval": next((h["eval"] for h in reversed(history) if "eval" in h), None),
        "tokens_per_s": tokens_per_s,  # optimizer steps alone, without the first ones, evaluation and checkpoints
        "timed_steps": timed_steps,
        "wall_seconds": wall_seconds,
        "mfu": model.estimate_mfu(tokens_per_s, peak * 1e12) if device.type == "cuda" and peak else None,
        "device": str(device),
        "parameters": model.num_params(),
        "checkpoint": str(ckpt),
        "config": to_dict(cfg),
    }
    write_json(out / "summary.json", summary)
    (out / "history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history), encoding="utf-8")
    return summary
