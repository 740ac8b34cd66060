"""Scenario files: what to run, how to search, and what to expect.

A scenario (TOML, format documented in scenarios/README.md) names a
structure, the variants to run with their options, the initial contents, each
thread's program (or a generator of random programs), the search (schedulers
and budget) and, per variant, the expected outcome: ``bug`` (a violation of
one of the named kinds must be found within budget) or ``clean`` (none may be
found).

Every key is validated. A mistake raises ScenarioError (a UsageError: exit
status 2) whose one-line message names the file, the key and what is allowed.
"""

from __future__ import annotations

import hashlib
import random
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from . import _defaults, _native
from .errors import CompileError, UsageError
from .structures import REUSE_POLICIES, StructureInfo, catalogue, load_source, lookup
from .target import Target
from .usercode import loaded
from .violations import KINDS

SCHEDULER_NAMES = ("random", "pct", "urw", "exhaustive", "hypothesis")
DEFAULT_SCHEDULERS = ("hypothesis", "pct")
TOP_KEYS = {"scenario", "options", "variants", "threads", "search"}
SCENARIO_KEYS = {"structure", "source", "description", "initial", "capacity", "reuse", "step_cap", "coverage"}
THREAD_KEYS = {"programs", "generate"}
GENERATE_KEYS = {"threads", "operations", "enqueue_ratio", "values", "rounds"}
SEARCH_KEYS = {"schedulers", "executions", "seconds", "seed", "depth"}
# The largest budget of one search, in a scenario's [search] or on the command line.
MAX_EXECUTIONS = 10**9
MAX_SECONDS = 86_400.0      # a day
MAX_SCENARIO_BYTES = 1 << 20
VARIANT_KEYS = {"variant", "expect", "kinds", "options", "why", "search", "coverage"}


def _builtin_scenarios() -> Path:
    """The built-in suite: scenarios/ beside the package in a source checkout
    (and an editable install), or the copy a wheel installs as stress/scenarios."""
    package = Path(__file__).resolve().parent
    checkout = package.parent / "scenarios"
    return checkout if (checkout / "essay_story.toml").is_file() else package / "scenarios"


BUILTIN_SCENARIOS = _builtin_scenarios()


class ScenarioError(UsageError):
    """A scenario file that cannot be used as written."""


@dataclass(frozen=True)
class Generator:
    """Random programs: each thread gets ``operations`` operations, enqueues
    with probability ``enqueue_ratio`` (values from ``values``), drawn anew
    for each of ``rounds`` rounds of the search."""

    threads: int
    operations: int
    enqueue_ratio: float = 0.5
    values: tuple[int, int] = (1, 99)
    rounds: int = 8

    def draw(self, rng: random.Random, ops: tuple[str, str]) -> tuple[tuple[tuple[str, int | None], ...], ...]:
        put, take = ops
        lo, hi = self.values
        return tuple(
            tuple((put, rng.randint(lo, hi)) if rng.random() < self.enqueue_ratio else (take, None)
                  for _ in range(self.operations))
            for _ in range(self.threads))


@dataclass(frozen=True)
class Search:
    schedulers: tuple[str, ...] = DEFAULT_SCHEDULERS
    executions: int | None = 2000
    seconds: float | None = 10.0
    seed: int = 0
    depth: int = 3


@dataclass(frozen=True)
class VariantPlan:
    name: str                        # the item's name ([variants.NAME])
    variant: str                     # the structure variant it runs
    expect: str                      # "bug" | "clean"
    kinds: tuple[str, ...]           # bug: which kinds count as finding it
    options: dict[str, int]
    why: str
    search: Search
    coverage: tuple[str, ...] = ()   # clean: goals the search must reach (stress/coverage.py)


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    description: str
    structure: str
    initial: tuple[int, ...]
    capacity: int
    reuse: str
    step_cap: int
    programs: tuple[tuple[tuple[str, int | None], ...], ...] | None
    generator: Generator | None
    variants: tuple[VariantPlan, ...]
    content_hash: str = field(default="")

    def plan(self, name: str) -> VariantPlan:
        for plan in self.variants:
            if plan.name == name:
                return plan
        raise UsageError(f"{self.path.name} has no variant {name!r} "
                         f"(allowed: {', '.join(p.name for p in self.variants)})")

    @property
    def token_name(self) -> str:
        """How tokens name this scenario: the file's stem for the built-in
        suite, else its absolute path (replay finds it again by either, from
        any directory)."""
        if self.path.resolve().parent == BUILTIN_SCENARIOS.resolve():
            return self.name
        return str(self.path.resolve())

    def target(self, name: str, programs=None) -> Target:
        plan = self.plan(name)
        progs = programs if programs is not None else self.programs
        if progs is None:
            raise UsageError(f"{self.path.name} generates its programs: give them (or a seed) to build a target")
        return Target(self.structure, plan.variant, tuple(tuple(p) for p in progs), self.initial,
                      tuple(sorted(plan.options.items())), self.capacity, self.reuse, self.step_cap,
                      self.token_name, self.content_hash, lookup(self.structure, plan.variant).source)


def _fail(path: Path, key: str, problem: str) -> ScenarioError:
    if not key.isprintable():  # a key with a newline or a control character: still one line
        key = key.encode("unicode_escape").decode()
    return ScenarioError(f"{path}: {key}: {problem}")


def _expect_type(path: Path, key: str, value: Any, kind: type | tuple, what: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        raise _fail(path, key, f"must be {what}, got {type(value).__name__} {value!r}")
    return value


def _unknown_keys(path: Path, where: str, table: dict, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            raise _fail(path, f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _int(path: Path, key: str, value: Any, lo: int, hi: int) -> int:
    _expect_type(path, key, value, int, "an integer")
    if not lo <= value <= hi:
        raise _fail(path, key, f"must be between {lo} and {hi}, got {value}")
    return value


def _parse_op(path: Path, key: str, text: Any, info: StructureInfo) -> tuple[str, int | None]:
    _expect_type(path, key, text, str, 'an operation such as "enqueue 4" or "dequeue"')
    words = text.split()
    names = [op.name for op in info.ops]
    if not words or words[0] not in names:
        raise _fail(path, key, f"unknown operation {text!r} (allowed: {', '.join(names)})")
    op = info.ops[names.index(words[0])]
    if op.takes_arg:
        if len(words) != 2:
            raise _fail(path, key, f"{op.name} needs one integer value, as in \"{op.name} 4\"; got {text!r}")
        try:
            value = int(words[1])
        except ValueError:
            raise _fail(path, key, f"{op.name} needs an integer value, got {words[1]!r}") from None
        if not -(2**63) <= value < 2**63:
            raise _fail(path, key, f"value {value} does not fit in 64 bits")
        return op.name, value
    if len(words) != 1:
        raise _fail(path, key, f"{op.name} takes no value, got {text!r}")
    return op.name, None


def _options(path: Path, key: str, table: Any, info: StructureInfo) -> dict[str, int]:
    _expect_type(path, key, table, dict, "a table of option = integer")
    declared = {o.name: o for o in info.options}
    out = {}
    for name, value in table.items():
        if name not in declared:
            raise _fail(path, f"{key}.{name}",
                        f"{info.name} has no such option (allowed: {', '.join(declared) or 'none'})")
        o = declared[name]
        out[name] = _int(path, f"{key}.{name}", value, o.min, o.max)
    return out


def _coverage(path: Path, key: str, value: Any, info: StructureInfo) -> tuple[str, ...]:
    from .coverage import goal_names
    _expect_type(path, key, value, list, 'a list of coverage goals, e.g. ["reclaim", "reuse"]')
    if not value:
        raise _fail(path, key, 'must name at least one goal, e.g. ["reclaim", "reuse"]')
    allowed = goal_names(info)
    for goal in value:
        if goal not in allowed:
            raise _fail(path, key, f"unknown coverage goal {goal!r} for {info.name} (allowed: {', '.join(allowed)})")
    return tuple(dict.fromkeys(value))


def _search(path: Path, key: str, table: Any, base: Search) -> Search:
    _expect_type(path, key, table, dict, "a table")
    _unknown_keys(path, key, table, SEARCH_KEYS)
    schedulers = base.schedulers
    if "schedulers" in table:
        value = _expect_type(path, f"{key}.schedulers", table["schedulers"], list, "a list of scheduler names")
        if not value:
            raise _fail(path, f"{key}.schedulers", "must name at least one scheduler")
        for s in value:
            if s not in SCHEDULER_NAMES:
                raise _fail(path, f"{key}.schedulers", f"unknown scheduler {s!r} (allowed: {', '.join(SCHEDULER_NAMES)})")
        schedulers = tuple(value)
    executions = base.executions
    if "executions" in table:
        executions = _int(path, f"{key}.executions", table["executions"], 1, MAX_EXECUTIONS)
    seconds = base.seconds
    if "seconds" in table:
        seconds = _expect_type(path, f"{key}.seconds", table["seconds"], (int, float), "a number of seconds")
        if not 0 < seconds <= MAX_SECONDS:
            raise _fail(path, f"{key}.seconds", f"must be positive (and at most a day), got {seconds}")
        seconds = float(seconds)
    seed = _int(path, f"{key}.seed", table["seed"], 0, 2**63 - 1) if "seed" in table else base.seed
    depth = _int(path, f"{key}.depth", table["depth"], 1, 10) if "depth" in table else base.depth
    return Search(schedulers, executions, seconds, seed, depth)


def load(path: str | Path) -> Scenario:
    """Read and validate one scenario file."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError(f"{path}: is a directory, not a scenario file")
        if not stat.S_ISREG(mode):  # a device or a FIFO would be read forever
            raise ScenarioError(f"{path}: not a regular file (a scenario is a .toml file)")
        if path.stat().st_size > MAX_SCENARIO_BYTES:
            raise ScenarioError(f"{path}: {path.stat().st_size:,} bytes; a scenario file is at most "
                                f"{MAX_SCENARIO_BYTES:,}")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: arrays or tables nested too deeply to read") from None
    _unknown_keys(path, "", data, TOP_KEYS)
    for required in ("scenario", "variants", "threads"):
        if required not in data:
            raise _fail(path, required, "missing (a scenario needs [scenario], [variants] and [threads])")

    head = _expect_type(path, "scenario", data["scenario"], dict, "a table")
    _unknown_keys(path, "scenario", head, SCENARIO_KEYS)
    if "structure" not in head:
        raise _fail(path, "scenario.structure", "missing (e.g. structure = \"msqueue\")")
    family = _expect_type(path, "scenario.structure", head["structure"], str, "a structure name")
    source_hash = ""
    if "source" in head:   # the user's own structure file, built (or found cached) now
        source = _expect_type(path, "scenario.source", head["source"], str,
                              'a C file, relative to the scenario (e.g. "my_stack.c")')
        try:
            source_hash = loaded(load_source(path.parent / source)[0].build).content_hash
        except CompileError as exc:   # keeps its type: the compiler's file:line follows
            raise CompileError(f"{path}: scenario.source: {exc}") from None
        except UsageError as exc:
            raise _fail(path, "scenario.source", str(exc)) from None
    families = sorted({s.family for s in catalogue().values()})
    if family not in families:
        raise _fail(path, "scenario.structure", f"unknown structure {family!r} (allowed: {', '.join(families)}; "
                    'a structure of your own: name its C file with source = "FILE.c")')
    description = _expect_type(path, "scenario.description", head.get("description", ""), str, "text")
    initial_raw = _expect_type(path, "scenario.initial", head.get("initial", []), list, "a list of integers")
    initial = tuple(_int(path, "scenario.initial", v, -(2**63), 2**63 - 1) for v in initial_raw)
    capacity = _int(path, "scenario.capacity", head.get("capacity", _defaults.CAPACITY), 1, 1 << 20)
    reuse = _expect_type(path, "scenario.reuse", head.get("reuse", _defaults.REUSE), str, "a reuse policy")
    if reuse not in REUSE_POLICIES:
        raise _fail(path, "scenario.reuse", f"unknown reuse policy {reuse!r} (allowed: {', '.join(REUSE_POLICIES)})")
    step_cap = _int(path, "scenario.step_cap", head.get("step_cap", _defaults.STEP_CAP), 1, 10**7)

    # Variants come before programs: operations are checked against them.
    variants_table = _expect_type(path, "variants", data["variants"], dict, "a table of variant = { expect = ... }")
    if not variants_table:
        raise _fail(path, "variants", "names no variant")
    common = data.get("options", {})
    base_search = _search(path, "search", data.get("search", {}), Search())
    plans = []
    infos = []
    for name, spec in variants_table.items():
        key = f"variants.{name}"
        _expect_type(path, key, spec, dict, 'a table such as { expect = "bug", kinds = ["aba"] }')
        variant = _expect_type(path, f"{key}.variant", spec.get("variant", name), str, "a variant name")
        try:
            info = lookup(family, variant)
        except UsageError:
            allowed = ", ".join(sorted(s.variant for s in catalogue().values() if s.family == family))
            raise _fail(path, f"{key}.variant" if "variant" in spec else key,
                        f"unknown variant {variant!r} of {family} (allowed: {allowed})") from None
        infos.append(info)
        _unknown_keys(path, key, spec, VARIANT_KEYS)
        expect = spec.get("expect")
        if expect not in ("bug", "clean"):
            raise _fail(path, f"{key}.expect", f"must be \"bug\" or \"clean\", got {expect!r}")
        kinds_raw = _expect_type(path, f"{key}.kinds", spec.get("kinds", []), list, "a list of violation kinds")
        for k in kinds_raw:
            if not isinstance(k, str) or k not in KINDS:
                raise _fail(path, f"{key}.kinds", f"unknown violation kind {k!r} (allowed: {', '.join(sorted(KINDS))})")
        if expect == "bug" and not kinds_raw:
            raise _fail(path, f"{key}.kinds", "an expected bug must name the violation kinds that count as finding it")
        if expect == "clean" and kinds_raw:
            raise _fail(path, f"{key}.kinds", "a clean expectation takes no kinds: any violation fails it")
        options = _options(path, "options", common, info)
        options.update(_options(path, f"{key}.options", spec.get("options", {}), info))
        why = _expect_type(path, f"{key}.why", spec.get("why", ""), str, "text")
        search = _search(path, f"{key}.search", spec.get("search", {}), base_search)
        # Coverage goals judge a clean verdict; a bug found is its own evidence.
        coverage = _coverage(path, "scenario.coverage", head["coverage"], info) if "coverage" in head else ()
        if "coverage" in spec:
            if expect != "clean":
                raise _fail(path, f"{key}.coverage", "only a clean expectation takes coverage goals "
                            "(a bug found is its own evidence)")
            coverage = _coverage(path, f"{key}.coverage", spec["coverage"], info)
        plans.append(VariantPlan(name, variant, expect, tuple(kinds_raw), options, why, search,
                                 coverage if expect == "clean" else ()))

    threads = _expect_type(path, "threads", data["threads"], dict, "a table with programs or generate")
    _unknown_keys(path, "threads", threads, THREAD_KEYS)
    if ("programs" in threads) == ("generate" in threads):
        raise _fail(path, "threads", "give exactly one of programs (explicit) or generate (random programs)")
    programs = generator = None
    info = infos[0]
    if "programs" in threads:
        progs = _expect_type(path, "threads.programs", threads["programs"], list,
                             'a list of thread programs, e.g. [["enqueue 1"], ["dequeue"]]')
        max_threads = _native.limit("LFS_MAX_THREADS")
        if not 1 <= len(progs) <= max_threads:
            raise _fail(path, "threads.programs", f"needs 1 to {max_threads} threads, got {len(progs)}")
        parsed = []
        for t, prog in enumerate(progs):
            k = f"threads.programs[{t}]"
            _expect_type(path, k, prog, list, "a list of operations")
            if not prog:
                raise _fail(path, k, "is empty: every thread needs at least one operation")
            parsed.append(tuple(_parse_op(path, k, op, info) for op in prog))
        programs = tuple(parsed)
    else:
        gen = _expect_type(path, "threads.generate", threads["generate"], dict, "a table")
        _unknown_keys(path, "threads.generate", gen, GENERATE_KEYS)
        for required in ("threads", "operations"):
            if required not in gen:
                raise _fail(path, f"threads.generate.{required}", "missing")
        ratio = _expect_type(path, "threads.generate.enqueue_ratio", gen.get("enqueue_ratio", 0.5),
                             (int, float), "a number between 0 and 1")
        if not 0 <= ratio <= 1:
            raise _fail(path, "threads.generate.enqueue_ratio", f"must be between 0 and 1, got {ratio}")
        values = _expect_type(path, "threads.generate.values", gen.get("values", [1, 99]), list,
                              "[lowest, highest]")
        if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values) \
                or values[0] > values[1]:
            raise _fail(path, "threads.generate.values", f"must be [lowest, highest] integers, got {values!r}")
        generator = Generator(
            threads=_int(path, "threads.generate.threads", gen["threads"], 1, _native.limit("LFS_MAX_THREADS")),
            operations=_int(path, "threads.generate.operations", gen["operations"], 1, 64),
            enqueue_ratio=float(ratio), values=(values[0], values[1]),
            rounds=_int(path, "threads.generate.rounds", gen.get("rounds", 8), 1, 1000))
        if info.insert_op is None or info.remove_op is None:
            raise _fail(path, "threads.generate",
                        f"{info.name} has no insert/remove pair of operations to generate programs from")

    digest = hashlib.sha256(raw + source_hash.encode()).hexdigest()[:12]   # the C file counts too
    return Scenario(path, path.stem, description, family, initial, capacity, reuse, step_cap,
                    programs, generator, tuple(plans), digest)


def generator_ops(scenario: Scenario) -> tuple[str, str]:
    from .strategies import insert_remove_ops
    return insert_remove_ops(scenario.structure)


def find_scenario(name: str) -> Path | None:
    """The scenario file a token names: a path, or a built-in stem."""
    for candidate in (Path(name), BUILTIN_SCENARIOS / f"{name}.toml"):
        if candidate.suffix == ".toml" and candidate.is_file():
            return candidate
    return None


def discover(paths: list[str | Path]) -> list[Path]:
    """Scenario files named or found (recursively) under the given paths."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*.toml") if q.is_file()))
        elif p.exists():
            found.append(p)
        else:
            raise ScenarioError(f"{p}: no such scenario file or directory")
    return found
