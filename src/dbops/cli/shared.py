"""What every command-line entry point shares: one-line errors, exit codes, masked output, settings."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from invoke.exceptions import Exit

from dbops.core.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    DbopsError,
    FindingsDetected,
    HistoryBroken,
    command_hint,
    set_program,
)
from dbops.core.masking import mask_text

if TYPE_CHECKING:
    from dbops.core.config import Settings

F = TypeVar("F", bound=Callable[..., Any])
BACKEND_HELP = "url, embedded (default without DATABASE_URL) or docker"
URL_HELP = "database server URL (default: DATABASE_URL)"
DB_HELP = {"backend": BACKEND_HELP, "url": URL_HELP}


def program_name() -> str:
    """The program the user ran: ``dbops``, or ``invoke`` for a tasks.py that uses dbops's tasks."""
    return "invoke" if Path(sys.argv[0]).name in ("invoke", "inv") or "invoke" in Path(sys.argv[0]).parts else "dbops"


def debug_enabled() -> bool:
    """Tracebacks are shown with ``invoke --debug ...`` or DBOPS_DEBUG=1."""
    return bool(os.environ.get("DBOPS_DEBUG")) or "--debug" in sys.argv


def _secrets() -> tuple[str, ...]:
    """Passwords we know of, so no message ever shows them even outside a URL."""
    found = []
    for key in ("DATABASE_URL",):
        raw = os.environ.get(key, "")
        if "@" in raw and ":" in raw.split("@", 1)[0].split("//", 1)[-1]:
            found.append(raw.split("@", 1)[0].split("//", 1)[-1].split(":", 1)[1])
    return tuple(s for s in found if len(s) >= 3)


def fail(message: str, code: int) -> Exit:
    """An invoke Exit that prints one masked line to stderr."""
    print(f"error: {mask_text(message, _secrets())}", file=sys.stderr)
    return Exit(code=code)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _redeliver(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable hook: a Ctrl-C that landed in a finalizer (Python would print it and drop it) is raised again."""

    def hook(unraisable: Any) -> object:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            # A timer signal, handled by _interrupt in the main thread a moment later, outside any finalizer.
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            return None
        return previous(unraisable)

    return hook


def cache_library_bytecode() -> None:
    """Write the bytecode of the dbops modules this command loaded, where Python would have.

    invoke turns bytecode writing off for its whole process (so a tasks.py leaves no .pyc), and an
    editable install has no bytecode from pip: every command recompiled dbops (about 0.1 s). Only
    dbops's own modules, not the project's; Python's own setting (PYTHONDONTWRITEBYTECODE, -B) wins;
    a file modified in the last seconds is left alone (it may be mid-edit); a read-only install is fine.
    """
    if sys.flags.dont_write_bytecode:
        return
    import py_compile
    import time

    recent = time.time() - 5
    for name, module in list(sys.modules.items()):
        source, cached = getattr(module, "__file__", None), getattr(module, "__cached__", None)
        if not (name == "dbops" or name.startswith("dbops.")) or not source or not cached:
            continue
        try:
            if not os.path.exists(cached) and os.stat(source).st_mtime < recent:
                py_compile.compile(source, cfile=cached, doraise=True, quiet=2)
        except (OSError, py_compile.PyCompileError):
            continue  # unwritable or unreadable: the next command compiles in memory, as before


def handled(fn: F) -> F:
    """Turn dbops errors into one line and an exit code; tracebacks only with --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = None
        previous_hook = sys.unraisablehook
        if threading.current_thread() is threading.main_thread():
            # SIGTERM gets the same orderly cleanup as Ctrl-C (Python's default would just die);
            # restored afterwards, so a signal after the work is done does not look like an interruption.
            previous = signal.signal(signal.SIGTERM, _interrupt)
            signal.signal(signal.SIGALRM, _interrupt)
            sys.unraisablehook = _redeliver(previous_hook)
        set_program(program_name())
        try:
            return fn(*args, **kwargs)
        except Exit:
            raise
        except FindingsDetected as exc:  # the report has shown the findings: only the exit code is left
            raise Exit(code=exc.exit_code) from None
        except HistoryBroken as exc:
            if debug_enabled():
                traceback.print_exc()
            from dbops.report import history_lines

            lines = history_lines(exc.findings)
            for line in lines[:-1]:
                print(f"error: {mask_text(line, _secrets())}", file=sys.stderr)
            raise fail(lines[-1], exc.exit_code) from None
        except DbopsError as exc:
            if debug_enabled():
                traceback.print_exc()
            raise fail(exc.one_line(), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted; the next run recovers by itself", EXIT_INTERRUPTED) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if debug_enabled():
                traceback.print_exc()
            # The first line only: a driver's message goes on with the SQL statement and its parameters.
            first = (str(exc).strip().splitlines() or [""])[0]
            raise fail(
                f"unexpected {type(exc).__name__}: {first} (a bug in dbops: `{command_hint('--debug ...')}` "
                "shows the traceback to report)",
                EXIT_INTERNAL,
            ) from None
        finally:
            cache_library_bytecode()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                sys.unraisablehook = previous_hook

    return wrapper  # type: ignore[return-value]


def settings_for(backend: str | None = None, url: str | None = None, **extra: Any) -> Settings:
    """Project settings with command-line overrides applied (None means 'not given')."""
    from dbops.core.config import load_settings

    settings = load_settings()
    # The project's own packages (models, seed, hooks) import from its root, as in env.py.
    if str(settings.root) not in sys.path:
        sys.path.insert(0, str(settings.root))
    if url:
        backend = backend or "url"
    return settings.replace(backend=backend, url=url, **extra)
