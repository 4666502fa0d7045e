"""dbops's agent: the project's own Alembic, env.py and models, run in the project's own interpreter.

dbops starts ``PYTHON agent.py FD`` in the project's root, one process per database, with the
database's URL already in the environment variables the project reads. Requests arrive as JSON
lines on stdin; each reply is one JSON line on file descriptor FD (the project may print what it
likes on stdout). This file imports nothing from dbops and runs on every Python, SQLAlchemy (1.3 to
2.x) and Alembic a project may use: it is the only place where the project's code runs.

Every migration run is guarded: dbops holds an advisory lock with a random key on the intended
database, and a step is handed to env.py only if the connection env.py configured sees that lock in
its own database's ``pg_locks``. The judgement comes from a run that changes nothing
(``dont_mutate``), so another database never receives a statement or a version table.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import traceback
import warnings
from typing import Any

# Two-key advisory locks appear in pg_locks with objsubid = 2; the keys are integers dbops chose.
_SEEN = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
    "AND classid = {a} AND objid = {b} "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
)
_ASYNC_DRIVERS = ("asyncpg", "psycopg_async", "aiopg")


class Refused(Exception):
    """A request the agent answers with a described failure (kind, message) instead of a result."""

    def __init__(self, kind: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.extra = extra


class Agent:
    """The project's Alembic environment on one database."""

    def __init__(self, root: str, ini: str, section: str, url: str, key: dict[str, int]) -> None:
        from alembic.config import Config

        self.root = root
        self.url = url
        self.key = key
        sys.path.insert(0, root)  # the project's packages import from its root, as under `alembic`
        self.cfg = Config(ini, ini_section=section)
        self.cfg.attributes["configure_logger"] = False
        self.cfg.set_section_option(section, "sqlalchemy.url", url.replace("%", "%%"))
        self.cfg.attributes["url"] = url
        self.engine: Any = None
        self.connection: Any = None
        if not _is_async(url):
            # Handed over as config.attributes["connection"]; an async URL cannot make a sync connection,
            # and an async env.py opens its own engine from sqlalchemy.url (the guard still judges it).
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool

            self.engine = create_engine(url, poolclass=NullPool)
            self.connection = self.engine.connect()
            self.cfg.attributes["connection"] = self.connection
        self._script: Any = None
        self._judged = False
        self._worker_thread = False  # env.py must run in an AnyIO worker thread (learnt on its first run)

    @property
    def script(self) -> Any:
        """The ScriptDirectory, made once: env.py may change its version locations when it runs."""
        if self._script is None:
            from alembic.script import ScriptDirectory

            self._script = ScriptDirectory.from_config(self.cfg)
        return self._script

    def reaches(self, connection: Any) -> bool:
        """True if ``connection`` (the one env.py configured) is on the database dbops holds its lock in."""
        if connection is None:
            return False  # offline mode: nothing to judge, nothing is run
        if connection is self.connection:
            return True
        from sqlalchemy import text

        return bool(connection.execute(text(_SEEN.format(**self.key))).scalar())

    def run_env(self, fn: Any, **opts: Any) -> None:
        """Run env.py once with ``fn``; an env.py written for an Engine (pytest-alembic's) gets one, and one that
        calls back into AnyIO's event loop (``anyio.from_thread.run``, Prefect's) runs in an AnyIO worker thread."""
        _settle(self.connection)
        try:
            self._run_env(fn, opts)
        except AttributeError as exc:
            if "connect" not in str(exc) or self.cfg.attributes.get("connection") is self.engine:
                raise
            self.cfg.attributes["connection"] = self.engine  # env.py called .connect() on what it was handed
            self._run_env(fn, opts)
        except RuntimeError as exc:
            if self._worker_thread or not _wants_worker_thread(exc):
                raise
            # Such an env.py fails under a plain `alembic` too: its project wraps each command as this does.
            self._worker_thread = True
            self._run_env(fn, opts)
        finally:
            _settle(self.connection)

    def _run_env(self, fn: Any, opts: dict[str, Any]) -> None:
        from alembic.runtime.environment import EnvironmentContext

        def once() -> None:
            with EnvironmentContext(self.cfg, self.script, fn=fn, **opts):
                self.script.run_env()

        if not self._worker_thread:
            once()
            return
        import anyio
        import anyio.to_thread

        anyio.run(anyio.to_thread.run_sync, once)

    # -- requests --------------------------------------------------------------------------------
    def view(self) -> dict[str, Any]:
        """Run env.py, changing nothing: the heads its version table holds and what it configured."""
        seen: list[dict[str, Any]] = []

        def probe(heads: Any, context: Any) -> list[Any]:
            reached = self.reaches(context.connection)
            seen.append(_describe_context(context, heads, reached))
            return []

        self.run_env(probe, dont_mutate=True)
        if not seen:
            raise Refused("not_run", "env.py did not run the migrations on a database connection")
        if not seen[-1]["reached"]:
            raise Refused("wrong_database", "env.py opened a database of its own instead of the one dbops means")
        view = seen[-1]
        # What env.py chose (context.script.version_locations = [...], say), as Alembic will read them.
        view["version_locations"] = [str(p) for p in self.script._version_locations]
        view["recursive"] = bool(getattr(self.script, "recursive_version_locations", False))
        return view

    def migrate(
        self, target: str | None = None, down: bool = False, revision: str | None = None, up: bool = True
    ) -> None:
        """Upgrade or downgrade to ``target``, or (with ``revision``) apply exactly that one step."""
        if not self._judged:
            self.view()  # the version table is made only on a database the guard accepts
            self._judged = True
        script = self.script
        wrong: list[bool] = []

        def steps(heads: Any, context: Any) -> Any:
            if not self.reaches(context.connection):
                wrong.append(True)
                return []
            if revision is not None:
                from alembic.runtime.migration import RevisionStep

                return [RevisionStep(script.revision_map, script.get_revision(revision), up)]
            return script._downgrade_revs(target, heads) if down else script._upgrade_revs(target, heads)

        opts = {} if revision is not None and not up else {"destination_rev": target or revision}
        self.run_env(steps, **opts)
        if wrong:
            raise Refused("wrong_database", "env.py opened a database of its own instead of the one dbops means")

    def history(self) -> list[dict[str, Any]]:
        """Every revision as Alembic reads it (after env.py chose its folders): base first."""
        out = []
        for rev in reversed(list(self.script.walk_revisions("base", "heads"))):
            downs = rev.down_revision
            downs = [] if downs is None else ([downs] if isinstance(downs, str) else list(downs))
            out.append({"revision": rev.revision, "down": downs, "doc": rev.doc or "", "path": rev.path})
        return out

    def call(self, target: str, args: list[Any]) -> Any:
        """Call the project's ``module:function`` with ``args`` (the URL, say); its JSON-ready result."""
        result = load_object(target)(*args)
        try:
            json.dumps(result)
        except TypeError:
            return None
        return result

    def stamp(self, revision: str) -> dict[str, Any]:
        """Write ``revision`` into the version table without running anything (a baseline's end)."""
        from alembic import command

        self.view()
        command.stamp(self.cfg, revision)
        return {"heads": list(self.view()["heads"])}

    def revision(self, message: str, autogenerate: bool) -> list[str]:
        """A new revision file (autogenerated against this database); its paths."""
        from alembic import command

        self.view()
        made = command.revision(self.cfg, message=message, autogenerate=autogenerate)
        made = made if isinstance(made, list) else [made]
        return [m.path for m in made if m is not None]

    def create_all(
        self, metadata: str | None, modules: list[str], import_all: str | None, schema: str | None
    ) -> dict[str, Any]:
        """Build the models in this (scratch) database; per tenant when ``schema`` names one for schema=None."""
        for name in modules:
            importlib.import_module(name)
        if import_all:
            load_object(import_all)()
        meta = _metadata(metadata, self)
        declared = {table: (set(table.constraints), set(table.indexes)) for table in meta.tables.values()}
        # What env.py sees when Alembic runs the history: revision files may import model modules as a side
        # effect (a registry completed only then), so they are loaded too, as Alembic loads them. One may also
        # change a model's table as it loads (MLflow's builds a CheckConstraint from model columns, which attaches
        # itself to that table a second time): the tables declared before keep their own constraints and indexes.
        for _ in self.script._load_revisions():
            pass  # each file imported, as Alembic imports them; the history's shape is C6's to judge, not resolved
        for table, (constraints, indexes) in declared.items():
            table.constraints, table.indexes = constraints, indexes
        _complete(meta, metadata or "env.py's target_metadata")
        from sqlalchemy import text

        schemas = sorted({t.schema for t in meta.tables.values() if t.schema} | ({schema} if schema else set()))

        def build(conn: Any) -> None:
            from sqlalchemy.exc import DBAPIError

            for name in schemas:
                conn.execute(text('CREATE SCHEMA IF NOT EXISTS "{}"'.format(name.replace('"', '""'))))
            try:
                meta.create_all(conn.execution_options(schema_translate_map={None: schema}) if schema else conn)
            except DBAPIError as exc:  # the model it failed on, not the statement's text
                failed = _ddl_object(str(exc.statement or ""))
                if not failed:
                    raise
                raise Refused("statement", f"{failed}: {describe_error(exc, self.root)['message']}") from exc

        if self.engine is not None:
            with self.engine.begin() as conn:
                build(conn)
        else:  # an async driver: the same, on an event loop of its own
            import asyncio

            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.pool import NullPool

            async def build_async() -> None:
                engine = create_async_engine(self.url, poolclass=NullPool)
                try:
                    async with engine.begin() as conn:
                        await conn.run_sync(build)
                finally:
                    await engine.dispose()

            asyncio.run(build_async())
        return {"tables": sorted(t.fullname for t in meta.tables.values()), "schemas": schemas}

    def included(self, names: list[str], schema: str | None) -> dict[str, bool]:
        """Which database tables env.py's include_name/include_object keep (True when it has no filter)."""
        filters: dict[str, Any] = {}

        def probe(heads: Any, context: Any) -> list[Any]:
            filters.update({k: context.opts.get(k) for k in ("include_name", "include_object")})
            return []

        self.run_env(probe, dont_mutate=True)
        from sqlalchemy import MetaData, Table

        out: dict[str, bool] = {}
        for name in names:
            keep = True
            if callable(filters.get("include_name")):
                keep = bool(filters["include_name"](name, "table", {"schema_name": schema}))
            if keep and callable(filters.get("include_object")):
                table = Table(name, MetaData(), schema=schema)
                keep = bool(filters["include_object"](table, name, "table", True, None))
            out[name] = keep
        return out

    def imports(self, paths: list[str]) -> dict[str, str]:
        """Each revision file imported on its own: path -> the error it raised ('' when it imports)."""
        import importlib.util

        self.script  # noqa: B018 - applies alembic.ini's prepend_sys_path, as Alembic does before loading
        out = {}
        for number, path in enumerate(paths):
            spec = importlib.util.spec_from_file_location(f"_dbops_revision_{number}", path)
            if spec is None or spec.loader is None:
                out[path] = "cannot be loaded"
                continue
            try:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
                out[path] = ""
            except Exception as exc:  # noqa: BLE001 - any error a revision raises on import is the finding
                out[path] = f"{type(exc).__name__}: {_first_line(exc)}" if str(exc) else type(exc).__name__
            finally:
                sys.modules.pop(spec.name, None)
        return out

    def loaded(self) -> list[str]:
        """The own code this process imported, in the project or beside it (not Python's, not installed)."""
        import sysconfig

        paths = sysconfig.get_paths()
        installed = {os.path.realpath(paths[k]) + os.sep for k in ("stdlib", "platstdlib", "purelib", "platlib")}
        files = set()
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if not isinstance(path, str) or not os.path.isfile(path):
                continue
            real = os.path.realpath(path)
            if any(real.startswith(prefix) for prefix in installed) or "site-packages" in real.split(os.sep):
                continue
            files.add(real)
        return sorted(files)

    def backend_pid(self) -> int | None:
        """The server process of the handed-over connection (None without one): not a stranger holding locks."""
        if self.connection is None:
            return None
        from sqlalchemy import text

        return int(self.connection.execute(text("SELECT pg_backend_pid()")).scalar())

    def history_folders(self) -> tuple[str, ...]:
        """The version folders, once Alembic has read them (env.py may have chosen them); () before."""
        if self._script is None:
            return ()
        return tuple(str(folder) for folder in self._script._version_locations)

    def offline_sql(self, revision: str, parents: list[str]) -> dict[str, Any]:
        """The SQL Alembic emits offline for ``revision``'s one upgrade step (``agent_offline.py``, beside it)."""
        import importlib.util

        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agent_offline.py")
        spec = importlib.util.spec_from_file_location("_dbops_agent_offline", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result: dict[str, Any] = module.offline_sql(self, revision, parents)
        return result

    def close(self) -> None:
        """Close the handed-over connection."""
        if self.connection is not None:
            self.connection.close()
        if self.engine is not None:
            self.engine.dispose()


_DDL_OBJECT = (
    (
        re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF NOT EXISTS\s+)?(\S+)\s+ON\s+(?:ONLY\s+)?(\S+)", re.I),
        "index {} on {}",
    ),
    (re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF NOT EXISTS\s+)?(\S+)", re.I), "table {}"),
    (re.compile(r"^\s*ALTER\s+TABLE\s+(?:ONLY\s+)?(\S+)", re.I), "table {}"),
    (re.compile(r"^\s*CREATE\s+TYPE\s+(\S+)", re.I), "type {}"),
)


def _ddl_object(statement: str) -> str:
    """What a DDL statement of create_all creates or alters ("index ix_a on notes"), '' when it is none of those."""
    for pattern, template in _DDL_OBJECT:
        found = pattern.match(statement)
        if found:
            return template.format(*(name.strip('"') for name in found.groups()))
    return ""


def _settle(connection: Any) -> None:
    """End the handed-over connection's transaction between runs, so it holds no locks meanwhile."""
    if connection is not None and connection.in_transaction() and hasattr(connection, "commit"):
        connection.commit()  # SQLAlchemy 2 begins one implicitly; 1.x connections commit as they go


def _wants_worker_thread(exc: RuntimeError) -> bool:
    """True for AnyIO's complaint that a function ran outside a worker thread (NoEventLoopError; a plain
    RuntimeError before AnyIO 4.5)."""
    return type(exc).__name__ == "NoEventLoopError" or "AnyIO worker thread" in str(exc)


def _is_async(url: str) -> bool:
    scheme = url.split("://", 1)[0]
    return any(scheme.endswith("+" + driver) for driver in _ASYNC_DRIVERS)


def _describe_context(context: Any, heads: Any, reached: bool) -> dict[str, Any]:
    """What env.py told Alembic, as plain data."""
    opts = context.opts
    search_path = None
    if reached and context.connection is not None:
        from sqlalchemy import text

        search_path = context.connection.execute(text("SHOW search_path")).scalar()
    translate = None
    if context.connection is not None:
        translate = context.connection.get_execution_options().get("schema_translate_map")
    return {
        "reached": reached,
        "heads": list(heads),
        "version_table": opts.get("version_table") or "alembic_version",
        "version_table_schema": opts.get("version_table_schema"),
        "include_schemas": bool(opts.get("include_schemas")),
        "filters": [k for k in ("include_name", "include_object") if callable(opts.get(k))],
        "target_metadata": opts.get("target_metadata") is not None,
        "search_path": search_path,
        "schema_translate_map": {str(k): v for k, v in (translate or {}).items()},
    }


def _metadata(path: str | None, agent: Agent) -> Any:
    """The MetaData ``path`` names, or the one env.py gives Alembic as target_metadata."""
    if path:
        module = path.partition(":")[0]
        try:
            return load_object(path)
        except ModuleNotFoundError as exc:
            if not module.startswith(exc.name or "\0"):
                raise  # the models module exists; something it imports does not
            raise Refused("config", f"metadata module {module!r} cannot be imported: {exc}") from None
        except AttributeError as exc:
            raise Refused("config", f"metadata {path!r}: {exc}") from None
    found: list[Any] = []

    def probe(heads: Any, context: Any) -> list[Any]:
        found.append(context.opts.get("target_metadata"))
        return []

    agent.run_env(probe, dont_mutate=True)
    if not found or found[-1] is None:
        raise Refused("config", "env.py sets no target_metadata; name the models' MetaData with metadata = ...")
    meta = found[-1]
    return meta[0] if isinstance(meta, (list, tuple)) else meta


def _complete(meta: Any, named: str) -> None:
    """Refuse a MetaData whose foreign keys name tables it does not hold: its other models are not imported."""
    from sqlalchemy.exc import NoReferenceError

    for table in meta.tables.values():
        for fk in table.foreign_keys:
            try:
                fk.column  # noqa: B018 - resolving the target raises when its table is not in the metadata
            except NoReferenceError:
                where = f"{table.fullname}.{fk.parent.name}"
                raise Refused(
                    "incomplete",
                    f"the metadata {named} holds {len(meta.tables)} tables, and {where} refers to "
                    f"{fk.target_fullname}, which is not among them: the models that define it are not imported",
                ) from None


def load_object(path: str) -> Any:
    """``module:attr.path`` imported."""
    module_name, _, attr = path.partition(":")
    value = importlib.import_module(module_name)
    for part in attr.split(".") if attr else []:
        value = getattr(value, part)
    return value


def versions() -> dict[str, Any]:
    """The interpreter's, SQLAlchemy's and Alembic's versions, and which PostgreSQL drivers import."""
    import importlib.util

    import alembic
    import sqlalchemy

    drivers = [d for d in ("psycopg2", "psycopg", "asyncpg", "pg8000") if importlib.util.find_spec(d)]
    return {
        "python": ".".join(str(n) for n in sys.version_info[:3]),
        "sqlalchemy": sqlalchemy.__version__,
        "alembic": alembic.__version__,
        "drivers": drivers,
        "sys_path": [p for p in sys.path if p],  # where dbops finds a script_location = package:path
    }


def describe_error(exc: BaseException, root: str, history: tuple[str, ...] = ()) -> dict[str, Any]:
    """A failure as plain data: its kind, the message, and where in the project (or its history) it happened.

    ``history``: the version folders, whose revision files are the project's even when installed (optuna's).
    """
    where = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.startswith("<"):
            continue  # <frozen importlib._bootstrap> and the like: not a file of the project
        path = os.path.realpath(frame.f_code.co_filename)
        if path.startswith(os.path.realpath(root) + os.sep) and "site-packages" not in path:
            where = f"{os.path.relpath(path, root)}:{lineno}"
        elif any(path.startswith(os.path.realpath(folder) + os.sep) for folder in history):
            where = f"{os.path.basename(path)}:{lineno}"
    error: dict[str, Any] = {"type": type(exc).__name__, "message": _first_line(exc), "where": where}
    if isinstance(exc, Refused):
        error.update(kind=exc.kind, **exc.extra)
        return error
    error["kind"] = _kind(exc)
    if isinstance(exc, SyntaxError):
        error.update(file=os.path.basename(exc.filename or "?"), line=exc.lineno, message=exc.msg)
    if error["kind"] in ("connection", "statement"):
        orig = getattr(exc, "orig", None) or exc
        diag = getattr(orig, "diag", None)
        primary = getattr(diag, "message_primary", None) if diag is not None else None
        error["message"] = primary or _first_line(orig)
        error["url"] = _failed_url(exc)
        error["sqlstate"] = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return error


def _kind(exc: BaseException) -> str:
    name = type(exc).__module__ + "." + type(exc).__name__
    if isinstance(exc, SyntaxError):
        return "syntax"
    if name.startswith("alembic.") and type(exc).__name__ in ("CommandError", "RevisionError", "ResolutionError"):
        return "command"
    if isinstance(exc, ImportError):
        return "import"
    if name.startswith("sqlalchemy."):
        orig = getattr(exc, "orig", None)
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if type(exc).__name__ == "OperationalError" and (state is None or state[:2] in ("08", "28", "3D")):
            return "connection"
        return "statement"
    return "project"


def _failed_url(exc: BaseException) -> str | None:
    """The URL (password hidden) of the innermost engine on the traceback: the one whose connection failed."""
    found: str | None = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        for value in list(frame.f_locals.values()):
            url = getattr(value, "url", None)
            if url is not None and hasattr(value, "dialect") and hasattr(url, "drivername"):
                render = getattr(url, "render_as_string", None)  # SQLAlchemy 1.4+; 1.3's repr hides it
                found = render(hide_password=True) if render else repr(url)
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main() -> None:
    """Answer requests until stdin closes."""
    out = os.fdopen(int(sys.argv[1]), "w", buffering=1)
    agent: Agent | None = None
    root = os.getcwd()
    warnings.simplefilter("ignore")  # the project's own warnings are not dbops's to show
    for line in sys.stdin:
        request = json.loads(line)
        op, args = request["op"], request.get("args", {})
        try:
            if op == "hello":
                result = versions()
            elif op == "open":
                root = args["root"]
                agent = Agent(root, args["ini"], args["section"], args["url"], args["key"])
                result = None
            else:
                result = getattr(agent, op)(**args)
            reply: dict[str, Any] = {"ok": True, "result": result}
        except BaseException as exc:  # every failure goes back to dbops as data; the process lives on
            reply = {"ok": False, "error": describe_error(exc, root, agent.history_folders() if agent else ())}
            if os.environ.get("DBOPS_DEBUG"):
                reply["error"]["traceback"] = traceback.format_exc()
            if isinstance(exc, KeyboardInterrupt):
                out.write(json.dumps(reply) + "\n")
                raise
        out.write(json.dumps(reply, default=str) + "\n")
    if agent is not None:
        agent.close()
    out.close()
    sys.stdout.flush()
    sys.stderr.flush()
    # Nothing is left to do: skip the interpreter's teardown of everything the project imported (seconds, at times).
    os._exit(0)


if __name__ == "__main__":
    main()
