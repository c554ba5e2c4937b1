"""CPU tests for train/model.py: attention backends agree, masks hold, training learns, checkpoints round-trip."""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
from pathlib import Path

import pytest
import torch

from train import model as M
from train.model import GPT, GPTConfig, attention_backend, load_checkpoint, load_optimizer_state, save_checkpoint

B, T = 2, 24


def make(positional: str = "rope", attention: str = "sdpa", seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig.tiny(positional=positional, attention=attention)).eval()


def batch(seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, 64, (B, T), generator=g)
    doc_ids = torch.tensor([[0] * 10 + [1] * 14, [0] * 5 + [1] * 7 + [2] * 12])  # (B, T), packed documents
    return idx, doc_ids


def with_attention(model: GPT, attention: str) -> GPT:
    """The same weights under another attention setting (the config is frozen, so swap it)."""
    model.config = dataclasses.replace(model.config, attention=attention)
    return model


# ---------------------------------------------------------------------------------------------------------------
# Backends agree with the naive reference


@pytest.mark.parametrize("positional", ["rope", "sinusoidal"])
@pytest.mark.parametrize("use_docs", [False, True])
def test_sdpa_matches_naive(positional: str, use_docs: bool) -> None:
    model = make(positional)
    idx, doc_ids = batch()
    docs = doc_ids if use_docs else None
    with torch.no_grad():
        sdpa, _ = model(idx, doc_ids=docs)
        naive, _ = with_attention(model, "naive")(idx, doc_ids=docs)
    torch.testing.assert_close(sdpa, naive, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("use_docs", [False, True])
def test_flex_kernel_matches_naive_on_cpu(use_docs: bool) -> None:
    """The flex mask_mod (causal & same document) is checked here through uncompiled flex_attention on CPU."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, 2, T, 16) for _ in range(3))
    _, doc_ids = batch()
    docs = doc_ids if use_docs else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "flex_attention called without torch.compile()"
        flex = M.attend(q, k, v, "flex", M.build_attention_mask("flex", docs, T, q.device))
    naive = M.attend(q, k, v, "naive", M.build_attention_mask("naive", docs, T, q.device))
    torch.testing.assert_close(flex, naive, atol=1e-5, rtol=1e-5)


def test_flex_rejects_attention_dropout() -> None:
    q = torch.randn(1, 1, 4, 8)
    with pytest.raises(ValueError, match="dropout"):
        M.attend(q, q, q, "flex", None, dropout_p=0.1)


# ---------------------------------------------------------------------------------------------------------------
# Masks


@pytest.mark.parametrize("attention", ["sdpa", "naive"])
def test_document_mask_blocks_cross_document_attention(attention: str) -> None:
    model = make(attention=attention)
    idx, doc_ids = batch()
    perturbed = idx.clone()
    perturbed[0, :10] = (perturbed[0, :10] + 7) % 64  # rewrite document 0 of row 0
    doc2 = slice(10, T)  # the positions of the second document in row 0
    with torch.no_grad():
        masked_a, _ = model(idx, doc_ids=doc_ids)
        masked_b, _ = model(perturbed, doc_ids=doc_ids)
        plain_a, _ = model(idx)
        plain_b, _ = model(perturbed)
    torch.testing.assert_close(masked_a[0, doc2], masked_b[0, doc2], atol=1e-6, rtol=0)
    assert not torch.allclose(plain_a[0, doc2], plain_b[0, doc2], atol=1e-4)
    torch.testing.assert_close(masked_a[1], masked_b[1], atol=0, rtol=0)  # row 1 untouched


def test_document_mask_resets_positions_not() -> None:
    """Masking cuts attention only; positions stay absolute in the packed row (the trainer need not reset them)."""
    model = make()
    idx, doc_ids = batch()
    with torch.no_grad():
        first_doc_alone, _ = model(idx[:1, :10])
        packed, _ = model(idx[:1], doc_ids=doc_ids[:1])
    torch.testing.assert_close(packed[0, :10], first_doc_alone[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("positional", ["rope", "sinusoidal"])
@pytest.mark.parametrize("attention", ["sdpa", "naive"])
def test_causal_future_does_not_affect_past(positional: str, attention: str) -> None:
    model = make(positional, attention)
    idx, _ = batch()
    changed = idx.clone()
    changed[:, 15:] = (changed[:, 15:] + 3) % 64
    with torch.no_grad():
        a, _ = model(idx)
        b, _ = model(changed)
    torch.testing.assert_close(a[:, :15], b[:, :15], atol=1e-6, rtol=0)
    assert not torch.allclose(a[:, 15:], b[:, 15:], atol=1e-4)


# ---------------------------------------------------------------------------------------------------------------
# Dispatch


def test_attention_backend_decisions(caplog: pytest.LogCaptureFixture) -> None:
    assert attention_backend("cuda", False) == "sdpa"
    assert attention_backend("cuda", True) == "flex"
    assert attention_backend("cpu", False) == "sdpa"
    assert attention_backend("cpu", True) == "sdpa"
    assert attention_backend(torch.device("cuda", 0), True, "auto") == "flex"
    assert attention_backend("cuda", True, "sdpa") == "sdpa"
    assert attention_backend("cuda", False, "flex") == "flex"
    assert attention_backend("cpu", True, "naive") == "naive"
    with caplog.at_level(logging.WARNING, logger="train.model"):
        assert attention_backend("cpu", True, "flex") == "sdpa"
    assert "flex" in caplog.text
    with pytest.raises(ValueError, match="attention='fast'"):
        attention_backend("cpu", False, "fast")
    # flex_attention has no attention dropout: training with dropout takes SDPA with a boolean mask on CUDA too
    assert attention_backend("cuda", True, "auto", dropout=0.1) == "sdpa"
    assert attention_backend("cuda", True, "auto", dropout=0.0) == "flex"


def test_dropout_training_with_document_masks_picks_a_backend_that_has_dropout(monkeypatch: pytest.MonkeyPatch) -> None:
    import train.model as M

    seen: list[str] = []
    real = M.attention_backend

    def spy(device: object, doc_masking: bool, requested: str = "auto", dropout: float = 0.0) -> str:
        got = real("cuda", doc_masking, requested, dropout)  # decide as on a GPU
        seen.append(got)
        return "sdpa" if got == "flex" else got  # run what CPU can

    monkeypatch.setattr(M, "attention_backend", spy)
    torch.manual_seed(0)
    model = GPT(GPTConfig.tiny(attention="auto", dropout=0.1))
    idx = torch.randint(0, 64, (2, 16))
    doc = torch.arange(16).div(8, rounding_mode="floor").expand(2, -1)
    model.train()
    model(idx, idx, doc_ids=doc)
    model.eval()
    model(idx, idx, doc_ids=doc)
    assert seen == ["sdpa", "flex"]  # training with dropout: sdpa; evaluation (no dropout): flex


def test_generation_uses_sdpa_whatever_the_training_attention(monkeypatch: pytest.MonkeyPatch) -> None:
    import train.model as M

    requested: list[str] = []
    real = M.attention_backend
    monkeypatch.setattr(M, "attention_backend", lambda d, m, r="auto", p=0.0: requested.append(r) or real(d, m, r, p))
    model = make(attention="flex")
    model.eval()
    model.generate(torch.zeros((1, 1), dtype=torch.long), 3)
    assert requested == ["sdpa"] * 3  # the context grows each step: compiled flex would recompile every time


def test_flex_requested_on_cpu_runs_as_sdpa() -> None:
    model = make(attention="sdpa")
    idx, doc_ids = batch()
    with torch.no_grad():
        ref, _ = model(idx, doc_ids=doc_ids)
        got, _ = with_attention(model, "flex")(idx, doc_ids=doc_ids)
    torch.testing.assert_close(got, ref, atol=0, rtol=0)


# ---------------------------------------------------------------------------------------------------------------
# Config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_embd": 30, "n_head": 4}, "n_embd=30 must be divisible by n_head=4"),
        ({"n_layer": 0}, "n_layer=0"),
        ({"vocab_size": -1}, "vocab_size=-1"),
        ({"dropout": 1.0}, r"dropout=1.0: must be in \[0, 1\)"),
        ({"positional": "alibi"}, "positional='alibi'"),
        ({"attention": "fast"}, "attention='fast'"),
        ({"n_embd": 6, "n_head": 2}, "rope needs an even head size"),
        ({"rope_base": 0.0}, "rope_base=0.0"),
    ],
)
def test_config_validation(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GPTConfig.tiny(**overrides)


def test_presets() -> None:
    small = GPTConfig.gpt2_small()
    assert (small.n_layer, small.n_head, small.n_embd, small.block_size) == (12, 12, 768, 1024)
    with torch.device("meta"):  # shapes only, no memory
        n = GPT(small).num_params()
    assert 120e6 < n < 130e6
    with pytest.raises(dataclasses.FrozenInstanceError):
        small.n_layer = 3  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------------------
# Model


def test_weight_tying_and_param_count() -> None:
    model = make()
    assert model.lm_head.weight is model.transformer.wte.weight
    untied = GPT(GPTConfig.tiny(tie_weights=False))
    cfg = model.config
    assert untied.num_params() - model.num_params() == cfg.vocab_size * cfg.n_embd
    flops = model.estimate_flops_per_token()
    hs = cfg.n_embd // cfg.n_head
    assert flops == 6 * model.num_params() + 12 * cfg.n_layer * cfg.n_head * hs * cfg.block_size


def test_loss_falls_on_repeated_corpus() -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig.tiny()).train()
    pattern = torch.arange(T + 1) % 7  # a tiny corpus: the same short sequence over and over
    x, y = pattern[:-1].repeat(4, 1), pattern[1:].repeat(4, 1)
    optimizer = model.configure_optimizers(weight_decay=0.1, lr=3e-3, betas=(0.9, 0.95))
    losses = []
    for _ in range(50):
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 3.5  # ~ln(64) at init
    assert losses[-1] < 0.5 * losses[0]


def test_configure_optimizers_decays_only_matrices() -> None:
    model = make()
    opt = model.configure_optimizers(weight_decay=0.1, lr=1e-3, betas=(0.9, 0.95))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and all(p.dim() == 2 for p in decay["params"])
    assert no_decay["weight_decay"] == 0.0 and all(p.dim() < 2 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    assert not opt.defaults.get("fused")  # fused only on CUDA


def test_ignore_index_and_sequence_limit() -> None:
    model = make()
    idx, _ = batch()
    targets = idx.clone()
    targets[:, :5] = -1
    _, loss = model(idx, targets)
    assert torch.isfinite(loss)
    with pytest.raises(ValueError, match="block_size=32"):
        model(torch.zeros(1, 33, dtype=torch.long))


def test_generate_extends_sequence() -> None:
    model = make()
    out = model.generate(torch.zeros(1, 3, dtype=torch.long), max_new_tokens=40, top_k=5)
    assert out.shape == (1, 43)


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints


def test_checkpoint_round_trip_without_pickle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = make("sinusoidal")
    idx, doc_ids = batch()
    with torch.no_grad():
        expected, _ = model(idx, doc_ids=doc_ids)
    out = save_checkpoint(model, tmp_path / "ckpt", extra={"step": 42, "tokens": 1000})

    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), framework="pt") as f:
        names = list(f.keys())
    assert len(names) == len(model.state_dict()) - 1  # the tied (V, C) matrix is stored once
    meta = json.loads((out / "checkpoint.json").read_text())
    assert meta["config"]["positional"] == "sinusoidal" and meta["extra"]["step"] == 42

    def no_unpickling(*args: object, **kwargs: object) -> None:
        raise AssertionError("checkpoint loading must not unpickle")

    monkeypatch.setattr(torch, "load", no_unpickling)
    monkeypatch.setattr("pickle.load", no_unpickling)
    monkeypatch.setattr("pickle.loads", no_unpickling)
    loaded, extra = load_checkpoint(out)
    assert extra == {"step": 42, "tokens": 1000}
    assert loaded.config == model.config
    assert loaded.lm_head.weight is loaded.transformer.wte.weight
    with torch.no_grad():
        got, _ = loaded(idx, doc_ids=doc_ids)
    torch.testing.assert_close(got, expected, atol=0, rtol=0)


def test_optimizer_state_resumes_exactly(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig.tiny()).train()
    idx, _ = batch()
    x, y = idx[:, :-1], idx[:, 1:]
    opt = model.configure_optimizers(weight_decay=0.1, lr=1e-3)

    def step(m: GPT, o: torch.optim.Optimizer) -> None:
        _, loss = m(x, y)
        o.zero_grad(set_to_none=True)
        loss.backward()
        o.step()

    for _ in range(3):
        step(model, opt)
    save_checkpoint(model, tmp_path / "ckpt", optimizer=opt, extra={"step": 3})
    step(model, opt)  # the uninterrupted run

    resumed, _ = load_checkpoint(tmp_path / "ckpt")
    resumed.train()
    ropt = resumed.configure_optimizers(weight_decay=0.1, lr=1e-3)
    load_optimizer_state(ropt, tmp_path / "ckpt")
    step(resumed, ropt)
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, atol=0, rtol=0, msg=name)


def test_load_rejects_incomplete_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="checkpoint.json"):
        load_checkpoint(tmp_path)
    save_checkpoint(make(), tmp_path / "c")
    with pytest.raises(FileNotFoundError, match="no optimizer state"):
        load_optimizer_state(torch.optim.AdamW(make().parameters()), tmp_path / "c")
