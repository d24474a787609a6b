"""The command that runs a training plan: one process (`launcher: local`) or `accelerate launch`.

    job_command(plan, session_dir, run_id, events_path)  ->  argv for the job runner
    command_text(argv)                                   ->  the same, as one shell line (approval card)

With ``compute.launcher: accelerate`` the command is

    python -m accelerate.commands.launch --config_file runs/<id>/accelerate.yaml \\
        --num_processes N --num_machines M -m skills.train.job <the job's own arguments>

(``python -m accelerate.commands.launch`` is the ``accelerate launch`` CLI run with this
interpreter, so the venv's accelerate is used). The config file is written into the run folder
before launching, so a run keeps the exact config it ran with: a copy of ``compute.accelerate_config``
(FSDP, DeepSpeed, multi-node: see ``skills/train/accelerate_configs/``) or one generated from the
plan's device and process counts. The plan's ``num_processes`` and ``num_machines`` are passed on
the command line and win over the file's values.

Why the generated CPU config says ``MULTI_GPU`` with ``use_cpu: true``: accelerate (1.15 checked)
starts a ``MULTI_CPU`` config through ``mpirun`` only; without an ``mpirun`` host file it starts
*one* process. ``MULTI_GPU`` goes through torchrun, which starts the N processes on any machine;
the job then trains with ``use_cpu=True``, which gives a ``MULTI_CPU`` state with the gloo backend.

No torch or accelerate import here: this module runs in the app process.
"""

from __future__ import annotations

import shlex
import socket
import sys
from pathlib import Path

from specs.io import atomic_write_text

JOB_MODULE = "skills.train.job"
LAUNCH_MODULE = "accelerate.commands.launch"
CONFIG_NAME = "accelerate.yaml"
CONFIGS_DIR = Path(__file__).resolve().parent / "accelerate_configs"
"""Shipped example configs (multi-process CPU, multi-GPU, multi-node, FSDP, DeepSpeed ZeRO-2/3)."""


class LaunchError(ValueError):
    """The plan's compute section cannot be launched as written (message says what to change)."""


def job_args(session_dir: Path | str, run_id: str, events_path: Path | str | None = None, resume: bool = False,
             plan_file: str = "training.yaml") -> list[str]:
    """The job script's own arguments (the same under every launcher)."""
    args = ["--plan", plan_file, "--session", str(session_dir), "--run-id", run_id]
    if resume:
        args.append("--resume")
    if events_path is not None:
        args += ["--events", str(events_path)]
    return args


def job_command(plan, session_dir: Path | str, run_id: str, events_path: Path | str | None = None, resume: bool = False,
                plan_file: str = "training.yaml", write_config: bool = True) -> list[str]:
    """The argv that runs ``plan`` as run ``run_id``.

    ``events_path`` None leaves ``--events`` to the job runner (it appends its own). For
    ``launcher: accelerate`` the config is written to ``runs/<run_id>/accelerate.yaml`` unless
    ``write_config`` is False (a preview: nothing is written, the command names the file anyway).
    Raises LaunchError when the compute section cannot work (missing config file, processes not a
    multiple of machines, several machines without a main process address).
    """
    args = job_args(session_dir, run_id, events_path, resume, plan_file)
    compute = plan.compute
    if compute.launcher != "accelerate":
        return [sys.executable, "-m", JOB_MODULE, *args]
    session_dir = Path(session_dir)
    config_path = session_dir / "runs" / run_id / CONFIG_NAME
    text = config_text(plan, session_dir)
    if write_config:
        config_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(config_path, text)
    return [sys.executable, "-m", LAUNCH_MODULE, "--config_file", str(config_path),
            "--num_processes", str(compute.num_processes), "--num_machines", str(compute.num_machines),
            "-m", JOB_MODULE, *args]


def command_text(argv: list[str]) -> str:
    """One shell line for the approval card (quoted so it can be pasted)."""
    return shlex.join(str(a) for a in argv)


def other_nodes_text(argv: list[str], num_machines: int) -> str:
    """What to run on machines 1..M-1 of a multi-node run (the same command with its machine rank)."""
    if num_machines <= 1:
        return ""
    lines = [f"On machine {rank}: {command_text(_with_machine_rank(argv, rank))}" for rank in range(1, num_machines)]
    return "This starts machine 0 only. Start the others with the same session folder (a shared file system):\n" + "\n".join(lines)


def _with_machine_rank(argv: list[str], rank: int) -> list[str]:
    at = argv.index("-m", 3) if "-m" in argv[3:] else len(argv)  # before the job module
    return [*argv[:at], "--machine_rank", str(rank), *argv[at:]]


# -- the config file ----------------------------------------------------------------------------


def config_text(plan, session_dir: Path | str) -> str:
    """The accelerate config this plan runs with: the plan's file (checked) or a generated one."""
    compute = plan.compute
    if compute.num_processes % compute.num_machines:
        raise LaunchError(f"compute.num_processes ({compute.num_processes}) counts processes on all machines together: "
                          f"it must be a multiple of compute.num_machines ({compute.num_machines})")
    if compute.accelerate_config:
        source = Path(session_dir) / compute.accelerate_config
        if not source.is_file():
            raise LaunchError(f"compute.accelerate_config: no file {compute.accelerate_config} in the session folder "
                              f"(examples to copy: {CONFIGS_DIR})")
        text = source.read_text(encoding="utf-8")
        values = _read_yaml(text, compute.accelerate_config)
        if compute.num_machines > 1 and not values.get("main_process_ip"):
            raise LaunchError(f"{compute.accelerate_config}: {compute.num_machines} machines need `main_process_ip` "
                              "(the address of machine 0) and `main_process_port`")
        if compute.num_machines == 1 and not values.get("main_process_port"):
            text = text.rstrip("\n") + f"\n# added by tunesmith: a free port on this machine\nmain_process_port: {free_port()}\n"
        return text
    if compute.num_machines > 1:
        raise LaunchError(f"{compute.num_machines} machines need compute.accelerate_config: a config with "
                          "`main_process_ip` and `main_process_port` (start from accelerate_configs/multi_node.yaml)")
    return generated_config(compute.num_processes, on_gpu=_on_gpu(compute.device))


def generated_config(num_processes: int, on_gpu: bool, port: int | None = None) -> str:
    """A one-machine data-parallel config: DDP over GPUs, or over CPU processes with gloo."""
    kind = "GPUs (DDP, nccl)" if on_gpu else "CPU processes (DDP, gloo)"
    lines = [
        f"# Generated by tunesmith from training.yaml: {num_processes} {kind} on this machine.",
        "compute_environment: LOCAL_MACHINE",
        # MULTI_CPU would go through mpirun (one process without a host file); MULTI_GPU goes through
        # torchrun, and use_cpu keeps the processes on the CPU (the job's use_cpu=True picks gloo).
        "distributed_type: " + ("MULTI_GPU" if num_processes > 1 else "'NO'"),  # quoted: bare NO is false in YAML
        f"use_cpu: {'false' if on_gpu else 'true'}",
        f"num_processes: {num_processes}",
        "num_machines: 1",
        "machine_rank: 0",
        f"main_process_port: {port or free_port()}",
        "gpu_ids: all",
        "mixed_precision: 'no'  # the job picks bf16 itself on GPUs that support it",
        "same_network: true",
        "rdzv_backend: static",
        "main_training_function: main",
        "downcast_bf16: 'no'",
        "tpu_use_cluster: false",
        "tpu_use_sudo: false",
        "tpu_env: []",
    ]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    """A TCP port free on this machine now (so two runs, or another program, do not collide on 29500)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _on_gpu(device: str) -> bool:
    if device == "cpu":
        return False
    if device == "cuda":
        return True
    from skills.train.plan import has_gpu

    return has_gpu()


def _read_yaml(text: str, name: str) -> dict:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise LaunchError(f"{name} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise LaunchError(f"{name} is not an accelerate config (a YAML mapping)")
    return data


def shipped_configs() -> dict[str, str]:
    """Shipped example config names and their first comment line (what each is for)."""
    found = {}
    for path in sorted(CONFIGS_DIR.glob("*.yaml")):
        first = next((l.lstrip("# ").strip() for l in path.read_text(encoding="utf-8").splitlines() if l.startswith("#")), "")
        found[path.name] = first
    return found
