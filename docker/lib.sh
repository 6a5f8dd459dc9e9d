# shellcheck shell=bash
# Helpers shared by the docker/ launch scripts; sourced, never run on its own. Needs bash >= 4.4.
#
# DRY_RUN=1 makes every command print as "+ <argv, shell-quoted>" on one line instead of running,
# so a launch can be previewed (and tested) on a machine without ray, ssh, srun or docker.

PROG=${0##*/}
BG_PIDS=()

# die MSG: one-line error on stderr, exit 2. Every check below goes through here.
die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 2
}

is_dry() { [[ "${DRY_RUN:-0}" == 1 ]]; }

# quote WORDS...: the words on one line, quoted exactly as Python's shlex.join does, so a printed
# line can be pasted into a shell, sent through ssh as one string, and parsed back by the tests.
quote() {
  local out=() w IFS=' '
  for w in "$@"; do
    if [[ -n "$w" && "$w" != *[!A-Za-z0-9@%+=:,./_-]* ]]; then
      out+=("$w")
    else
      out+=("'${w//\'/\'\"\'\"\'}'")
    fi
  done
  printf '%s\n' "${out[*]}"
}

# run CMD...: run it, or under DRY_RUN=1 print it.
run() {
  if is_dry; then
    printf '+ '
    quote "$@"
  else
    "$@"
  fi
}

# run_bg CMD...: like run, in the background (pid kept in BG_PIDS for stop_bg); a dry run prints
# in order, so the printed plan stays deterministic.
run_bg() {
  if is_dry; then
    run "$@"
  else
    "$@" &
    BG_PIDS+=("$!")
  fi
}

stop_bg() {
  if ((${#BG_PIDS[@]})); then kill "${BG_PIDS[@]}" 2>/dev/null || true; fi
}

# need VAR HINT: VAR must be set and non-empty.
need() { [[ -n "${!1:-}" ]] || die "$1 is not set: $2."; }

# need_int VAR [MIN]: VAR must be an integer >= MIN (default 1).
need_int() {
  if [[ ! "${!1:-}" =~ ^[0-9]+$ ]] || ((10#${!1} < ${2:-1})); then
    die "$1 must be an integer >= ${2:-1}, not '${!1:-}'."
  fi
}

# need_cmd CMD HINT: CMD must be on PATH (skipped in dry runs, which run nothing).
need_cmd() {
  is_dry || command -v "$1" >/dev/null || die "$1 is not on PATH: $2."
}

# words VAR: split an env var holding extra arguments (SSH_OPTS, CONTAINER_CMD...) on whitespace
# into the array WORDS, without glob expansion; arguments with spaces are not supported there.
# shellcheck disable=SC2034  # WORDS is this function's output, read by the sourcing scripts
words() { read -r -a WORDS <<<"${!1:-}"; }

# ray_head_cmd / ray_worker_cmd HEAD_HOST: fill the array RAY_CMD with the `ray start` line for a
# head or a worker (after JOB_ENV: call job_env first), from RAY_PORT, RAY_DASHBOARD_HOST/PORT,
# GPUS_PER_NODE, NODE_IP and RAY_BLOCK.
ray_head_cmd() {
  need_int RAY_PORT
  need_int RAY_DASHBOARD_PORT
  RAY_CMD=("${JOB_ENV[@]}" ray start --head "--port=$RAY_PORT" "--dashboard-host=$RAY_DASHBOARD_HOST"
    "--dashboard-port=$RAY_DASHBOARD_PORT")
  ray_common_args
}

ray_worker_cmd() {
  need_int RAY_PORT
  RAY_CMD=("${JOB_ENV[@]}" ray start "--address=$1:$RAY_PORT")
  ray_common_args
}

ray_common_args() {
  # Ray counts GPUs itself; pinning the count keeps veRL's placement consistent with cluster.gpus_per_node.
  if [[ -n "${GPUS_PER_NODE:-}" ]]; then
    need_int GPUS_PER_NODE 0
    RAY_CMD+=("--num-gpus=$GPUS_PER_NODE")
  fi
  # Needed on multi-NIC nodes where Ray would otherwise pick the wrong interface.
  if [[ -n "${NODE_IP:-}" ]]; then RAY_CMD+=("--node-ip-address=$NODE_IP"); fi
  # --block keeps `ray start` in the foreground: required when it is the main process of an srun
  # step or a container, which would otherwise end (and take Ray with it) as soon as it returns.
  if [[ "${RAY_BLOCK:-0}" == 1 ]]; then RAY_CMD+=(--block); fi
}

# count_active_nodes: read `ray status` on stdin, print how many nodes are listed as "Active:" (or
# "Idle:", a section newer autoscalers add), i.e. alive; Pending and failed nodes are not counted.
count_active_nodes() {
  awk '/^(Active|Idle):$/ { on = 1; next } /^[A-Za-z].*:$/ { on = 0 } on && /node_/ { n++ } END { print n + 0 }'
}

# wait_for_ray N ADDRESS [PREFIX...]: poll `PREFIX ray status` until N nodes are active; die after
# RAY_WAIT_TIMEOUT seconds. A dry run prints the status command once and assumes success.
wait_for_ray() {
  local want=$1 addr=$2 have=0
  shift 2
  if is_dry; then
    run "$@" ray status "--address=$addr"
    return
  fi
  need_int RAY_WAIT_TIMEOUT 0
  local deadline=$((SECONDS + RAY_WAIT_TIMEOUT))
  while :; do
    have=$("$@" ray status "--address=$addr" 2>/dev/null | count_active_nodes) || have=0
    ((have >= want)) && return 0
    ((SECONDS < deadline)) ||
      die "only $have of $want Ray nodes joined $addr within $RAY_WAIT_TIMEOUT s; check the ray logs (/tmp/ray) on the missing nodes."
    sleep "${RAY_WAIT_INTERVAL:-5}"
  done
}

# job_env: fill the array JOB_ENV with `env NAME=value ...`, put in front of every ray and mdrl
# command (locally, over ssh, in a container, under srun), so each process sees the same:
# - Ray token authentication, set explicitly either way: Ray >= 2.59 turns it on by itself where
#   ~/.ray/auth_token exists, so nodes that disagree cannot join. RAY_AUTH_MODE=token (default)
#   uses RAY_AUTH_TOKEN_PATH (default ~/.ray/auth_token; it must be the same file on every node,
#   e.g. a shared home), created here (mode 600) if missing; RAY_AUTH_MODE=disabled turns it off.
# - MDRL_DATA: the data root the catalog reads (default ./data, made absolute).
# - HF_HOME: the Hugging Face cache, so models are downloaded once, not once per container.
job_env() {
  : "${RAY_AUTH_MODE:=token}" "${MDRL_DATA:=$PWD/data}" "${HF_HOME:=${HOME:-/tmp}/.cache/huggingface}"
  [[ "$MDRL_DATA" == /* ]] || MDRL_DATA=$PWD/$MDRL_DATA
  [[ "$HF_HOME" == /* ]] || HF_HOME=$PWD/$HF_HOME
  JOB_ENV=(env "RAY_AUTH_MODE=$RAY_AUTH_MODE")
  case "$RAY_AUTH_MODE" in
    token)
      : "${RAY_AUTH_TOKEN_PATH:=${HOME:-/tmp}/.ray/auth_token}"
      [[ "$RAY_AUTH_TOKEN_PATH" == /* ]] || die "RAY_AUTH_TOKEN_PATH must be an absolute path, not '$RAY_AUTH_TOKEN_PATH'."
      if ! is_dry && [[ ! -s "$RAY_AUTH_TOKEN_PATH" ]]; then
        mkdir -p "$(dirname "$RAY_AUTH_TOKEN_PATH")"
        (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$RAY_AUTH_TOKEN_PATH") ||
          die "cannot write a Ray token to $RAY_AUTH_TOKEN_PATH; set RAY_AUTH_TOKEN_PATH to a writable shared path."
      fi
      JOB_ENV+=("RAY_AUTH_TOKEN_PATH=$RAY_AUTH_TOKEN_PATH")
      ;;
    disabled) ;;
    *) die "RAY_AUTH_MODE must be token or disabled, not '$RAY_AUTH_MODE'." ;;
  esac
  JOB_ENV+=("MDRL_DATA=$MDRL_DATA" "HF_HOME=$HF_HOME")
  if ! is_dry; then
    [[ -d "$MDRL_DATA" ]] ||
      die "MDRL_DATA=$MDRL_DATA is not a directory: fetch the data there first (mdrl data fetch data_root=$MDRL_DATA) or set MDRL_DATA."
    mkdir -p "$HF_HOME" # created by the user, not as root by a container's bind mount
  fi
}

# container_mounts: fill the array MOUNTS with host:container path pairs a container needs (the
# working directory, data root, HF cache and Ray token folder), each at the same path inside.
container_mounts() {
  MOUNTS=("$PWD:$PWD" "$MDRL_DATA:$MDRL_DATA:ro" "$HF_HOME:$HF_HOME")
  if [[ -n "${RAY_AUTH_TOKEN_PATH:-}" && "$RAY_AUTH_MODE" == token ]]; then
    MOUNTS+=("$(dirname "$RAY_AUTH_TOKEN_PATH"):$(dirname "$RAY_AUTH_TOKEN_PATH"):ro")
  fi
}

: "${RAY_PORT:=6379}" "${RAY_DASHBOARD_PORT:=8265}" "${RAY_WAIT_TIMEOUT:=600}"
# The dashboard (and its job-submission API) is reachable from this host only unless widened.
: "${RAY_DASHBOARD_HOST:=127.0.0.1}"
