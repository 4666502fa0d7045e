"""Finding PostgreSQL server binaries: PATH, pg_config, Debian's layout, or the pgserver wheel."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dbops.core.errors import BackendUnavailable

_NEEDED = ("initdb", "pg_ctl", "postgres")


@dataclass(frozen=True)
class PgBin:
    """A folder holding initdb, pg_ctl and postgres, and the major version they report."""

    bindir: Path
    major: int
    source: str

    def tool(self, name: str) -> str:
        """Absolute path of one program in this folder."""
        return str(self.bindir / name)


def _major(bindir: Path) -> int | None:
    try:
        out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else None


def _complete(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in _NEEDED)


def _candidates() -> Iterator[tuple[Path, str]]:
    """Where the binaries may be, in order; asked lazily: pg_config runs only when PATH has no complete set."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        yield Path(on_path).resolve().parent, "PATH"
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
            if out:
                yield Path(out), "pg_config"
        except (OSError, subprocess.SubprocessError):
            pass
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _version_key(p.parent.name), reverse=True)
    yield from ((p, "system") for p in debian)
    # Located without importing pgserver: its import has side effects we do not want.
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin:
        yield Path(spec.origin).parent / "pginstall" / "bin", "pgserver"


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", name)) or (0,)


def find_pgbin(version: str | None = None) -> PgBin:
    """The PostgreSQL binaries to use; ``version`` ("15", "16", "pgserver") narrows the choice."""
    seen: set[Path] = set()
    for bindir, source in _candidates():
        bindir = bindir.resolve() if bindir.exists() else bindir
        if bindir in seen or not _complete(bindir):
            continue
        seen.add(bindir)
        major = _major(bindir)
        if major is None:
            continue
        if version and version not in (str(major), source):
            continue
        return PgBin(bindir, major, source)
    wanted = f" {version}" if version else ""
    raise BackendUnavailable(
        f"no PostgreSQL{wanted} server binaries found (looked on PATH, pg_config, /usr/lib/postgresql/*/bin, pgserver)",
        "install PostgreSQL (apt-get install postgresql), or pip install 'billing-dbops[pgserver]', "
        "or set DATABASE_URL / use --backend docker",
    )


def read_postmaster_pid(data: Path) -> tuple[int, int]:
    """(pid, port) a running postmaster wrote to lines 1 and 4 of ``data``/postmaster.pid; 0 where unknown."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return 0, 0
    values = []
    for index in (0, 3):
        try:
            values.append(int(lines[index]))
        except (IndexError, ValueError):
            values.append(0)
    return values[0], values[1]
