"""The CUDA paths against the naive reference: compiled FlexAttention with document masks, SDPA's fused kernels,
torch.compile of the whole model, bf16 training with MFU. Skipped without a CUDA device (`pytest -m gpu` on one).

CPU cannot vouch for these: flex_attention has no backward on CPU, and compiled flex on CPU inductor gave wrong
values for inputs computed inside the graph, so the first GPU run must compare values and gradients here.
"""

from __future__ import annotations

import pytest
import torch

from tests.train.test_shards import corpus  # noqa: F401 - the shared fixtures
from tests.train.test_trainer import tokens  # noqa: F401
from train.model import GPT, GPTConfig

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _loss_and_grads(attention: str, compile: bool, doc_masking: bool) -> tuple[float, dict[str, torch.Tensor]]:
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=512, block_size=256, n_layer=2, n_head=4, n_embd=128, attention=attention)
    model = GPT(cfg).cuda()
    fwd = torch.compile(model) if compile else model
    g = torch.Generator(device="cuda").manual_seed(1)
    x = torch.randint(0, cfg.vocab_size, (4, cfg.block_size), device="cuda", generator=g)
    doc = torch.arange(cfg.block_size, device="cuda").div(50, rounding_mode="floor").expand(4, -1)
    _, loss = fwd(x, x, doc_ids=doc if doc_masking else None)
    loss.backward()
    return float(loss), {n: p.grad.detach().clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize(("attention", "compile"), [("sdpa", False), ("flex", False), ("flex", True), ("sdpa", True)])
@pytest.mark.parametrize("doc_masking", [False, True])
def test_fused_attention_equals_naive_in_loss_and_gradients(attention: str, compile: bool, doc_masking: bool) -> None:
    want_loss, want = _loss_and_grads("naive", False, doc_masking)
    got_loss, got = _loss_and_grads(attention, compile, doc_masking)
    assert got_loss == pytest.approx(want_loss, rel=1e-3)
    for name, grad in want.items():
        torch.testing.assert_close(got[name], grad, rtol=2e-2, atol=2e-4, msg=name)


def test_bf16_compiled_training_reports_mfu(tokens, tmp_path) -> None:  # noqa: ANN001, F811
    from train.trainer import TrainConfig, train

    cfg = TrainConfig(n_layer=2, n_head=2, n_embd=64, seq_len=32, batch_size=4, max_steps=8, eval_interval_steps=4,
                      eval_batches=2, eval_fraction=0.1, checkpoint_interval_steps=8, warmup_steps=1, device="cuda",
                      compile=True)  # fmt: skip
    summary = train(tokens, tmp_path / "run", cfg)
    assert summary["device"].startswith("cuda") and summary["tokens_per_s"] > 0
    assert summary["mfu"] is None or 0 < summary["mfu"] < 1
