#!/usr/bin/env bash
# Start the Ray head of an mdrl cluster on this node; extra arguments go to `ray start`.
#   GPUS_PER_NODE=8 docker/ray_head.sh            # daemonizes; `ray stop` ends it
#   RAY_BLOCK=1 docker/ray_head.sh --num-cpus=64  # stays in the foreground (containers, srun)
# Env: RAY_PORT (6379), RAY_DASHBOARD_HOST (127.0.0.1), RAY_DASHBOARD_PORT (8265),
#      GPUS_PER_NODE, NODE_IP, RAY_BLOCK, RAY_AUTH_MODE, RAY_AUTH_TOKEN_PATH, MDRL_DATA, HF_HOME,
#      DRY_RUN (see docker/README.md).
set -euo pipefail
# shellcheck source=docker/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_cmd ray "install mdrl's GPU stack or run this inside the image (docker/Dockerfile)"
job_env
ray_head_cmd
run "${RAY_CMD[@]}" "$@"
