#!/usr/bin/env bash
# Submit docker/slurm/train.sbatch sized from the environment; arguments go to `mdrl train`.
#   NNODES=4 GPUS_PER_NODE=8 SBATCH_ARGS="--partition=gpu --time=2-00:00:00" \
#     docker/slurm/launch.sh mixture=math model=qwen2.5-7b-base
# Env: NNODES (2), GPUS_PER_NODE (8), SBATCH_ARGS, plus train.sbatch's (exported to the job).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=docker/lib.sh
source "$here/../lib.sh"

: "${NNODES:=2}" "${GPUS_PER_NODE:=8}"
need_int NNODES
need_int GPUS_PER_NODE
need_cmd sbatch "run this on a SLURM login node"
words SBATCH_ARGS
# SLURM runs a spooled copy of the batch script: MDRL_ROOT tells it where lib.sh lives.
export MDRL_ROOT=${here%/docker/slurm}
run sbatch "--nodes=$NNODES" "--gpus-per-node=$GPUS_PER_NODE" "${WORDS[@]}" \
  "$MDRL_ROOT/docker/slurm/train.sbatch" "$@"
