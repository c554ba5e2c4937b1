"""Under-trained tokens from a checkpoint's embedding matrix, in the spirit of Land & Bartolo 2024, "Fishing for
Magikarp: Automatically Detecting Under-trained Tokens in Large Language Models" (arXiv:2405.05417).

Reads one (vocab, d) tensor from a safetensors file with numpy alone (the format is a JSON header and raw little-
endian data: nothing is unpickled, nothing needs torch). Per row: its norm, and its cosine similarity to the mean of
rows of tokens known to be unused (reserved specials, padding rows), after removing the mean and the first principal
component of the matrix, as the paper does. It flags rows, it does not prompt the model to verify them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tokenizer.vocab import Vocab

log = logging.getLogger(__name__)

SAFETENSORS_SHOULD = (
    "a safetensors file starts with an 8-byte little-endian header length, then a JSON header "
    "{name: {dtype, shape, data_offsets}}, then the tensors' bytes, as safetensors.save_file writes it"
)
_DTYPES: dict[str, str] = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2"}  # BF16: upper half of a float32
# Names of the token-embedding tensor in common checkpoints: GPT-2 `wte`, Llama `tok_embeddings` / `embed_tokens`,
# Mistral/HF `embed_tokens`, NeoX `embed_in`; `lm_head` / `output` (unembeddings) only when the user names them.
EMBEDDING_NAME = re.compile(
    r"(^|[._])(wte|tok_embeddings|embed_tokens|embed_in|word_embeddings|embedding|embed)([._]|$)"
)
# Special tokens that exist but are never used in training text: reserved slots and fillers.
UNUSED_SPECIAL = re.compile(r"reserved|unused|extra_\d|SPECIAL_\d|<pad>|\[PAD\]|control_\d|placeholder", re.I)
MAX_COSINE_THRESHOLD = 0.9  # the outlier rule never asks for more: in 16 dimensions random rows have SD 0.25
CHUNK_ROWS = 8192  # rows converted to float64 at once: bounded memory for a 256k x 8k matrix


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, truncated, or holds no usable embedding tensor."""


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One tensor of a safetensors file: where its bytes are."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    start: int  # absolute byte offset in the file
    end: int


def read_safetensors_header(path: str | Path) -> dict[str, TensorInfo]:
    """Name -> TensorInfo of every tensor in a safetensors file (metadata dropped); checks offsets against the size."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(
                    f"{path}: {len(head)} bytes, too short for a header (truncated?); {SAFETENSORS_SHOULD}"
                )
            (n,) = struct.unpack("<Q", head)
            if n > min(size - 8, 100_000_000):
                raise CheckpointError(
                    f"{path}: header length {n} exceeds the file ({size} bytes): truncated or not "
                    f"safetensors; {SAFETENSORS_SHOULD}"
                )
            header = json.loads(f.read(n))
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint file {path}; pass --model with a .safetensors file") from None
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: the header is not JSON ({e}); {SAFETENSORS_SHOULD}") from e
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: the header is not a JSON object; {SAFETENSORS_SHOULD}")
    out: dict[str, TensorInfo] = {}
    base = 8 + n
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (lo, hi) = spec["dtype"], tuple(int(s) for s in spec["shape"]), spec["data_offsets"]
        except (TypeError, KeyError, ValueError) as e:
            raise CheckpointError(
                f"{path}: tensor {name!r} has no dtype/shape/data_offsets; {SAFETENSORS_SHOULD}"
            ) from e
        if base + hi > size or lo > hi:
            raise CheckpointError(
                f"{path}: tensor {name!r} ends at byte {base + hi}, past the end of the file ({size} bytes): truncated"
            )
        out[name] = TensorInfo(name, dtype, shape, base + lo, base + hi)
    return out


def load_tensor(path: str | Path, info: TensorInfo) -> np.ndarray:
    """A tensor as a read-only numpy memmap (BF16 as its raw uint16 bits; see `rows_float`)."""
    if info.dtype not in _DTYPES:
        raise CheckpointError(
            f"{path}: tensor {info.name!r} is {info.dtype}; embeddings must be one of {sorted(_DTYPES)}"
        )
    dt = np.dtype(_DTYPES[info.dtype])
    count = int(np.prod(info.shape)) if info.shape else 1
    if count * dt.itemsize != info.end - info.start:
        raise CheckpointError(
            f"{path}: tensor {info.name!r} holds {info.end - info.start} bytes, not the "
            f"{count * dt.itemsize} its shape {list(info.shape)} x {info.dtype} needs"
        )
    return np.memmap(path, dtype=dt, mode="r", offset=info.start, shape=info.shape)


def rows_float(matrix: np.ndarray, dtype_name: str, lo: int, hi: int) -> np.ndarray:
    """Rows lo:hi as float64 (BF16 bits are widened to float32 first)."""
    block = np.asarray(matrix[lo:hi])
    if dtype_name == "BF16":
        block = (block.astype(np.uint32) << 16).view(np.float32)
    return block.astype(np.float64)


TIED_HEAD_NAME = re.compile(r"(^|\.)(lm_head|output)\.weight$")


def find_embedding(path: str | Path, vocab_size: int, name: str | None = None) -> tuple[TensorInfo, np.ndarray]:
    """The token-embedding tensor: `name` if given, else the 2-D tensor named like an embedding with >= vocab rows."""
    path = Path(path)
    tensors = read_safetensors_header(path)
    listing = ", ".join(f"{k} {list(v.shape)}" for k, v in sorted(tensors.items())[:20])
    if name is not None:
        if name not in tensors:
            raise CheckpointError(f"{path}: no tensor {name!r}; tensors are [{listing}]; pass --embedding <name>")
        info = tensors[name]
    else:
        found = [t for t in tensors.values() if len(t.shape) == 2 and EMBEDDING_NAME.search(t.name)]
        if not found:  # tied weights saved once, under the output head's name (sieve's own checkpoints do this)
            found = [t for t in tensors.values() if len(t.shape) == 2 and TIED_HEAD_NAME.search(t.name)]
        fitting = [t for t in found if t.shape[0] >= vocab_size] or found
        if not fitting:
            raise CheckpointError(
                f"{path}: no 2-D tensor named like an embedding (wte, embed_tokens, tok_embeddings);"
                f" tensors are [{listing}]; pass --embedding <name>"
            )
        info = min(fitting, key=lambda t: (t.shape[0] != vocab_size, t.name))  # exact size first, then by name
    if len(info.shape) != 2:
        raise CheckpointError(f"{path}: tensor {info.name!r} has shape {list(info.shape)}, not (vocab, d)")
    if info.shape[0] < vocab_size:
        raise CheckpointError(
            f"{path}: tensor {info.name!r} has {info.shape[0]} rows, fewer than the tokenizer's "
            f"{vocab_size} ids: is it this tokenizer's model?"
        )
    return info, load_tensor(path, info)


def known_unused_ids(vocab: Vocab, rows: int) -> list[int]:
    """Ids whose tokens never occur in training text: reserved/filler specials, and rows past the vocabulary."""
    ids = [t.id for t in vocab.tokens if t.special and UNUSED_SPECIAL.search(t.text)]
    return sorted(set(ids) | set(range(vocab.vocab_size, rows)))


def _first_pc(matrix: np.ndarray, dtype: str, mean: np.ndarray, iters: int = 30) -> np.ndarray:
    """The first principal component of the centred rows, by power iteration over chunks (no (V, d) copy)."""
    rng = np.random.default_rng(0)
    v = rng.standard_normal(mean.shape[0])
    v /= np.linalg.norm(v)
    n = matrix.shape[0]
    for _ in range(iters):
        w = np.zeros_like(v)
        for lo in range(0, n, CHUNK_ROWS):
            x = rows_float(matrix, dtype, lo, min(n, lo + CHUNK_ROWS)) - mean
            w += x.T @ (x @ v)
        norm = np.linalg.norm(w)
        if norm == 0:
            return v
        w /= norm
        if abs(float(w @ v)) > 1 - 1e-10:
            return w
        v = w
    return v


def indicators(matrix: np.ndarray, dtype: str, reference: Sequence[int]) -> dict[str, np.ndarray]:
    """Per row: `norm`, and `cosine` to the mean of the reference rows after removing the mean and the first
    principal component (Land & Bartolo 2024, section 3.1); `cosine` is NaN when there are no reference rows."""
    n, d = matrix.shape
    total = np.zeros(d)
    norms = np.empty(n)
    for lo in range(0, n, CHUNK_ROWS):
        x = rows_float(matrix, dtype, lo, min(n, lo + CHUNK_ROWS))
        total += x.sum(axis=0)
        norms[lo : lo + len(x)] = np.linalg.norm(x, axis=1)
    mean = total / max(n, 1)
    cosine = np.full(n, np.nan)
    if len(reference) == 0 or n < 2:
        return {"norm": norms, "cosine": cosine}
    pc = _first_pc(matrix, dtype, mean)
    ref = np.asarray(sorted(reference))
    r = rows_float(matrix[ref], dtype, 0, len(ref)).mean(axis=0) - mean
    r -= (r @ pc) * pc
    r_norm = np.linalg.norm(r)
    if r_norm == 0:
        return {"norm": norms, "cosine": cosine}
    for lo in range(0, n, CHUNK_ROWS):
        x = rows_float(matrix, dtype, lo, min(n, lo + CHUNK_ROWS)) - mean
        x -= np.outer(x @ pc, pc)
        xn = np.linalg.norm(x, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cosine[lo : lo + len(x)] = np.where(xn > 0, (x @ r) / (xn * r_norm), 0.0)
    return {"norm": norms, "cosine": cosine}


def _robust(values: np.ndarray) -> tuple[float, float]:
    """Median and MAD scaled to a normal SD (0 when there are no values)."""
    if values.size == 0:
        return 0.0, 0.0
    med = float(np.median(values))
    return med, float(np.median(np.abs(values - med))) * 1.4826


def undertrained(
    path: str | Path,
    vocab: Vocab,
    tensor_name: str | None = None,
    extra_unused: Iterable[int] = (),
    min_cosine: float = 0.5,
    min_z: float = 4.0,
) -> dict[str, Any]:
    """Indicators for every id and the ids that look under-trained.

    With known-unused rows (the reference): flag a token whose cosine to their mean is at least `min_cosine` and an
    outlier among ordinary tokens (robust z >= `min_z`, capped at a cosine of 0.9: in few dimensions random rows
    reach 0.5 by chance).
    Without them: flag a norm far below the bulk (robust z >= `min_z`). Returns {"tensor", "shape", "dtype",
    "reference_ids", "method", "threshold", "norm", "cosine", "score", "flagged": {id: reason}, "notes"};
    norm/cosine/score are arrays over the tensor's rows.
    """
    info, matrix = find_embedding(path, vocab.vocab_size, tensor_name)
    rows = matrix.shape[0]
    extra = sorted(set(extra_unused))
    bad = [i for i in extra if not 0 <= i < rows]
    if bad:
        raise CheckpointError(f"unused ids {bad[:5]} are outside the {rows} rows of {info.name!r}")
    reference = sorted(set(known_unused_ids(vocab, rows)) | set(extra))
    ind = indicators(matrix, info.dtype, reference)
    norm, cosine = ind["norm"], ind["cosine"]
    notes: list[str] = []
    ordinary = np.zeros(rows, dtype=bool)
    ordinary[[t.id for t in vocab.tokens if not t.special]] = True
    ordinary[reference] = False
    flagged: dict[int, str] = {}
    if len(reference) >= 2 and not np.isnan(cosine).all():
        method = "cosine_to_unused"
        med, sd = _robust(cosine[ordinary])
        threshold = max(min_cosine, min(med + min_z * sd, MAX_COSINE_THRESHOLD))
        ref_median = float(np.median(cosine[reference]))
        if ref_median < min_cosine:
            notes.append(
                f"unused rows do not share a direction (median cosine to their mean {ref_median:.2f}); an input "
                f"embedding may not show it: try the output embedding (--embedding lm_head.weight)"
            )
        score = np.clip(cosine, 0.0, 1.0)
        for i in np.flatnonzero(ordinary & (cosine >= threshold)).tolist():
            flagged[i] = (
                f"undertrained: cosine {cosine[i]:.2f} to the unused tokens' mean (>= {threshold:.2f}), "
                f"norm {norm[i]:.3g}"
            )
    else:
        method = "norm"
        med, sd = _robust(norm[ordinary])
        z = (med - norm) / sd if sd > 0 else np.zeros(rows)
        threshold = min_z
        score = np.clip(z / (2 * min_z), 0.0, 1.0)
        notes.append(f"no known-unused tokens ({len(reference)} found): flagged by small norm only; pass --unused-ids")
        for i in np.flatnonzero(ordinary & (z >= min_z)).tolist():
            flagged[i] = f"undertrained: norm {norm[i]:.3g}, {z[i]:.1f} robust SDs below the median {med:.3g}"
    log.info("undertrained: %s %s, %d reference rows, %d flagged", info.name, info.shape, len(reference), len(flagged))
    return {
        "tensor": info.name,
        "shape": list(info.shape),
        "dtype": info.dtype,
        "reference_ids": reference,
        "method": method,
        "threshold": threshold,
        "norm": norm,
        "cosine": cosine,
        "score": score,
        "flagged": flagged,
        "notes": notes,
    }


def write_safetensors(path: str | Path, tensors: dict[str, np.ndarray]) -> None:
    """Write float32/float16/float64 arrays as a safetensors file (for tests and small tools; numpy only)."""
    names = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("<f8"): "F64"}
    header: dict[str, Any] = {}
    blobs: list[bytes] = []
    offset = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
        if a.dtype not in names:
            raise ValueError(f"tensor {name!r} is {a.dtype}; write float16, float32 or float64")
        blob = a.tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header).encode("utf-8")
    head += b" " * (-len(head) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))
