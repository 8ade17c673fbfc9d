#!/usr/bin/env bash
# The elastic-net path on a CUDA device: SparseLens and the 60-line FISTA
# baseline on the GPU, glmnet (Fortran, CPU only) beside them on P1, in one
# process per problem with gaps against the best objective reached; then the
# ImageNet-sized synthetic path (1.28 M × 2,048 × 1,000 classes) alone.
# Run from the repository root on a machine with an NVIDIA GPU (~60 GB for the
# last part), after the test command's install:
#   bash benchmarks/gpu.sh 2>&1 | tee gpu.log
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
PY=.venv/bin/python
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
"$PY" -m benchmarks.enet_path --problems p1 --solvers sparselens fista glmnet \
  --device cuda --no-reference
# glmnet runs on the CPU only: on P2 it takes hours.
"$PY" -m benchmarks.enet_path --problems p2 --solvers sparselens fista \
  --device cuda --no-reference
"$PY" -m benchmarks.enet_imagenet --device cuda
