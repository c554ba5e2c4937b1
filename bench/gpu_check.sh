#!/usr/bin/env bash
# The training stage's GPU checks in one run, for a CUDA machine lent for a few minutes (README: "On a GPU").
# Installs nothing: it needs a python3 holding torch (>= 2.5, for FlexAttention), numpy, pyarrow, safetensors,
# tokenizers, rich and pytest, which the training code and these checks alone import. Logs and the bench's JSON go
# to $OUT (or ./gpu-check). About 8 minutes on an H100/H200: tests ~2-3, bench rows ~40 s each (compiles included).
#
#     bash bench/gpu_check.sh [BENCH_BUDGET_S]
set -uo pipefail
out="${OUT:-gpu-check}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
budget="${1:-300}"

python3 - <<'PY' 2>&1 | tee "$out/device.txt"
import platform, torch
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.version.cuda)
print("device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
PY
python3 -m pytest -q -p no:cacheprovider -m gpu tests/train/test_gpu.py 2>&1 | tee "$out/gpu-tests.log"
tests=${PIPESTATUS[0]}
python3 bench/train.py --no-cpu --steps 20 --gpu-batch 16 --budget-s "$budget" --out "$out/train.json" 2>&1 \
    | tee "$out/bench-train.log"
bench=${PIPESTATUS[0]}
echo "gpu tests exit $tests, bench exit $bench"
exit $((tests || bench))
