"""Build a small PostgreSQL image from this machine's Debian PostgreSQL files, for machines without a registry.

The image behaves like the official ``postgres`` image as far as the docker backend needs:
``POSTGRES_PASSWORD`` sets the superuser's password on first start, ``PGPORT`` and
``postgres -c ...`` arguments are honoured, and the data lives in ``$PGDATA``.

    python -m dbops.backends.dockerimage          # builds dbops/postgres:<version>-local and prints the tag
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dbops.core.errors import BackendUnavailable, ConfigError, DbopsError
from dbops.core.locks import file_lock

DEFAULT_TAG = "dbops/postgres:15-local"
PG_ROOT = Path("/usr/lib/postgresql")
PG_UID = 999
PGDATA = "/var/lib/postgresql/data"
# The JIT provider pulls in libLLVM (~100 MB); without it PostgreSQL simply runs without JIT.
_SKIP = ("llvmjit", "bitcode")
_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x")

# Mirrors the official image's docker-entrypoint.sh: `postgres` or `-flag` arguments start the server,
# anything else is executed as is. printf is a shell builtin and the pipe is not a file, so the
# password reaches initdb without appearing in a process list or on disk.
ENTRYPOINT_SCRIPT = """#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then
    set -- postgres "$@"
fi
if [ "$1" = postgres ]; then
    shift
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        if [ -z "$POSTGRES_PASSWORD" ]; then
            echo "error: POSTGRES_PASSWORD is not set; the superuser needs a password" >&2
            exit 1
        fi
        printf '%s\\n' "$POSTGRES_PASSWORD" | initdb -D "$PGDATA" -U postgres --pwfile=/dev/stdin \\
            --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >/dev/null
        echo "dbops entrypoint: initialised $PGDATA"
    fi
    unset POSTGRES_PASSWORD
    exec postgres -D "$PGDATA" "$@"
fi
exec "$@"
"""


def installed_versions() -> list[str]:
    """Major versions of PostgreSQL server binaries under /usr/lib/postgresql, oldest first."""
    if not PG_ROOT.is_dir():
        return []
    found = [p.name for p in PG_ROOT.iterdir() if (p / "bin" / "postgres").is_file() and p.name.isdigit()]
    return sorted(found, key=int)


def _elf_files(paths: Iterable[Path]) -> list[Path]:
    out = []
    for path in paths:
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append(path)
    return out


def shared_libraries(binaries: list[Path]) -> set[str]:
    """Every shared library (and the dynamic loader) that ``ldd`` lists for ``binaries``."""
    libs: set[str] = set()
    # Batches keep the argument list short; ldd prints one "file:" header per input.
    for start in range(0, len(binaries), 50):
        batch = [str(b) for b in binaries[start : start + 50]]
        try:
            proc = subprocess.run(["ldd", *batch], capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise BackendUnavailable("ldd is not installed", "install libc-bin (apt-get install libc-bin)") from None
        for line in proc.stdout.splitlines():
            match = _LDD_PATH.search(line)
            if match:
                libs.add(match.group(1))
    return libs


class _Tar:
    """A rootfs tarball written member by member, with ownership set per entry (no chown needed)."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.seen: set[str] = set()

    def _info(self, name: str, kind: bytes, mode: int, uid: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name.lstrip("/"))
        info.type, info.mode, info.uid, info.gid = kind, mode, uid, uid
        info.uname = info.gname = "postgres" if uid else "root"
        info.mtime = int(time.time())
        return info

    def dir(self, name: str, mode: int = 0o755, uid: int = 0) -> None:
        """Add a directory and its missing parents."""
        parts = Path(name.lstrip("/")).parts
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub not in self.seen:
                self.seen.add(sub)
                last = i == len(parts)
                self.tar.addfile(self._info(sub, tarfile.DIRTYPE, mode if last else 0o755, uid if last else 0))

    def symlink(self, name: str, target: str) -> None:
        """Add a symbolic link."""
        self.seen.add(name.lstrip("/"))
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.tar.addfile(info)

    def data(self, name: str, content: bytes, mode: int = 0o644) -> None:
        """Add a regular file with the given content."""
        self.dir(str(Path(name).parent))
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = len(content)
        self.tar.addfile(info, io.BytesIO(content))
        self.seen.add(name.lstrip("/"))

    def copy(self, host_path: Path, name: str | None = None) -> None:
        """Add a host file (symlinks followed) as ``name``, keeping its permission bits."""
        arc = (name or str(host_path)).lstrip("/")
        if arc in self.seen:
            return
        self.dir(str(Path(arc).parent))
        real = host_path.resolve()
        info = self._info(arc, tarfile.REGTYPE, real.stat().st_mode & 0o7777)
        info.size = real.stat().st_size
        with real.open("rb") as fh:
            self.tar.addfile(info, fh)
        self.seen.add(arc)


def _in_rootfs(path: str) -> str:
    """Where a host path lands in the image: its directory resolved, so merged-/usr layouts stay consistent."""
    p = Path(path)
    return str(p.parent.resolve() / p.name)


def write_rootfs(tar_path: Path, version: str) -> None:
    """Write the image's root filesystem as a tarball: PostgreSQL, its libraries, /bin/sh and an entrypoint."""
    pg_lib = PG_ROOT / version
    pg_share = Path("/usr/share/postgresql") / version
    files = [
        p
        for base in (pg_lib, pg_share)
        for p in sorted(base.rglob("*"))
        if p.is_file() and not any(part.startswith(_SKIP) for part in p.relative_to(base).parts)
    ]
    shell = Path("/bin/sh")
    libs = shared_libraries([shell, *_elf_files(files)])
    with tarfile.open(tar_path, "w") as archive:
        tar = _Tar(archive)
        # Keep the host's merged-/usr symlinks (/lib -> usr/lib ...) so paths baked into binaries resolve.
        for top in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
            host = Path("/") / top
            if host.is_symlink():
                tar.symlink(top, os.readlink(host))
        for path in files:
            tar.copy(path)
        for lib in sorted(libs):
            tar.copy(Path(lib), _in_rootfs(lib))
        tar.copy(shell, _in_rootfs(str(shell)))
        tar.data(
            "/etc/passwd",
            f"root:x:0:0:root:/root:/bin/sh\npostgres:x:{PG_UID}:{PG_UID}::/var/lib/postgresql:/bin/sh\n".encode(),
        )
        tar.data("/etc/group", f"root:x:0:\npostgres:x:{PG_UID}:\n".encode())
        # UTC only: the server needs a zone file for its TimeZone setting, not the whole tz database.
        for zone in ("UTC", "Etc/UTC", "GMT", "Etc/GMT"):
            host_zone = Path("/usr/share/zoneinfo") / zone
            if host_zone.exists():
                tar.copy(host_zone, f"/usr/share/zoneinfo/{zone}")
        tar.data("/usr/local/bin/docker-entrypoint.sh", ENTRYPOINT_SCRIPT.encode(), mode=0o755)
        tar.dir("/tmp", mode=0o1777)
        tar.dir("/var/lib/postgresql", mode=0o755, uid=PG_UID)
        tar.dir("/var/run/postgresql", mode=0o2775, uid=PG_UID)
        tar.dir("/dev")
        tar.dir("/proc")
        tar.dir("/sys")
        tar.dir("/etc")


def image_changes(version: str) -> list[str]:
    """The Dockerfile instructions applied on import (user, environment, entrypoint, command)."""
    return [
        "USER postgres",
        f"ENV PATH=/usr/lib/postgresql/{version}/bin:/usr/bin:/bin",
        f"ENV PGDATA={PGDATA}",
        "ENV TZ=UTC",
        "WORKDIR /var/lib/postgresql",
        f"LABEL dbops.source=debian-postgresql-{version}",
        'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
        'CMD ["postgres"]',
    ]


def _client() -> Any:
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        raise BackendUnavailable(
            "the Docker SDK for Python is not installed", "pip install 'billing-dbops[docker]'"
        ) from None
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendUnavailable(
            f"no Docker engine is reachable ({reason})", "start Docker (dockerd), then retry"
        ) from None
    return client


def image_exists(client: Any, tag: str) -> bool:
    """True if the engine already holds an image with this tag."""
    import docker

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def build_local_image(tag: str = DEFAULT_TAG, version: str | None = None, force: bool = False) -> str:
    """Build and import the local PostgreSQL image unless ``tag`` already exists; return the tag."""

    client = _client()
    if not force and image_exists(client, tag):
        return tag
    # Two runs building at once would both import the image: one builds, the other waits and reuses it.
    lock = Path(tempfile.gettempdir()) / f"dbops-image-{os.getuid()}.lock"
    with file_lock(lock, f"waiting for another process building {tag} ..."):
        if not force and image_exists(client, tag):
            return tag
        return _build(client, tag, version)


def _build(client: Any, tag: str, version: str | None) -> str:
    """Write the root file system from the installed PostgreSQL and import it as ``tag``."""
    import docker

    versions = installed_versions()
    if not versions:
        raise BackendUnavailable(
            f"no PostgreSQL server binaries under {PG_ROOT}",
            "install them (apt-get install postgresql), or pull an image",
        )
    if version is None:
        version = versions[-1]
    elif version not in versions:
        raise ConfigError(f"PostgreSQL {version} is not installed here", f"installed: {', '.join(versions)}")
    repository, _, image_tag = tag.rpartition(":")
    if not repository or "/" in image_tag:
        repository, image_tag = tag, "latest"
    with tempfile.TemporaryDirectory(prefix="dbops-image-") as tmp:
        tar_path = Path(tmp) / "rootfs.tar"
        write_rootfs(tar_path, version)
        try:
            client.api.import_image_from_file(
                str(tar_path), repository=repository, tag=image_tag, changes=image_changes(version)
            )
        except docker.errors.APIError as exc:
            raise BackendUnavailable(
                f"docker import of {tag} failed: {exc.explanation or exc}", "see the dockerd log"
            ) from None
    if not image_exists(client, tag):
        raise BackendUnavailable(f"docker import did not produce image {tag}", "see the dockerd log")
    return tag


def main(argv: list[str] | None = None) -> int:
    """Build the image named by the first argument (default dbops/postgres:15-local) and print its tag."""
    args = sys.argv[1:] if argv is None else argv
    tag = args[0] if args else DEFAULT_TAG
    try:
        print(build_local_image(tag))
    except DbopsError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
