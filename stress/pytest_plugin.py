"""pytest plugin: every scenario × variant is a test item.

``pytest scenarios/`` collects each scenario file (TOML with a [scenario]
table) and makes one item per variant, with ids like
``essay_story.toml::naive``. An item searches for violations (see
stress.suite) and passes when the outcome matches the scenario's
expectation; its seed, executions and outcome are recorded as the item's
user properties (``--junitxml`` shows them). A failing item prints the failure report and the exact lines to
reproduce it: ``lfstress replay TOKEN`` and ``pytest ITEM --stress-seed=N``.
A passing item whose search missed what its variant exists for ("clean, but
reclamation never ran") warns with a CleanButWarning, listed in pytest's
warnings summary under the item.

Options (group "lfstress"): --stress-seed, --stress-scheduler,
--stress-budget (executions "500" or seconds "5s"), --stress-jobs. The seed
in use is printed in the report header, so every run can be repeated.

Light: pytest imports this module at start-up in every project where
lfstress is installed, so it imports nothing of lfstress until a scenario
file is collected; its settings live in ``config.stash``.
"""

from __future__ import annotations

import re
import warnings

import pytest

SETTINGS = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lfstress", "lfstress scenario suites")
    group.addoption("--stress-seed", default=None,
                    help="seed of every scenario search (default: each scenario's own [search] seed)")
    group.addoption("--stress-scheduler", default=None,
                    help="run only this scheduler (random, pct, urw, exhaustive, hypothesis) "
                         "instead of each scenario's portfolio")
    group.addoption("--stress-budget", default=None,
                    help='budget per item: executions ("500"), time ("5s") or both ("500,5s")')
    group.addoption("--stress-jobs", type=int, default=1, help="worker processes per search")


def _settings(config: pytest.Config) -> dict:
    seed = config.getoption("--stress-seed")
    if seed is not None:
        try:
            seed = int(seed)
        except ValueError:
            raise pytest.UsageError(f"--stress-seed must be a whole number, got {seed!r}") from None
        if not 0 <= seed < 2**63:
            raise pytest.UsageError(f"--stress-seed must be between 0 and 2^63-1, got {seed}")
    scheduler = config.getoption("--stress-scheduler")
    if scheduler is not None:
        from .scenario import SCHEDULER_NAMES
        if scheduler not in SCHEDULER_NAMES:
            raise pytest.UsageError(
                f"--stress-scheduler must be one of {', '.join(SCHEDULER_NAMES)}, got {scheduler!r}")
    executions = seconds = None
    if config.getoption("--stress-budget") is not None:
        from .commands._target import parse_budget
        from .errors import UsageError
        try:
            executions, seconds = parse_budget(config.getoption("--stress-budget"), flag="--stress-budget")
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
    jobs = config.getoption("--stress-jobs")
    if not 1 <= jobs <= 256:
        raise pytest.UsageError(f"--stress-jobs must be between 1 and 256, got {jobs}")
    return {"seed": seed, "scheduler": scheduler, "executions": executions, "seconds": seconds, "jobs": jobs}


def pytest_configure(config: pytest.Config) -> None:
    config.stash[SETTINGS] = _settings(config)


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[SETTINGS]
    seed = "each scenario's own [search] seed" if s["seed"] is None else str(s["seed"])
    parts = [f"lfstress: --stress-seed={s['seed']}" if s["seed"] is not None else f"lfstress: seed = {seed}"]
    if s["scheduler"]:
        parts.append(f"scheduler {s['scheduler']}")
    if s["executions"] or s["seconds"]:
        parts.append(f"budget {s['executions'] or ''}{'%gs' % s['seconds'] if s['seconds'] else ''}")
    return ", ".join(parts)


def pytest_collect_file(parent: pytest.Collector, file_path):
    if file_path.suffix == ".toml" and file_path.name != "pyproject.toml":
        try:
            head = file_path.read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError:
            return None
        if re.search(r"^\s*\[scenario\]", head, re.M):
            return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self):
        from .scenario import load
        scenario = load(self.path)  # a ScenarioError becomes a collection error naming file and key
        for plan in scenario.variants:
            yield ScenarioItem.from_parent(self, name=plan.name, scenario=scenario, plan=plan)


class CleanButWarning(UserWarning):
    """A clean item whose search never did something its variant exists for
    (stress/coverage.py): the verdict holds for less than it seems."""


class ScenarioFailure(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, plan, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.plan = plan
        self.outcome = None

    def runtest(self) -> None:
        from .suite import run_variant
        s = self.config.stash[SETTINGS]
        self.outcome = outcome = run_variant(
            self.scenario, self.plan.name, seed=s["seed"],
            schedulers=(s["scheduler"],) if s["scheduler"] else None,
            executions=s["executions"], seconds=s["seconds"], jobs=s["jobs"])
        # The search's figures, for --junitxml and other report plugins.
        self.user_properties += [("seed", outcome.seed), ("executions", outcome.stats.executions),
                                 ("outcome", outcome.outcome)]
        if not outcome.ok:
            raise ScenarioFailure(failure_text(outcome))
        if outcome.warnings():   # the file is the warning's place: it has no line to point at
            warnings.warn_explicit(CleanButWarning(f"{outcome.item_id}: {outcome.verdict()}"),
                                   CleanButWarning, filename=str(self.path), lineno=1)

    def repr_failure(self, excinfo, style=None):
        from .errors import UsageError
        if isinstance(excinfo.value, ScenarioFailure):
            return excinfo.value.text
        if isinstance(excinfo.value, UsageError):
            return f"{self.path}: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)


def failure_text(outcome) -> str:
    lines = [f"{outcome.item_id}: {outcome.verdict()}"]
    if outcome.plan.why:
        lines.append(f"  (the scenario says: {outcome.plan.why})")
    stats = outcome.stats
    lines.append(f"  searched {stats.executions} executions in {stats.seconds:.1f} s, seed {outcome.seed}")
    lines.append(f"  coverage: {stats.coverage.line()}")
    if outcome.failure is not None:
        from .report import format_report
        ex = outcome.failure.target.execution()
        ex.run(outcome.failure.choices)
        lines.append("")
        lines.append(format_report(ex, replay_command=outcome.replay_command()))
        lines.append("")
        lines.append(f"  reproduce: {outcome.replay_command()}")
    lines.append(f"  rerun this item: {outcome.pytest_command()}")
    return "\n".join(lines)
