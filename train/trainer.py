"""The training loop: packed sequences from token shards, AdamW with warm-up and cosine decay, gradient clipping
and accumulation, periodic evaluation (loss and bits per byte), safetensors checkpoints, exact resume.

Runs on CPU with a tiny config; on CUDA it uses bf16 autocast, optional torch.compile, and reports MFU.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from curation.config import ConfigError, check_range, to_dict
from curation.io import write_json
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
    peak_tflops: float = 989.0  # bf16 dense peak of the GPU for MFU (H100 SXM: 989)

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
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"TrainConfig.device = {self.device!r}; use auto, cpu or cuda[:N]")

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
    return torch.device(cfg.device)


def _token_bytes(manifest: dict[str, Any], vocab_size: int) -> np.ndarray:
    """Bytes each token id stands for, for bits per byte (specials count 0)."""
    from tokenizer.vocab import load_vocab

    vocab = load_vocab(str(Path(manifest["tokenizer"]["path"])))
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


def _autocast(device: torch.device) -> Any:
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def train(
    tokdir: str | Path, out: str | Path, cfg: TrainConfig | None = None, progress: Progress | None = None
) -> dict:
    """Train (or resume, when OUT/checkpoint exists) a GPT on token shards; returns the summary (OUT/summary.json)."""
    cfg = cfg or TrainConfig()
    progress = progress or NoProgress()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
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
    token_bytes = _token_bytes(manifest, vocab_size)

    ckpt = out / CHECKPOINT_DIR
    history: list[dict[str, Any]] = []
    torch.manual_seed(cfg.seed)
    if (ckpt / "checkpoint.json").exists():
        model, extra = load_checkpoint(ckpt, device)
        if extra.get("train_config") != to_dict(cfg):
            raise ConfigError(f"{ckpt} was written with another TrainConfig; use a new --out or the same config")
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
    t0 = time.perf_counter()
    tokens_seen = 0
    while step < cfg.max_steps:
        lr = lr_at(step, cfg)
        for g in opt.param_groups:
            g["lr"] = lr
        loss_sum = 0.0
        for _ in range(cfg.grad_accum_steps):
            x, y, doc = loader.next_batch().to_torch(device)
            with _autocast(device):
                _, loss = fwd(x, y, doc_ids=doc if cfg.doc_masking else None)
            (loss / cfg.grad_accum_steps).backward()
            loss_sum += loss.detach().item() / cfg.grad_accum_steps
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens_seen += tokens_per_step
        progress.advance(tokens_per_step)
        record: dict[str, Any] = {"step": step, "loss": loss_sum, "lr": lr}
        if step % cfg.eval_interval_steps == 0 or step == cfg.max_steps:
            record["eval"] = evaluate(model, eval_ds, cfg, device, token_bytes)
        history.append(record)
        if step % cfg.checkpoint_interval_steps == 0 or step == cfg.max_steps:
            extra = {"step": step, "loader": loader.state_dict(), "train_config": to_dict(cfg), "history": history}
            save_checkpoint(model, ckpt, optimizer=opt, extra=extra)
    seconds = time.perf_counter() - t0
    tokens_per_s = tokens_seen / seconds if seconds and tokens_seen else 0.0
    summary = {
        "steps": step,
        "final_loss": history[-1]["loss"] if history else None,
        "eval": next((h["eval"] for h in reversed(history) if "eval" in h), None),
        "tokens_per_s": tokens_per_s,
        "mfu": model.estimate_mfu(tokens_per_s, cfg.peak_tflops * 1e12) if device.type == "cuda" else None,
        "device": str(device),
        "parameters": model.num_params(),
        "checkpoint": str(ckpt),
        "config": to_dict(cfg),
    }
    write_json(out / "summary.json", summary)
    (out / "history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history), encoding="utf-8")
    return summary
