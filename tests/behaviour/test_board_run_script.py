"""docker/board-run.sh, the recipe for a reviewer who has only the board: its docker commands, checked with a
stand-in `docker` that records them (no engine here; the real build is CI's container emulation)."""
import os
import subprocess

from artifact.core.paths import PROJECT_ROOT as ROOT

FAKE_DOCKER = """#!/usr/bin/env bash
echo "$*" >> "$DOCKER_LOG"
if [ "$1" = info ]; then echo '{"io.containerd.runc.v2":{},"nvidia":{}}'; fi
"""


def test_the_board_script_builds_says_what_it_sees_then_measures_into_the_callers_directory(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    log, results = tmp_path / "docker.log", tmp_path / "out"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", DOCKER_LOG=str(log), ARTIFACT_EVAL_SAMPLES="50")
    proc = subprocess.run(["docker/board-run.sh", "smoke", str(results)], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    build, info, doctor, run = log.read_text().splitlines()
    assert build.startswith("build -f docker/jetson/Dockerfile --build-arg BASE_IMAGE=nvcr.io/nvidia/l4t-tensorflow")
    assert "APT_PACKAGES=python3-matplotlib" in build and info.startswith("info")
    uid = f"{os.getuid()}:{os.getgid()}"
    for command in (doctor, run):
        assert f"--user {uid}" in command and "--group-add video" in command and "--runtime nvidia" in command
        assert "-e ARTIFACT_SYSFS_ROOT=/host" in command and "-v /sys:/host/sys:ro" in command
        assert f"-v {results}:/results" in command and "-e ARTIFACT_EVAL_SAMPLES=50" in command
    assert doctor.endswith("python3 -m artifact doctor")
    assert run.endswith("python3 -m artifact run --profile smoke --results /results")
    assert results.is_dir() and "judge and report it anywhere" in proc.stdout


def test_the_board_script_reads_a_given_sysfs_tree_instead_of_the_boards(tmp_path):
    """A dry run against an EMULATED board (CI runs the script so on the R32 twin base): the tree is mounted
    read-only and named by ARTIFACT_SYSFS_ROOT inside, and the board's own /sys is not mounted."""
    bin_dir, tree = tmp_path / "bin", tmp_path / "tx2"
    bin_dir.mkdir()
    tree.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    log = tmp_path / "docker.log"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", DOCKER_LOG=str(log), ARTIFACT_SYSFS_ROOT=str(tree))
    proc = subprocess.run(["docker/board-run.sh", "smoke", str(tmp_path / "out")], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    _, _, doctor, run = log.read_text().splitlines()
    for command in (doctor, run):
        assert f"-v {tree}:/sysfs-root:ro" in command and "-e ARTIFACT_SYSFS_ROOT=/sysfs-root" in command
        assert "/host/sys" not in command
