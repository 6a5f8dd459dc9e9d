#!/usr/bin/env bash
# Join this node to the Ray cluster whose head is HEAD_ADDR:RAY_PORT; extra arguments go to `ray start`.
#   HEAD_ADDR=node0 GPUS_PER_NODE=8 docker/ray_worker.sh
# Env: HEAD_ADDR (required: head host name or IP), RAY_PORT (6379), GPUS_PER_NODE, NODE_IP,
#      RAY_BLOCK, DRY_RUN.
set -euo pipefail
# shellcheck source=docker/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need HEAD_ADDR "give the Ray head's host name or IP, e.g. HEAD_ADDR=node0"
need_cmd ray "install mdrl's GPU stack or run this inside the image (docker/Dockerfile)"
job_env
ray_worker_cmd "$HEAD_ADDR"
run "${RAY_CMD[@]}" "$@"
