#!/usr/bin/env bash
# Multi-node training without a scheduler: Ray head on this machine, a Ray worker on every other
# node over ssh, wait until all have joined, then `mdrl train` here sized to the cluster.
#   NODES="node0 node1" GPUS_PER_NODE=8 docker/launch_multinode.sh mixture=math model=qwen2.5-7b-base
#   HOSTFILE=hosts.txt IMAGE=mdrl:latest docker/launch_multinode.sh mixture=math,code
# The first node of NODES / HOSTFILE is this machine. Run from a directory on a filesystem shared by
# all nodes (veRL workers write checkpoints under the run directory). Ray is stopped on exit.
set -euo pipefail
# shellcheck source=docker/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Nodes: HOSTFILE (first word of each line; '#' comments and e.g. "slots=8" ignored) or NODES
# (separated by spaces or commas).
if [[ -n "${HOSTFILE:-}" ]]; then
  [[ -r "$HOSTFILE" ]] || die "HOSTFILE '$HOSTFILE' is not a readable file."
  mapfile -t hosts < <(awk '{ sub(/#.*/, "") } NF { print $1 }' "$HOSTFILE")
else
  need NODES "list the nodes, this one first, in NODES=\"node0 node1\" or in a HOSTFILE"
  read -r -a hosts <<<"${NODES//,/ }"
fi
((${#hosts[@]})) || die "no node found in ${HOSTFILE:-NODES}."
workers=("${hosts[@]:1}")

# GPUs per node: GPUS_PER_NODE, else what nvidia-smi counts here (nodes are assumed alike).
: "${GPUS_PER_NODE:=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)}"
[[ "$GPUS_PER_NODE" != 0 ]] || die "GPUS_PER_NODE is not set and nvidia-smi counts no GPU here: set it."
need_int GPUS_PER_NODE

job_env
# How the workers (and mdrl's Ray driver) reach the head; ray.init() in veRL reads RAY_ADDRESS.
head_addr=${HEAD_ADDR:-${hosts[0]}}
export RAY_ADDRESS="$head_addr:$RAY_PORT"
: "${SSH_OPTS=-o BatchMode=yes}" # fail fast instead of prompting for a password
words SSH_OPTS
ssh_cmd=(ssh -n "${WORDS[@]}")

# With IMAGE, each node runs one detached container whose main process is the Ray node (hence
# --block), on the host network so Ray's ports are the node's; `ray status` and `mdrl train` then
# run inside the head's container through docker exec, next to its raylet.
# The data root, HF cache and Ray token folder are mounted at the same paths as on the host.
in_node=() on_head=() stop=("${JOB_ENV[@]}" ray stop)
if [[ -n "${IMAGE:-}" ]]; then
  name=${MDRL_CONTAINER:-mdrl-ray}
  container_mounts
  volumes=()
  for m in "${MOUNTS[@]}"; do volumes+=(-v "$m"); done
  words DOCKER_ARGS
  in_node=(docker run -d --rm --name "$name" --gpus all --network host --ipc host
    "${volumes[@]}" -w "$PWD" "${WORDS[@]}" "$IMAGE")
  on_head=(docker exec -e "RAY_ADDRESS=$RAY_ADDRESS" "$name")
  stop=(docker stop "$name")
  RAY_BLOCK=1
  need_cmd docker "install Docker, or leave IMAGE unset to use the ray/mdrl installed here"
else
  RAY_BLOCK=0 # plain `ray start` daemonizes, so ssh and this script move on
  need_cmd ray "install mdrl's GPU stack here, or set IMAGE to run in containers"
  need_cmd mdrl "install mdrl here (pip install -e .), or set IMAGE to run in containers"
fi
((${#workers[@]} == 0)) || need_cmd ssh "workers are started over ssh"

# on_node NODE CMD...: ssh the command as one quoted string (ssh re-parses it with the remote
# shell); REMOTE_SETUP (e.g. "source ~/venv/bin/activate") runs first on the remote side.
on_node() {
  local node=$1 cmd
  shift
  cmd=$(quote "$@")
  run "${ssh_cmd[@]}" "$node" "${REMOTE_SETUP:+$REMOTE_SETUP && }$cmd"
}

cleanup() {
  [[ "${KEEP_RAY:-0}" != 1 ]] || return 0
  local node
  for node in "${workers[@]}"; do on_node "$node" "${stop[@]}" || true; done
  run "${stop[@]}" || true
}
trap cleanup EXIT
trap "exit 130" INT # exit through the EXIT trap, so Ray is stopped on Ctrl-C too
trap "exit 143" TERM

ray_head_cmd
run "${in_node[@]}" "${RAY_CMD[@]}"
ray_worker_cmd "$head_addr"
for node in "${workers[@]}"; do on_node "$node" "${in_node[@]}" "${RAY_CMD[@]}"; done
wait_for_ray "${#hosts[@]}" "$RAY_ADDRESS" "${on_head[@]}" "${JOB_ENV[@]}"
run "${on_head[@]}" "${JOB_ENV[@]}" mdrl train "cluster.nnodes=${#hosts[@]}" "cluster.gpus_per_node=$GPUS_PER_NODE" "$@"
