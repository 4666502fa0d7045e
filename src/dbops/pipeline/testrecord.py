"""pytest plugin: record, per test, the project functions it ran, the sources it read and its outcome.

Lines are measured by coverage.py (its C tracer costs far less than a Python trace function) with one
dynamic context per test and per broader fixture, then folded into function names.

Enabled by ``-p dbops.pipeline.testrecord --dbops-record=RECORD --dbops-plan=PLAN`` (what :mod:`.testselect`
writes for a test step); without ``--dbops-record`` it does nothing. Code that broader-scoped fixtures run
is kept per fixture name, since later tests reuse the value without running it again. A test that starts
another Python process (a server, a CLI) is marked opaque: it reruns on any change.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from dbops.core.discover import SKIP_DIRS
from dbops.core.private import write_private
from dbops.pipeline import testselect

# Audit events after which code may run that this process's tracer never sees.
_SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn"})
_BLIND_EVENTS = frozenset({"os.system", "os.fork", "os.forkpty"})
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "env"})
_AUDITED: list[Recorder] = []  # an audit hook cannot be removed: one per process, pointing at the live recorder


def pytest_addoption(parser: pytest.Parser) -> None:
    """The record and plan files (written by dbops's test steps)."""
    group = parser.getgroup("dbops-record", "record per-test executed code for dbops's test selection")
    group.addoption("--dbops-record", default=None, help="the record file to update")
    group.addoption("--dbops-plan", default=None, help="the plan file: snapshot, key, full or narrowed")


def _runs_python(executable: object, args: object) -> bool:
    """Whether a spawned program may be Python (or a shell that could start it): conservative."""
    if not isinstance(args, (list, tuple)) or not args:
        return True
    prog = os.fsdecode(executable if isinstance(executable, (str, bytes)) else args[0])
    path = shutil.which(prog) or prog
    name = os.path.basename(path)
    if name.startswith("python") or name in _SHELLS or os.path.realpath(path) == os.path.realpath(sys.executable):
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(128)
    except OSError:
        return False  # it cannot start at all
    return head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]


class Recorder:
    """One process's recorder: coverage.py with one context per test or broader fixture, plus reads and spawns."""

    def __init__(self, root: Path) -> None:
        from coverage import Coverage

        self.root = root
        self.reads: dict[str, set[str]] = {}
        self.opaque: set[str] = set()
        self.context = ""  # "" is the session outside any test: collection, imports, hooks
        self.global_files: set[str] = set()
        self.blind = sys.gettrace() is not None  # a debugger or another coverage run: calls we cannot see
        self._root_text = str(root) + os.sep
        omit = [f"{root}{os.sep}{d}{os.sep}*" for d in SKIP_DIRS] + [f"*{os.sep}site-packages{os.sep}*"]
        # No configuration file: the project's own [tool.coverage] must not change what is measured.
        self.cov = Coverage(data_file=None, config_file=False, source=[str(root)], omit=omit, branch=False)

    def start(self) -> None:
        """Measure from now on; project modules already loaded count as run outside the tests."""
        for module in list(sys.modules.values()):
            rel = self._tracked(getattr(module, "__file__", None) or "")
            if rel:
                self.global_files.add(rel)
        if not _AUDITED:
            sys.addaudithook(_audit)
        _AUDITED[:] = [self]
        if not self.blind:
            self.cov.start()

    def switch(self, context: str) -> None:
        """Attribute what runs from now on to ``context`` (a test's node id, or ``fixture:NAME``)."""
        self.context = context
        if not self.blind:
            self.cov.switch_context(context)

    def stop(self) -> dict[str, list[str]]:
        """Stop measuring; return each context's project functions (``file::name``) that ran."""
        _AUDITED.clear()
        if self.blind:
            return {}
        self.cov.stop()
        data = self.cov.get_data()
        out: dict[str, set[str]] = {}
        for path in data.measured_files():
            rel = self._tracked(path)
            spans = self._spans(rel) if rel else None
            if not spans:
                continue
            for line, contexts in data.contexts_by_lineno(path).items():
                name = next((f"{rel}::{n}" for n, a, b in spans if a <= line <= b), None)
                if name:
                    for context in contexts:
                        out.setdefault(context, set()).add(name)
        return {context: sorted(names) for context, names in out.items()}

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        """Note reads of project sources and spawned programs that may run Python."""
        if event == "open":
            path = args[0]
            if isinstance(path, str) and path.endswith(".py"):
                rel = self._tracked(os.path.abspath(path))
                if rel:
                    self.reads.setdefault(self.context, set()).add(rel)
        elif event in _BLIND_EVENTS or (event in _SPAWN_EVENTS and _runs_python(args[0], args[1])):
            self.opaque.add(self.context)

    def _tracked(self, path: str) -> str | None:
        if not path.startswith(self._root_text) or not path.endswith(".py"):
            return None
        return testselect.is_tracked(self.root, path)

    def _spans(self, rel: str) -> list[tuple[str, int, int]]:
        """The body lines of each function in the file (its def line runs on import, not when called)."""
        tree = testselect.parse(self.root / rel)
        return [] if tree is None else [(n, node.body[0].lineno, end) for n, _, end, node in testselect.blocks(tree)]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _AUDITED and event in ("open", *_SPAWN_EVENTS, *_BLIND_EVENTS):
        _AUDITED[0].audit(event, args)


def _merge(into: dict[str, Any], entry: dict[str, Any]) -> None:
    into["deps"] = sorted(set(into.get("deps", ())) | set(entry["deps"]))
    into["read"] = sorted(set(into.get("read", ())) | set(entry["read"]))
    into["opaque"] = bool(into.get("opaque")) or entry["opaque"]


class RecordPlugin:
    """The hooks of one process (the only one, an xdist worker, or an xdist controller that only merges)."""

    def __init__(self, config: pytest.Config, record: Path, plan: Path) -> None:
        self.config = config
        self.record = record
        self.plan = plan
        self.run_id = uuid.uuid4().hex[:12]  # an xdist worker learns its controller's at the end
        self.recorder = Recorder(Path(config.rootpath).resolve())
        self.collected: list[str] = []
        self.fixtures_of: dict[str, list[str]] = {}
        self.outcomes: dict[str, str] = {}

    @property
    def parts(self) -> Path:
        return self.record.parent / f"{self.record.name}.parts"

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Tell each xdist worker which run it belongs to."""
        node.workerinput["dbops_run_id"] = self.run_id

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Generator[None, None, None]:
        """Keep what a fixture broader than one test runs under its name (later tests reuse it silently)."""
        if fixturedef.scope == "function":
            yield
            return
        outer = self.recorder.context
        self.recorder.switch(f"fixture:{fixturedef.argname}")
        try:
            yield
        finally:
            self.recorder.switch(outer)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Remember what was collected: a test that never reports is not trusted next time."""
        self.collected = [item.nodeid for item in session.items]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        """Everything from the test's setup to its teardown is the test's."""
        self.recorder.switch(item.nodeid)
        try:
            yield
        finally:
            self.recorder.switch("")
        self.fixtures_of[item.nodeid] = sorted(getattr(item, "fixturenames", ()))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """A test passed only if setup, call and teardown all did."""
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and self.outcomes.get(report.nodeid) != "failed":
            self.outcomes[report.nodeid] = "skipped"
        else:
            self.outcomes.setdefault(report.nodeid, "passed")

    def _entry(self, context: str, ran: dict[str, list[str]]) -> dict[str, Any]:
        rec = self.recorder
        opaque = rec.blind or context in rec.opaque
        return {"deps": ran.get(context, []), "read": sorted(rec.reads.get(context, ())), "opaque": opaque}

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Workers write their part; the last process merges every part into the record."""
        ran = self.recorder.stop()
        if exitstatus not in (0, 1, 5):
            return  # interrupted or broken: the old record stays, so the same changes are planned again
        tests = {
            node: {**self._entry(node, ran), "fixtures": names, "outcome": self.outcomes.get(node, "unknown")}
            for node, names in self.fixtures_of.items()
        }
        fixtures = {c.removeprefix("fixture:"): self._entry(c, ran) for c in ran if c.startswith("fixture:")}
        for context in {*self.recorder.reads, *self.recorder.opaque}:
            if context.startswith("fixture:"):
                fixtures[context.removeprefix("fixture:")] = self._entry(context, ran)
        part = {
            "tests": tests,
            "fixtures": fixtures,
            "globals": ran.get("", []),
            "global_files": sorted(self.recorder.global_files),
            "collected": self.collected,
        }
        worker: dict[str, Any] | None = getattr(self.config, "workerinput", None)
        run_id = worker["dbops_run_id"] if worker else self.run_id
        self.parts.mkdir(parents=True, exist_ok=True)
        (self.parts / f"{run_id}-{worker['workerid'] if worker else 'main'}.json").write_text(json.dumps(part))
        if worker is None:
            merge_parts(self.record, self.plan, run_id)


def merge_parts(record_path: Path, plan_path: Path, run_id: str) -> None:
    """Fold one run's parts into the record (a full run replaces it) and remove them."""
    try:
        plan = json.loads(plan_path.read_text())
    except (OSError, ValueError):
        return  # no plan, no snapshot to vouch for: the old record stays
    old = testselect.load_record(record_path) if not plan["full"] else None
    record: dict[str, Any] = old or {"tests": {}, "fixtures": {}, "globals": [], "global_files": []}
    parts_dir = record_path.parent / f"{record_path.name}.parts"
    parts = sorted(parts_dir.glob(f"{run_id}-*.json"))
    for node in plan.get("run", ()):  # asked for and never reported (a crashed worker): not trusted
        if node in record["tests"]:
            record["tests"][node]["outcome"] = "unknown"
    loaded = [json.loads(path.read_text()) for path in parts]
    for part in loaded:  # collected by every worker, reported by one: unknown until some part reports it
        for node in part["collected"]:
            record["tests"].setdefault(node, {})["outcome"] = "unknown"
    for part in loaded:
        record["tests"].update(part["tests"])
        for name, entry in part["fixtures"].items():
            _merge(record["fixtures"].setdefault(name, {}), entry)
        record["globals"] = sorted(set(record["globals"]) | set(part["globals"]))
        record["global_files"] = sorted(set(record["global_files"]) | set(part["global_files"]))
    for path in parts:
        path.unlink()
    record.update(version=testselect.RECORD_VERSION, key=plan["key"], files=plan["files"])
    write_private(record_path, json.dumps(record))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Start tracing before the project's conftest files import anything."""
    record = getattr(early_config.known_args_namespace, "dbops_record", None)
    plan = getattr(early_config.known_args_namespace, "dbops_plan", None)
    if not record or not plan:
        return
    plugin = RecordPlugin(early_config, Path(record).resolve(), Path(plan).resolve())
    early_config.pluginmanager.register(plugin, "dbops-record")
    plugin.recorder.start()
