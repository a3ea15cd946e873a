#!/bin/sh
# GPU check on a CUDA machine whose python3 has torch/torchvision/onnxruntime/pillow/numpy:
# the pure-python packages fluxcull needs beyond those travel under .venv (see the report).
set -e
export PYTHONPATH="$PWD:$PWD/.venv/lib/python3.11/site-packages" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c "import torch, torchvision, onnxruntime; print(torch.__version__, torchvision.__version__, onnxruntime.__version__)"
python3 benchmarks/gpu_check.py "${OUT:-/tmp}" "$@"
