"""Every bad input is refused the same way: exit status 2, one line on
stderr that names the file, key or argument and says what is allowed, no
traceback, and no process left behind.

Each case runs the real command (``python -m stress``) in its own session,
so that anything it started and left running is found afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SCENARIO = """\
[scenario]
structure = "msqueue"
description = "two dequeues"
initial = [1]
capacity = 16
[threads]
programs = [["dequeue"], ["dequeue"]]
[variants]
{variants}
"""
CLEAN = 'tagged = { expect = "clean" }'


def scenario(variants: str = CLEAN) -> str:
    return SCENARIO.format(variants=variants)


EXAMPLES = Path(__file__).resolve().parent.parent / "scenarios" / "examples"
# The example structure, its descriptor claiming more operations than lfs_structure_t holds.
OVERCOUNTED = (EXAMPLES / "ring_buffer.c").read_text().replace(".n_ops = 2,", ".n_ops = 9,")


@dataclass
class Case:
    name: str
    argv: list[str]                          # after ``python -m stress``
    names: str                               # a regex the message must match
    files: dict[str, bytes | str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    stdout: str = "pipe"                     # "pipe", "full" (/dev/full) or "closed"
    compiler_errors: bool = False            # the compiler's own errors follow, indented
    timeout: float = 60.0


CASES = [
    Case("kinds holding a list", ["run", "s.toml"], r"s\.toml.*naive\.kinds",
         {"s.toml": scenario('naive = { expect = "bug", kinds = [["aba"]] }')}),
    Case("kinds holding a table", ["run", "s.toml"], r"s\.toml.*naive\.kinds",
         {"s.toml": scenario('naive = { expect = "bug", kinds = [{ a = 1 }] }')}),
    Case("kinds that is a table", ["run", "s.toml"], r"s\.toml.*naive\.kinds",
         {"s.toml": scenario('naive = { expect = "bug", kinds = { a = 1 } }')}),
    Case("TOML nested thousands deep", ["run", "s.toml"], r"s\.toml.*nested",
         {"s.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n"}),
    Case("a compile error on a non-UTF-8 line", ["build", "bad.c"], r"bad\.c",
         {"bad.c": b'#include "lfstress.h"\nint x = \xff\xfe;\n'}, compiler_errors=True),
    Case("a descriptor whose counts exceed its arrays", ["build", "over.c"], r"over\.c.*n_ops",
         {"over.c": OVERCOUNTED}),
    Case("a seed beyond 64 bits", ["explore", "--story", "classic-aba", "--variant", "naive",
                                   "--seed", str(1 << 70), "--budget", "10"], r"seed.*2\^63"),
    Case("an option beyond 64 bits", ["explore", "--story", "classic-aba", "--variant", "hazard",
                                      "-o", f"hp_threshold={1 << 70}", "--budget", "10"], r"hp_threshold"),
    Case("a token with an integer beyond 64 bits",
         ["replay", "lfs1:msqueue/naive:" + "9" * 30], r"token"),
    Case("--seconds inf", ["stress", "--variant", "tagged", "--seconds", "inf"], r"--seconds"),
    Case("--seconds nan", ["stress", "--variant", "tagged", "--seconds", "nan"], r"--seconds"),
    Case("--ops -1", ["stress", "--variant", "tagged", "--ops", "-1"], r"--ops"),
    Case("--prefill -1", ["stress", "--variant", "tagged", "--prefill", "-1"], r"--prefill"),
    Case("--out naming a file", ["bench", "--out", "afile", "--seconds", "0.1"], r"--out.*afile",
         {"afile": "x"}),
    Case("--out an impossible path", ["bench", "--out", "afile/sub", "--seconds", "0.1"], r"--out.*afile",
         {"afile": "x"}),
    Case("LFSTRESS_CACHE naming a file", ["build", "ring.c"], r"LFSTRESS_CACHE",
         {"cachefile": "x"}, env={"LFSTRESS_CACHE": "cachefile"}),
    Case("stdout full", ["list"], r"stdout", stdout="full"),
    Case("stdout closed", ["list"], r"stdout", stdout="closed"),
    Case("a scenario path that is a device", ["run", "/dev/zero"], r"/dev/zero.*regular file", timeout=20),
    Case("a scenario path that is a FIFO", ["run", "fifo.toml"], r"fifo\.toml.*regular file",
         {"fifo.toml": None}, timeout=20),
    Case("run --budget 0", ["run", "s.toml", "--budget", "0"], r"budget", {"s.toml": scenario()}),
    Case("explore --budget 0", ["explore", "--story", "classic-aba", "--variant", "naive", "--budget", "0"],
         r"budget"),
    Case("run --budget 0s", ["run", "s.toml", "--budget", "0s"], r"budget", {"s.toml": scenario()}),
    Case("--budget with three parts", ["explore", "--story", "classic-aba", "--variant", "naive",
                                       "--budget", "10,1s,2s"], r"budget"),
    Case("run --budget with three parts", ["run", "s.toml", "--budget", "10,20,1s"], r"budget",
         {"s.toml": scenario()}),
    Case("a budget beyond the maximum", ["explore", "--story", "classic-aba", "--variant", "naive",
                                         "--budget", "1" + "0" * 20], r"budget.*at most"),
    Case("a time budget beyond the maximum", ["run", "s.toml", "--budget", "100000000m"],
         r"budget.*at most", {"s.toml": scenario()}),
]


def _session_alive(sid: int) -> list[int]:
    """Processes still in session ``sid``."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:   # field 6 of /proc/PID/stat: the session id
            alive.append(int(entry.name))
    return alive


def run_case(case: Case, tmp_path: Path) -> tuple[int, str]:
    for name, content in case.files.items():
        path = tmp_path / name
        if content is None:
            os.mkfifo(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if "ring.c" in case.argv:
        (tmp_path / "ring.c").write_text((EXAMPLES / "ring_buffer.c").read_text())
    env = {**os.environ, **{k: str(tmp_path / v) if k == "LFSTRESS_CACHE" else v for k, v in case.env.items()}}
    stdout = {"pipe": subprocess.PIPE, "full": open("/dev/full", "w"), "closed": subprocess.DEVNULL}[case.stdout]
    preexec = (lambda: os.close(1)) if case.stdout == "closed" else None
    proc = subprocess.Popen([sys.executable, "-m", "stress", *case.argv], cwd=tmp_path, env=env,
                            stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=preexec)
    try:
        _, err = proc.communicate(timeout=case.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{case.name}: still running after {case.timeout} s")
    finally:
        if case.stdout == "full":
            stdout.close()
    deadline = time.monotonic() + 5
    while _session_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _session_alive(proc.pid)
    if left:
        os.killpg(proc.pid, signal.SIGKILL)
    assert not left, f"{case.name}: processes left running: {left}"
    return proc.returncode, err.decode(errors="replace")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_and_exit_2(case, tmp_path):
    status, err = run_case(case, tmp_path)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert status == 2, (status, err)
    if case.compiler_errors:   # one line, then the compiler's first errors quoted beneath it
        assert all(line.startswith("  ") for line in lines[1:]), err
    else:
        assert len(lines) == 1, err
    assert re.search(case.names, lines[0]), lines[0]


def test_a_truncated_build_in_the_cache_is_rebuilt_not_loaded(tmp_path):
    (tmp_path / "ring.c").write_text((EXAMPLES / "ring_buffer.c").read_text())
    env = {**os.environ, "LFSTRESS_CACHE": str(tmp_path / "cache")}

    def build() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "stress", "build", "ring.c"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)

    first = build()
    assert first.returncode == 0 and "compiled" in first.stdout, first.stderr
    (module,) = (tmp_path / "cache").glob("structures/*/*_stepped*.so")
    with open(module, "r+b") as f:   # what a full disk or a killed copy leaves
        f.truncate(4096)
    again = build()
    assert again.returncode == 0 and "compiled" in again.stdout, (again.returncode, again.stderr)
    cached = build()
    assert cached.returncode == 0 and "up to date" in cached.stdout
