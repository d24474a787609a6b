"""launch.py: the job command for `launcher: local` and `launcher: accelerate` (each config kind),
the shipped accelerate configs, and the start_training approval card. Fast: nothing trains here
(test_launch_accelerate.py runs the real job under `accelerate launch`)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from skills.train import launch
from specs.training import TrainingPlan

REPO = Path(__file__).resolve().parents[3]


def _plan(**compute) -> TrainingPlan:
    return TrainingPlan(compute=compute)


def _yaml(path: Path) -> dict:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_local_is_one_process_of_the_job_script(tmp_path):
    argv = launch.job_command(_plan(), tmp_path, "r1", tmp_path / "ev.jsonl", resume=True)
    assert argv == [sys.executable, "-m", "skills.train.job", "--plan", "training.yaml", "--session", str(tmp_path),
                    "--run-id", "r1", "--resume", "--events", str(tmp_path / "ev.jsonl")]
    assert not (tmp_path / "runs").exists()


def test_local_without_events_leaves_them_to_the_job_runner(tmp_path):
    argv = launch.job_command(_plan(), tmp_path, "r1")
    assert "--events" not in argv and "--resume" not in argv


def test_accelerate_cpu_generates_a_torchrun_config_on_the_cpu(tmp_path):
    plan = _plan(launcher="accelerate", device="cpu", num_processes=2)
    argv = launch.job_command(plan, tmp_path, "r1", tmp_path / "ev.jsonl")
    config = tmp_path / "runs/r1/accelerate.yaml"
    assert argv == [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
                    "--num_processes", "2", "--num_machines", "1", "-m", "skills.train.job",
                    "--plan", "training.yaml", "--session", str(tmp_path), "--run-id", "r1", "--events", str(tmp_path / "ev.jsonl")]
    values = _yaml(config)
    # MULTI_CPU would start one process without mpirun; MULTI_GPU + use_cpu starts N through torchrun
    assert values["distributed_type"] == "MULTI_GPU" and values["use_cpu"] is True
    assert values["num_processes"] == 2 and values["num_machines"] == 1
    assert 1024 < int(values["main_process_port"]) < 65536


def test_accelerate_gpu_generates_ddp_over_gpus(tmp_path):
    launch.job_command(_plan(launcher="accelerate", device="cuda", num_processes=4), tmp_path, "r1")
    values = _yaml(tmp_path / "runs/r1/accelerate.yaml")
    assert values["distributed_type"] == "MULTI_GPU" and values["use_cpu"] is False and values["num_processes"] == 4


def test_accelerate_auto_device_follows_the_machine(tmp_path, monkeypatch):
    from skills.train import plan as plan_module

    monkeypatch.setattr(plan_module, "has_gpu", lambda: False)
    launch.job_command(_plan(launcher="accelerate", num_processes=2), tmp_path, "cpu")
    assert _yaml(tmp_path / "runs/cpu/accelerate.yaml")["use_cpu"] is True
    monkeypatch.setattr(plan_module, "has_gpu", lambda: True)
    launch.job_command(_plan(launcher="accelerate", num_processes=2), tmp_path, "gpu")
    assert _yaml(tmp_path / "runs/gpu/accelerate.yaml")["use_cpu"] is False


def test_one_process_is_not_distributed(tmp_path):
    launch.job_command(_plan(launcher="accelerate", device="cuda"), tmp_path, "r1")
    assert _yaml(tmp_path / "runs/r1/accelerate.yaml")["distributed_type"] == "NO"


@pytest.mark.parametrize("name", ["fsdp.yaml", "deepspeed_zero2.yaml", "deepspeed_zero3.yaml", "multi_gpu.yaml", "multi_cpu.yaml"])
def test_a_given_config_is_copied_with_comments_and_the_plan_counts_win(tmp_path, name):
    text = (launch.CONFIGS_DIR / name).read_text(encoding="utf-8")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / name).write_text(text, encoding="utf-8")
    plan = _plan(launcher="accelerate", device="cuda", num_processes=4, accelerate_config=f"configs/{name}")
    argv = launch.job_command(plan, tmp_path, "r1")
    copied = (tmp_path / "runs/r1/accelerate.yaml").read_text(encoding="utf-8")
    assert copied.startswith(text.rstrip("\n"))  # the person's file, comments included
    assert "main_process_port:" in copied  # a free port added for a one-machine run
    assert argv[argv.index("--num_processes") + 1] == "4" and argv[argv.index("--num_machines") + 1] == "1"
    assert argv[argv.index("--config_file") + 1] == str(tmp_path / "runs/r1/accelerate.yaml")


def test_a_multi_node_config_keeps_its_address_and_port(tmp_path):
    (tmp_path / "multi_node.yaml").write_text((launch.CONFIGS_DIR / "multi_node.yaml").read_text())
    plan = _plan(launcher="accelerate", device="cuda", num_processes=16, num_machines=2, accelerate_config="multi_node.yaml")
    argv = launch.job_command(plan, tmp_path, "r1")
    values = _yaml(tmp_path / "runs/r1/accelerate.yaml")
    assert values["main_process_ip"] == "10.0.0.1" and values["main_process_port"] == 29500
    assert argv[argv.index("--num_machines") + 1] == "2"
    others = launch.other_nodes_text(argv, 2)
    assert "On machine 1:" in others and "--machine_rank 1 -m skills.train.job" in others
    assert launch.other_nodes_text(argv, 1) == ""


@pytest.mark.parametrize("compute, message", [
    (dict(num_processes=3, num_machines=2), "multiple of compute.num_machines"),
    (dict(num_processes=4, num_machines=2), "need compute.accelerate_config"),
    (dict(num_processes=2, accelerate_config="missing.yaml"), "no file missing.yaml"),
])
def test_plans_that_cannot_launch_say_what_to_change(tmp_path, compute, message):
    with pytest.raises(launch.LaunchError, match=message):
        launch.job_command(_plan(launcher="accelerate", device="cuda", **compute), tmp_path, "r1")
    assert not (tmp_path / "runs/r1/accelerate.yaml").exists()


def test_multi_node_config_without_an_address_is_refused(tmp_path):
    (tmp_path / "c.yaml").write_text("compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\n")
    with pytest.raises(launch.LaunchError, match="main_process_ip"):
        launch.job_command(_plan(launcher="accelerate", num_processes=4, num_machines=2, accelerate_config="c.yaml"), tmp_path, "r1")


def test_preview_writes_nothing(tmp_path):
    argv = launch.job_command(_plan(launcher="accelerate", device="cpu", num_processes=2), tmp_path, "r1", write_config=False)
    assert "--config_file" in argv and not (tmp_path / "runs").exists()


def test_command_text_round_trips_through_the_shell():
    argv = [sys.executable, "-m", "skills.train.job", "--session", "/tmp/a b", "--run-id", "<new run id>"]
    assert shlex.split(launch.command_text(argv)) == argv


def test_shipped_configs_load_in_accelerate_and_say_what_they_are_for():
    shipped = launch.shipped_configs()
    assert set(shipped) == {"multi_cpu.yaml", "multi_gpu.yaml", "multi_node.yaml", "fsdp.yaml",
                            "deepspeed_zero2.yaml", "deepspeed_zero3.yaml"}
    assert all(shipped.values())
    code = ("import sys\nfrom accelerate.commands.config.config_args import load_config_from_file\n"
            "for p in sys.argv[1:]:\n    c = load_config_from_file(p)\n    print(p.rsplit('/', 1)[-1], c.distributed_type.value, c.num_processes)\n")
    done = subprocess.run([sys.executable, "-c", code, *map(str, sorted(launch.CONFIGS_DIR.glob("*.yaml")))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    kinds = dict((line.split()[0], line.split()[1]) for line in done.stdout.splitlines())
    assert kinds == {"deepspeed_zero2.yaml": "DEEPSPEED", "deepspeed_zero3.yaml": "DEEPSPEED", "fsdp.yaml": "FSDP",
                     "multi_cpu.yaml": "MULTI_GPU", "multi_gpu.yaml": "MULTI_GPU", "multi_node.yaml": "MULTI_GPU"}


def test_generated_configs_load_in_accelerate(tmp_path):
    for name, on_gpu, n in (("cpu.yaml", False, 2), ("gpu.yaml", True, 8), ("one.yaml", True, 1)):
        (tmp_path / name).write_text(launch.generated_config(n, on_gpu=on_gpu, port=29555))
    code = ("import sys\nfrom accelerate.commands.config.config_args import load_config_from_file\n"
            "for p in sys.argv[1:]:\n    c = load_config_from_file(p)\n    print(c.distributed_type.value, c.use_cpu, c.num_processes, c.main_process_port)\n")
    done = subprocess.run([sys.executable, "-c", code, *(str(tmp_path / n) for n in ("cpu.yaml", "gpu.yaml", "one.yaml"))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:3] == ["MULTI_GPU True 2 29555", "MULTI_GPU False 8 29555", "NO False 1 29555"]


def test_accelerate_launch_knows_the_flags_the_command_uses():
    done = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    for flag in ("--config_file", "--num_processes", "--num_machines", "--machine_rank", "-m, --module"):
        assert flag in done.stdout


# -- the approval card and start_training ------------------------------------------------------


def _session_with_plan(tmp_path, **compute):
    from specs.yamlio import save_spec
    from test_train_fixtures import make_session

    session = make_session(tmp_path, n_train=8, n_eval=2)
    save_spec(session / "training.yaml", TrainingPlan(compute=compute))
    return session


def test_start_training_card_shows_the_accelerate_command(tmp_path):
    from skills.train import tools
    from test_train_fixtures import tool_ctx

    session = _session_with_plan(tmp_path, launcher="accelerate", device="cpu", num_processes=2)
    ctx = tool_ctx(session)
    preview = tools.start_training.describe(ctx, tools.start_training.validate({}))
    argv = shlex.split(preview.command)
    assert argv[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert argv[argv.index("--num_processes") + 1] == "2" and argv[argv.index("-m", 3) + 1] == "skills.train.job"
    assert "runs/<new run id>/accelerate.yaml" in preview.command and "2 processes on 1 machine" in preview.summary
    assert not (session / "runs").exists()  # the card writes nothing


def test_start_training_card_for_several_machines_lists_the_other_commands(tmp_path):
    from skills.train import tools
    from test_train_fixtures import tool_ctx

    session = _session_with_plan(tmp_path, launcher="accelerate", device="cuda", num_processes=16, num_machines=2,
                                 accelerate_config="multi_node.yaml")
    (session / "multi_node.yaml").write_text((launch.CONFIGS_DIR / "multi_node.yaml").read_text())
    ctx = tool_ctx(session)
    preview = tools.start_training.describe(ctx, tools.start_training.validate({}))
    assert "On machine 1:" in preview.summary and "--machine_rank 1" in preview.summary


def test_start_training_refuses_a_plan_that_cannot_launch(tmp_path, monkeypatch):
    from skills.train import tools
    from test_train_fixtures import call, tool_ctx

    monkeypatch.setattr(tools, "_check_memory", lambda *a: "fits")  # free memory varies on a shared machine
    session = _session_with_plan(tmp_path, launcher="accelerate", num_processes=2, accelerate_config="nope.yaml")
    result = call(tools.start_training, tool_ctx(session, approved_waivers=["no_quality_report"]))
    assert result.is_error and "no file nope.yaml" in result.content
    assert not any((session / "runs").glob("*/job.json"))  # nothing started


def test_start_training_local_card_is_unchanged(tmp_path):
    from skills.train import tools
    from test_train_fixtures import tool_ctx

    session = _session_with_plan(tmp_path)
    preview = tools.start_training.describe(tool_ctx(session), tools.start_training.validate({}))
    assert shlex.split(preview.command)[:3] == [sys.executable, "-m", "skills.train.job"]


def test_a_rank_dies_with_its_launcher(tmp_path):
    """torchrun starts each rank in its own session; killing the launcher must not leave it training."""
    import os
    import signal
    import time

    child = ("from skills.train.job import die_with_launcher; die_with_launcher(); import time; print('ready', flush=True); "
             "time.sleep(120)")
    parent = ("import os, subprocess, sys; p = subprocess.Popen([sys.executable, '-c', sys.argv[1]], start_new_session=True, "
              "env={**os.environ, 'LOCAL_RANK': '0'}); print(p.pid, flush=True); p.wait()")
    launcher = subprocess.Popen([sys.executable, "-c", parent, child], cwd=REPO, stdout=subprocess.PIPE, text=True)
    rank_pid = int(launcher.stdout.readline())
    assert launcher.stdout.readline().strip() == "ready"
    launcher.send_signal(signal.SIGKILL)
    launcher.wait()

    def alive(pid: int) -> bool:
        try:
            return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False

    deadline = time.monotonic() + 10
    while alive(rank_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(rank_pid):
        os.kill(rank_pid, signal.SIGKILL)
        pytest.fail("the rank outlived its launcher")
