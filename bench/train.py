"""Tokens/s of the model's attention path (SDPA) against a naive attention (explicit softmax(QK^T/sqrt(d))V with a
causal mask), in one run, forward + backward + AdamW step; with document masking too. On a CUDA GPU it also
measures GPT-2 small (~124M parameters) at sequence length 1024 in bf16 (--gpu-batch sequences a step, eager and
torch.compile'd), with MFU against the GPU's bf16 peak (looked up by its name, or --peak-tflops). --batch and --seq
set the CPU rows only. Each row is printed and written to --out (JSON) as it finishes, the headline GPU row
(compiled SDPA) first, so a run cut short by --budget-s or a time limit keeps what it measured.

    python bench/train.py [--steps 10] [--batch 4] [--seq 1024] [--gpu-batch 16] [--peak-tflops 989] [--no-compile]
                          [--no-cpu] [--budget-s 480] [--out bench/results/train.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

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


# GPU rows, the headline first: (attention, document masking, compiled)
GPU_ROWS = [
    ("sdpa", False, True),
    ("flex", True, True),
    ("sdpa", True, True),
    ("sdpa", False, False),
    ("flex", True, False),
    ("sdpa", True, False),
    ("naive", False, False),
    ("naive", False, True),
]


class Results:
    """The rows measured so far, rewritten to a JSON file after each one."""

    def __init__(self, path: Path | None, args: argparse.Namespace) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "command": "python bench/train.py " + " ".join(sys.argv[1:]),
            "machine": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "platform": platform.platform(),
            },
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "cpu": [],
            "gpu": [],
        }

    def add(self, section: str, row: dict[str, Any]) -> None:
        self.data[section].append(row)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data, indent=2) + "\n", encoding="utf-8")


def cpu_rows(args: argparse.Namespace, console: Console, results: Results) -> None:
    threads = torch.get_num_threads()
    results.data["machine"]["cpu_threads"] = threads
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
        row = {"doc_masking": doc_masking, "naive_tokens_per_s": naive, "sdpa_tokens_per_s": sdpa}
        results.add("cpu", {**row, "ratio": sdpa / naive})
    console.print(table)


def gpu_rows(args: argparse.Namespace, console: Console, results: Results, deadline: float) -> None:
    name = torch.cuda.get_device_name()
    peak = args.peak_tflops or gpu_peak_tflops(name)
    results.data["machine"].update(gpu=name, peak_tflops=peak, cuda=torch.version.cuda)
    title = f"GPU {name}: GPT-2 small (124M), {args.gpu_batch} x 1,024 tokens, bf16, peak {peak} TFLOP/s"
    console.print(title)
    gpu = Table(title=title)
    for col in ("attention", "doc masking", "compiled", "tokens/s", "MFU"):
        gpu.add_column(col)
    flops_model = GPT(GPTConfig.gpt2_small())
    for attn, dm, compile in GPU_ROWS:
        if compile and args.no_compile:
            continue
        if time.monotonic() > deadline:
            console.print(f"--budget-s {args.budget_s:g} spent: {attn} doc_masking={dm} compiled={compile} not run")
            continue
        t0 = time.monotonic()
        tps = tokens_per_s(GPTConfig.gpt2_small(attention=attn), args.gpu_batch, args.steps, "cuda", dm, True,
                           compile)  # fmt: skip
        mfu = flops_model.estimate_mfu(tps, peak * 1e12) if peak else None
        mfu_s = f"{100 * mfu:.1f}%" if mfu is not None else "peak unknown"
        console.print(f"  {attn:5s} doc_masking={dm!s:5s} compiled={compile!s:5s} {tps:>10,.0f} tokens/s  MFU {mfu_s}"
                      f"  ({time.monotonic() - t0:.0f} s)")  # fmt: skip
        gpu.add_row(attn, str(dm), str(compile), f"{tps:,.0f}", mfu_s)
        row = {"attention": attn, "doc_masking": dm, "compiled": compile, "tokens_per_s": tps, "mfu": mfu}
        results.add("gpu", {**row, "seconds": time.monotonic() - t0})
    console.print(gpu)
    console.print("MFU counts the FLOPs of full causal attention; with document masking fewer are done")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--gpu-batch", type=int, default=16, help="sequences of 1,024 tokens per step on the GPU")
    ap.add_argument("--peak-tflops", type=float, help="bf16 dense peak of the GPU (default: by its name; H100 SXM 989)")
    ap.add_argument("--no-compile", action="store_true", help="GPU rows without torch.compile only")
    ap.add_argument("--no-cpu", action="store_true", help="skip the CPU rows")
    ap.add_argument("--budget-s", type=float, help="start no GPU row after this many seconds (default: no limit)")
    ap.add_argument("--out", type=Path, help="write the rows to this JSON file as they finish")
    args = ap.parse_args()
    start = time.monotonic()
    console = Console()
    results = Results(args.out, args)
    if not args.no_cpu:
        cpu_rows(args, console, results)
    if torch.cuda.is_available():
        gpu_rows(args, console, results, start + (args.budget_s if args.budget_s is not None else float("inf")))
    else:
        console.print("no CUDA device here: the GPU rows (124M model, bf16, MFU) need one")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
