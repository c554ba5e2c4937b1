"""Tokens/s of the model's attention path (SDPA) against a naive attention (explicit softmax(QK^T/sqrt(d))V with a
causal mask), in one run, forward + backward + AdamW step; with document masking too. On a CUDA GPU it also
measures a ~124M-parameter model at sequence length 1024 in bf16, with MFU against the GPU's bf16 peak.

    python bench/train.py [--steps 10] [--batch 4] [--seq 1024] [--peak-tflops 989]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from train.model import GPT, GPTConfig  # noqa: E402


def tokens_per_s(cfg: GPTConfig, batch: int, steps: int, device: str, doc_masking: bool, bf16: bool) -> float:
    torch.manual_seed(0)
    model = GPT(cfg).to(device)
    opt = model.configure_optimizers(0.1, 1e-3)
    x = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size), device=device)
    doc = (torch.arange(cfg.block_size, device=device) // 64).expand(batch, -1) if doc_masking else None

    def step() -> None:
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            _, loss = model(x, x, doc_ids=doc)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # warm-up: allocations, kernel choice, flex compile
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * batch * cfg.block_size / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--peak-tflops", type=float, default=989.0, help="bf16 dense peak (H100 SXM 989)")
    args = ap.parse_args()
    console = Console()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    threads = torch.get_num_threads()
    table = Table(title=f"CPU: 4 layers x 256 wide, vocab 512, batch {args.batch} x {args.seq} ({threads} threads)")
    for col in ("attention", "doc masking", "tokens/s", "ratio to naive"):
        table.add_column(col, justify="right" if col != "attention" else "left")
    for doc_masking in (False, True):
        base = GPTConfig(vocab_size=512, block_size=args.seq, n_layer=4, n_head=4, n_embd=256)  # attention-heavy
        naive = tokens_per_s(GPTConfig(**{**base.__dict__, "attention": "naive"}), args.batch, args.steps, "cpu",
                             doc_masking, False)  # fmt: skip
        sdpa = tokens_per_s(GPTConfig(**{**base.__dict__, "attention": "sdpa"}), args.batch, args.steps, "cpu",
                            doc_masking, False)  # fmt: skip
        table.add_row("naive", str(doc_masking), f"{naive:,.0f}", "1.00")
        table.add_row("sdpa", str(doc_masking), f"{sdpa:,.0f}", f"{sdpa / naive:.2f}")
    console.print(table)
    if torch.cuda.is_available():
        gpu = Table(title=f"GPU {torch.cuda.get_device_name()}: GPT-2 small (124M), seq 1024, bf16")
        for col in ("attention", "doc masking", "tokens/s", "MFU"):
            gpu.add_column(col)
        for attn, dm in (("sdpa", False), ("flex", True), ("naive", False)):
            cfg = GPTConfig.gpt2_small(attention=attn)
            tps = tokens_per_s(cfg, 16, args.steps, "cuda", dm, True)
            mfu = GPT(GPTConfig.gpt2_small()).estimate_mfu(tps, args.peak_tflops * 1e12)
            gpu.add_row(attn, str(dm), f"{tps:,.0f}", f"{100 * mfu:.1f}%")
        console.print(gpu)
    else:
        console.print("no CUDA device here: the GPU rows (124M model, bf16, MFU) need one")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
