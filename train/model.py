"""A compact GPT (decoder-only transformer) in one file, read top to bottom like nanoGPT.

Config, attention dispatch (SDPA / FlexAttention / naive reference, with optional document masking), modules,
the model, and safetensors checkpoints that never unpickle. Training loops, data loading and bf16 autocast live
in the trainer, not here.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, load_model, save_file, save_model

logger = logging.getLogger(__name__)

POSITIONAL = ("rope", "sinusoidal")
ATTENTION = ("auto", "sdpa", "flex", "naive")
CHECKPOINT_FORMAT = "sieve-gpt-v1"
WEIGHTS_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
META_FILE = "checkpoint.json"


# ----------------------------------------------------------------------------------------------------------------
# Config


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = 50304  # GPT-2's 50257 padded up to a multiple of 64 for faster matmuls
    block_size: int = 1024  # T: the longest context, in tokens
    n_layer: int = 12  # transformer blocks
    n_head: int = 12  # attention heads; head size is n_embd // n_head
    n_embd: int = 768  # residual stream width
    dropout: float = 0.0  # 0 for pre-training on plenty of data; FlexAttention has no attention dropout
    bias: bool = False  # biases in Linear and LayerNorm; off is slightly better and faster (nanoGPT)
    positional: str = "rope"  # "rope" (rotary on q, k) or "sinusoidal" (fixed absolute, added to embeddings)
    rope_base: float = 10000.0  # RoPE frequency base, as in RoFormer / Llama
    tie_weights: bool = True  # share token embedding and lm_head weight (Press & Wolf 2017), saves V*C params
    attention: str = "auto"  # "auto" picks per device (see attention_backend); "sdpa" | "flex" | "naive" to force

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"GPTConfig.{name}={value!r}: must be an integer >= 1")
        if self.n_embd % self.n_head != 0:
            raise ValueError(
                f"GPTConfig.n_embd={self.n_embd} must be divisible by n_head={self.n_head}; "
                f"pick n_embd as a multiple of n_head (e.g. {self.n_head * max(1, self.n_embd // self.n_head)})"
            )
        if self.positional == "rope" and (self.n_embd // self.n_head) % 2 != 0:
            raise ValueError(f"GPTConfig.n_embd // n_head = {self.n_embd // self.n_head}: rope needs an even head size")
        if self.positional == "sinusoidal" and self.n_embd % 2 != 0:
            raise ValueError(f"GPTConfig.n_embd={self.n_embd}: sinusoidal positions need an even n_embd")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig.dropout={self.dropout!r}: must be in [0, 1)")
        if self.positional not in POSITIONAL:
            raise ValueError(f"GPTConfig.positional={self.positional!r}: must be one of {list(POSITIONAL)}")
        if self.attention not in ATTENTION:
            raise ValueError(f"GPTConfig.attention={self.attention!r}: must be one of {list(ATTENTION)}")
        if not self.rope_base > 0:
            raise ValueError(f"GPTConfig.rope_base={self.rope_base!r}: must be > 0")

    @classmethod
    def tiny(cls, **overrides: Any) -> GPTConfig:
        """A model small enough for CPU unit tests (~30k parameters)."""
        base: dict[str, Any] = dict(vocab_size=64, block_size=32, n_layer=2, n_head=2, n_embd=32)
        return cls(**{**base, **overrides})

    @classmethod
    def gpt2_small(cls, **overrides: Any) -> GPTConfig:
        """GPT-2 small shape: 12 layers, 12 heads, 768 wide, 1024 context (~124M parameters)."""
        base: dict[str, Any] = dict(vocab_size=50304, block_size=1024, n_layer=12, n_head=12, n_embd=768)
        return cls(**{**base, **overrides})


# ----------------------------------------------------------------------------------------------------------------
# Attention: one dispatch function, one mask builder, one kernel call


def attention_backend(
    device: torch.device | str, doc_masking: bool, requested: str = "auto", dropout: float = 0.0
) -> str:
    """Pick "sdpa", "flex" or "naive" for a device; pure logic, no GPU needed to test it.

    auto on CUDA: "flex" when documents must be masked (block-sparse, skips cross-document blocks), else "sdpa"
    (PyTorch picks flash / cuDNN / memory-efficient); "sdpa" with a boolean mask when attention dropout is on,
    which flex_attention does not have. Off CUDA "flex" falls back to "sdpa" with a boolean mask, since
    flex_attention is only fused under torch.compile on GPU; "naive" is the reference everywhere.
    """
    if requested not in ATTENTION:
        raise ValueError(f"attention={requested!r}: must be one of {list(ATTENTION)}")
    on_cuda = torch.device(device).type == "cuda"
    if requested == "auto":
        return "flex" if (on_cuda and doc_masking and dropout == 0.0) else "sdpa"
    if requested == "flex" and not on_cuda:
        logger.warning("attention='flex' requested on %s: flex_attention needs CUDA + compile; using 'sdpa'", device)
        return "sdpa"
    return requested


def build_attention_mask(backend: str, doc_ids: torch.Tensor | None, T: int, device: torch.device) -> Any:
    """Mask shared by all layers for one batch: None (plain causal), a boolean (B, 1, T, T) tensor, or a BlockMask."""
    if backend == "flex":
        from torch.nn.attention.flex_attention import create_block_mask

        if doc_ids is None:

            def mask_mod(b: Any, h: Any, q_idx: Any, kv_idx: Any) -> Any:
                return q_idx >= kv_idx

            B = None
        else:
            docs = doc_ids

            def mask_mod(b: Any, h: Any, q_idx: Any, kv_idx: Any) -> Any:
                return (q_idx >= kv_idx) & (docs[b, q_idx] == docs[b, kv_idx])

            B = docs.size(0)
        # compiled mask creation avoids materialising (B, T, T) on GPU; uncompiled is fine on CPU (tests). Inside a
        # torch.compile'd model Dynamo traces create_block_mask itself (a nested torch.compile would break the graph).
        if device.type == "cuda" and not torch.compiler.is_compiling():
            return _compiled("create_block_mask", create_block_mask)(mask_mod, B, None, T, T, device=device)
        return create_block_mask(mask_mod, B, None, T, T, device=device)
    if doc_ids is None and backend == "sdpa":
        return None  # SDPA's is_causal=True: the fused kernels' fastest path
    causal = torch.ones(T, T, dtype=torch.bool, device=device).tril()  # (T, T)
    if doc_ids is None:
        return causal[None, None]  # (1, 1, T, T)
    same_doc = doc_ids[:, :, None] == doc_ids[:, None, :]  # (B, T, T)
    return (causal[None] & same_doc)[:, None]  # (B, 1, T, T), True = may attend


_COMPILED: dict[str, Callable[..., Any]] = {}


def _compiled(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """torch.compile(fn), made once per process (outside any compiled region: no global read under Dynamo)."""
    if name not in _COMPILED:
        _COMPILED[name] = torch.compile(fn, dynamic=False)
    return _COMPILED[name]


def _flex_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, block_mask: Any) -> torch.Tensor:
    """flex_attention: compiled on CUDA (the fused kernel; inside a torch.compile'd model, Dynamo compiles the plain
    call into the model's graph); uncompiled elsewhere (reference speed only, and no backward on CPU)."""
    from torch.nn.attention.flex_attention import flex_attention

    if q.is_cuda and not torch.compiler.is_compiling():
        return _compiled("flex_attention", flex_attention)(q, k, v, block_mask=block_mask)
    return flex_attention(q, k, v, block_mask=block_mask)


def attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, backend: str, mask: Any, dropout_p: float = 0.0
) -> torch.Tensor:
    """Causal attention over (B, nh, T, hs) q, k, v with the mask from build_attention_mask; returns (B, nh, T, hs)."""
    if backend == "sdpa":
        if mask is None:
            return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
    if backend == "flex":
        if dropout_p > 0:
            raise ValueError(
                f"dropout={dropout_p} during training: flex_attention has no attention dropout; "
                "set GPTConfig.dropout=0.0 or attention='sdpa'"
            )
        return _flex_attention(q, k, v, mask)
    if backend == "naive":
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, nh, T, T)
        att = att.masked_fill(~mask, float("-inf"))  # every row keeps its diagonal, so no all -inf rows
        att = F.dropout(F.softmax(att, dim=-1), p=dropout_p)
        return att @ v  # (B, nh, T, hs)
    raise ValueError(f"attention backend {backend!r}: must be 'sdpa', 'flex' or 'naive'")


# ----------------------------------------------------------------------------------------------------------------
# Positions


def rope_cache(T: int, head_size: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin tables, each (T, head_size // 2), for rotary embeddings (Su et al. 2021, RoFormer)."""
    inv_freq = 1.0 / (base ** (torch.arange(0, head_size, 2, dtype=torch.float32) / head_size))  # (hs/2,)
    angles = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)  # (T, hs/2)
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate (B, nh, T, hs) x by position; pairs are (i, i + hs/2), the GPT-NeoX / Llama layout."""
    T = x.size(-2)
    cos, sin = cos[:T], sin[:T]  # (T, hs/2), float32
    x1, x2 = x.float().chunk(2, dim=-1)  # (B, nh, T, hs/2) each; rotated in float32 under bf16 autocast too
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).to(x.dtype)


def sinusoidal_table(T: int, n_embd: int) -> torch.Tensor:
    """Fixed absolute position embeddings, (T, n_embd), from "Attention Is All You Need" (Vaswani et al. 2017)."""
    pos = torch.arange(T, dtype=torch.float32)[:, None]  # (T, 1)
    div = torch.exp(torch.arange(0, n_embd, 2, dtype=torch.float32) * (-math.log(10000.0) / n_embd))  # (C/2,)
    table = torch.zeros(T, n_embd)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div)
    return table


# ----------------------------------------------------------------------------------------------------------------
# Modules


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.rope = config.positional == "rope"
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v in one matmul
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, backend: str, mask: Any, rope: tuple[torch.Tensor, torch.Tensor] | None
    ) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # (B, T, C) each
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        y = attend(q, k, v, backend, mask, self.dropout if self.training else 0.0)  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C): heads side by side
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))  # (B, T, C) -> (B, T, 4C) -> (B, T, C)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(
        self, x: torch.Tensor, backend: str, mask: Any, rope: tuple[torch.Tensor, torch.Tensor] | None
    ) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), backend, mask, rope)
        return x + self.mlp(self.ln_2(x))


# ----------------------------------------------------------------------------------------------------------------
# The model


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_weights:
            self.transformer.wte.weight = self.lm_head.weight  # one (V, C) tensor, two roles
        # position tables are derived from the config, so they are buffers kept out of the state dict
        hs = config.n_embd // config.n_head
        if config.positional == "rope":
            cos, sin = rope_cache(config.block_size, hs, config.rope_base)
            self.register_buffer("rope_cos", cos, persistent=False)  # (T, hs/2)
            self.register_buffer("rope_sin", sin, persistent=False)  # (T, hs/2)
        else:
            self.register_buffer("wpe", sinusoidal_table(config.block_size, config.n_embd), persistent=False)  # (T, C)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2: scale residual projections by 1/sqrt(2 * n_layer)
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        """Trainable parameters, a tied tensor counted once; positions are fixed buffers, so none to subtract."""
        return sum(p.numel() for p in self.parameters())

    def estimate_flops_per_token(self, T: int | None = None) -> float:
        """Training FLOPs per token, forward + backward: 6N + 12 L H Q T (PaLM appendix B, as in nanoGPT's MFU)."""
        cfg = self.config
        T = cfg.block_size if T is None else T
        return 6 * self.num_params() + 12 * cfg.n_layer * cfg.n_head * (cfg.n_embd // cfg.n_head) * T

    def estimate_mfu(self, tokens_per_s: float, peak_flops: float = 989e12, T: int | None = None) -> float:
        """Model FLOPs utilisation; the default peak is H100 SXM dense bf16."""
        return self.estimate_flops_per_token(T) * tokens_per_s / peak_flops

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        doc_ids: torch.Tensor | None = None,
        attention: str | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """idx (B, T) token ids; targets (B, T) next tokens, -1 ignored; doc_ids (B, T) ids that bound attention;
        attention overrides config.attention for this call.

        Returns logits (B, T, V) and the mean cross-entropy loss (None without targets).
        """
        B, T = idx.size()
        if idx.size(1) > self.config.block_size:
            raise ValueError(f"sequence length {T} > block_size={self.config.block_size}; crop the input")
        if doc_ids is not None and doc_ids.shape != idx.shape:
            raise ValueError(f"doc_ids shape {tuple(doc_ids.shape)} must equal idx shape {tuple(idx.shape)}")
        dropout = self.config.dropout if self.training else 0.0
        backend = attention_backend(idx.device, doc_ids is not None, attention or self.config.attention, dropout)
        mask = build_attention_mask(backend, doc_ids, T, idx.device)  # built once, shared by every layer

        x = self.transformer.wte(idx)  # (B, T, C)
        rope = None
        if self.config.positional == "rope":
            rope = (self.rope_cos, self.rope_sin)
        else:
            x = x + self.wpe[:T].to(x.dtype)  # (B, T, C) + (T, C)
        x = self.transformer.drop(x)
        for block in self.transformer.h:
            x = block(x, backend, mask, rope)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def configure_optimizers(
        self, weight_decay: float, lr: float, betas: tuple[float, float] = (0.9, 0.95)
    ) -> torch.optim.AdamW:
        """AdamW with decay on 2-D weights (matmuls, embeddings) only; fused kernel on CUDA."""
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]  # biases and norm gains
        groups = [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        use_fused = all(p.is_cuda for p in params) and "fused" in inspect.signature(torch.optim.AdamW).parameters
        return torch.optim.AdamW(groups, lr=lr, betas=betas, fused=True if use_fused else None)

    @torch.no_grad()
    def generate(
        self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None
    ) -> torch.Tensor:
        """Sample max_new_tokens after idx (B, T), re-running the cropped context each step (no KV cache).

        The context grows every step: SDPA serves any length, where compiled flex_attention would recompile."""
        attention = "naive" if self.config.attention == "naive" else "sdpa"
        for _ in range(max_new_tokens):
            context = idx[:, -self.config.block_size :]  # (B, <=T)
            logits, _ = self(context, attention=attention)
            logits = logits[:, -1, :] / temperature  # (B, V)
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = float("-inf")
            next_id = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)  # (B, 1)
            idx = torch.cat((idx, next_id), dim=1)
        return idx


# ----------------------------------------------------------------------------------------------------------------
# Checkpoints: safetensors for tensors, JSON for everything else; nothing is ever unpickled


def _replace_atomically(path: Path, write: Callable[[str], None]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(str(tmp))
    os.replace(tmp, path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def save_checkpoint(
    model: GPT,
    path: str | os.PathLike[str],
    *,
    optimizer: torch.optim.Optimizer | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint folder: model.safetensors (tied weights once), optimizer.safetensors, checkpoint.json.

    extra (step, tokens seen, data position, ...) must be JSON-serialisable. checkpoint.json is written last, so
    its presence marks a complete checkpoint.
    """
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "config": dataclasses.asdict(model.config),
        "extra": extra or {},
        "optimizer": None,
    }
    json.dumps(meta)  # fail before writing anything if extra is not JSON
    _replace_atomically(out / WEIGHTS_FILE, lambda f: save_model(model, f, metadata={"format": CHECKPOINT_FORMAT}))
    if optimizer is not None:
        state = optimizer.state_dict()
        tensors: dict[str, torch.Tensor] = {}
        for index, param_state in state["state"].items():  # index: position of the param across all groups
            for key, value in param_state.items():
                t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
                tensors[f"state.{index}.{key}"] = t.detach().contiguous().cpu()
        groups = [{k: _jsonable(v) for k, v in group.items()} for group in state["param_groups"]]
        meta["optimizer"] = {"class": type(optimizer).__name__, "param_groups": groups}
        _replace_atomically(out / OPTIMIZER_FILE, lambda f: save_file(tensors, f))
    _replace_atomically(out / META_FILE, lambda f: Path(f).write_text(json.dumps(meta, indent=2), encoding="utf-8"))
    return out


def _read_meta(path: Path) -> dict[str, Any]:
    meta_path = path / META_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"no {META_FILE} in {path}: not a complete checkpoint written by save_checkpoint")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{meta_path}: format {meta.get('format')!r}, expected {CHECKPOINT_FORMAT!r}")
    return meta


def load_checkpoint(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[GPT, dict[str, Any]]:
    """Rebuild the model from checkpoint.json and model.safetensors; returns (model in eval mode, extra)."""
    ckpt = Path(path)
    meta = _read_meta(ckpt)
    model = GPT(GPTConfig(**meta["config"]))
    load_model(model, ckpt / WEIGHTS_FILE, strict=True, device=str(device))  # restores tied weights as well
    model.to(device)
    return model.eval(), meta["extra"]


def load_optimizer_state(optimizer: torch.optim.Optimizer, path: str | os.PathLike[str]) -> None:
    """Restore AdamW moments and step counts saved by save_checkpoint into an optimizer built the same way."""
    ckpt = Path(path)
    saved = _read_meta(ckpt)["optimizer"]
    if saved is None:
        raise FileNotFoundError(f"{ckpt} holds no optimizer state; pass optimizer= to save_checkpoint")
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in load_file(str(ckpt / OPTIMIZER_FILE)).items():
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = tensor
    groups = [{k: tuple(v) if k == "betas" else v for k, v in group.items()} for group in saved["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})  # moves state to each param's device
