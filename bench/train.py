"""Tokens/s of the model's attention path (SDPA) against a naive attention (explicit softmax(QK^T/sqrt(d))V with a
causal mask), in one run, forward + backward + AdamW step; with document masking too. On a CUDA GPU it also
measures GPT-2 small (~124M parameters) at sequence length 1024 in bf16 (--gpu-batch sequences a step, eager and
torch.compile'd), with MFU against the GPU's bf16 peak (looked up by its name, or --peak-tflops). --batch and --seq
set the CPU rows only.

    python bench/train.py [--steps 10] [--batch 4] [--seq 1024] [--gpu-batch 16] [--peak-tflops 989] [--no-compile]
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
from train.trainer import gpu_peak_tflops  # noqa: E402


def tokens_per_s(
    cfg: GPTConfig, batch: int, steps: int, device: str, doc_masking: bool, bf16: bool, compile: bool = False
) -> float:
    torch.manual_seed(0)
    model = GPT(cfg).to(device)
    opt = model.configure_optimizers(0.1, 1e-3)
    fwd = torch.compile(model) if compile else model
    x = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size), device=device)
    doc = (torch.arange(cfg.block_size, device=device) // 64).expand(batch, -1) if doc_masking else None

    def step() -> None:
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            _, loss = fwd(x, x, doc_ids=doc)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3 if compile else 1):  # warm-up: allocations, kernel choice, compilation
        step()
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
    ap.add_argument("--gpu-batch", type=int, default=16, help="sequences of 1,024 tokens per step on the GPU")
    ap.add_argument("--peak-tflops", type=float, help="bf16 dense peak of the GPU (default: by its name; H100 SXM 989)")
    ap.add_argument("--no-compile", action="store_true", help="GPU rows without torch.compile only")
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
        name = torch.cuda.get_device_name()
        peak = args.peak_tflops or gpu_peak_tflops(name)
        gpu = Table(title=f"GPU {name}: GPT-2 small (124M), {args.gpu_batch} x 1,024 tokens, bf16, peak {peak} TFLOP/s")
        for col in ("attention", "doc masking", "compiled", "tokens/s", "MFU"):
            gpu.add_column(col)
        flops_model = GPT(GPTConfig.gpt2_small())
        rows = [("sdpa", False), ("sdpa", True), ("flex", True), ("naive", False)]
        for compile in (False,) if args.no_compile else (False, True):
            for attn, dm in rows:
                tps = tokens_per_s(GPTConfig.gpt2_small(attention=attn), args.gpu_batch, args.steps, "cuda", dm, True,
                                   compile)  # fmt: skip
                mfu = f"{100 * flops_model.estimate_mfu(tps, peak * 1e12):.1f}%" if peak else "peak unknown"
                gpu.add_row(attn, str(dm), str(compile), f"{tps:,.0f}", mfu)
        console.print(gpu)
        console.print("MFU counts the FLOPs of full causal attention; with document masking fewer are done")
    else:
        console.print("no CUDA device here: the GPU rows (124M model, bf16, MFU) need one")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
