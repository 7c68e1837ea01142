"""What a run's settings ask of the machine is checked where the run is planned (train/plan.py),
before any data is read, in one line naming the flag (issue 36: tracebacks and absurd settings)."""

import pytest
import torch

from samesense.bounds import usable_cpus
from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.train import TrainConfig, plan_run

BASE = dict(train=["x.tsv"], out="runs/x")


def refused(**settings) -> str:
    with pytest.raises(SamesenseError) as err:
        plan_run(TrainConfig.of(**BASE, **settings))
    assert "\n" not in str(err.value)
    return str(err.value)


def test_a_device_torch_does_not_know_is_one_line():
    assert refused(device="foo") == "--device foo: not a device torch knows (cpu, cuda, cuda:1, ...)"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_on_a_machine_without_it_is_one_line():
    assert refused(device="cuda") == ("--device cuda: this machine has no CUDA device torch can use (no GPU, or "
                                      "a torch built for CPUs only)")


def test_more_processes_or_threads_than_the_machine_has_cores_are_refused():
    cores = usable_cpus()
    assert refused(processes=cores + 1) == (f"--processes {cores + 1}: this machine runs at most {cores} (the CPUs "
                                            "this process may use); torchrun places processes over several machines")
    assert refused(threads=cores + 1) == f"--threads {cores + 1}: this process may use {cores} CPUs"
    plan_run(TrainConfig.of(**BASE, processes=min(2, cores), threads=1))


def test_a_scale_or_margin_below_zero_is_refused():
    assert refused(scale=-1.0) == "scale must be at least 0.001, got -1.0"
    assert refused(margin=-0.35) == "margin must be at least 0, got -0.35"


@pytest.mark.parametrize("flags, message", [(["--device", "foo"], "--device foo: not a device torch knows"),
                                            (["--processes", "1000"], "--processes 1000: this machine runs at most"),
                                            (["--scale", "-1"], "argument --scale: must be at least 0.001")])
def test_the_command_line_says_so_in_one_line_and_writes_nothing(flags, message, tmp_path, capsys):
    code = None
    try:
        code = main(["train", "--train", str(tmp_path / "x.tsv"), "--out", str(tmp_path / "run"), *flags])
    except SystemExit as exit:  # argparse's own refusals
        code = exit.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("samesense: error: ") and message in err and "\n" not in err
    assert not (tmp_path / "run").exists()
