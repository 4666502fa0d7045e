"""The ``docker`` backend: PostgreSQL in a container per project checkout, reached on 127.0.0.1.

Containers use host networking (the engine may have no bridge) with a free loopback port picked
by us; the port and a generated password live in a 0600 JSON file under ``<cache_dir>/docker``.
Any image that behaves like the official ``postgres`` image works (``POSTGRES_PASSWORD``, ``PGPORT``,
``postgres -c ...``); ``python -m dbops.backends.dockerimage`` builds one without a registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from dbops.backends import servers
from dbops.backends.base import Backend
from dbops.core.database import wait_ready
from dbops.core.dburl import URL
from dbops.core.errors import BackendUnavailable, ConfigError, DatabaseUnreachable
from dbops.core.locks import file_lock
from dbops.core.ports import free_port, port_taken
from dbops.core.private import write_private
from dbops.core.urls import mask_text, mask_url

READY_TIMEOUT = 60.0
LABEL_PROJECT = "dbops.project"
LABEL_DATABASE = "dbops.database"
LABEL_OWNER = "dbops.owner"  # the cache directory: when it is gone the container is an orphan
_NO_ENGINE_HINT = "start Docker, or use --backend embedded (default) or DATABASE_URL=..."
_OS_ERROR = re.compile(r"\w+Error\(\d+, '([^']+)'\)")
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]+")


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _engine_reason(exc: BaseException) -> str:
    """A short reason from the SDK's nested connection errors, e.g. 'unix:///x.sock: No such file or directory'."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    text = str(exc)
    match = _OS_ERROR.search(text)
    return f"{host}: {match.group(1) if match else _first_line(text) or type(exc).__name__}"


def server_url(port: int, password: str) -> URL:
    """The maintenance database URL of a container's server."""
    return URL.create(
        "postgresql+psycopg", username="postgres", password=password, host="127.0.0.1", port=port, database="postgres"
    )


class DockerBackend(Backend):
    """A PostgreSQL container named after the project checkout, kept running between commands."""

    name = "docker"

    # -- naming and state -------------------------------------------------------------------

    @property
    def container_name(self) -> str:
        """``dbops-<database>-<hash8>``: the hash of root and cache dir keeps checkouts apart."""
        root = self.settings.root.resolve()
        cache = Path(self.settings.cache_dir).resolve()
        digest = hashlib.sha256(f"{root}\0{cache}".encode()).hexdigest()[:8]
        database = _NAME_UNSAFE.sub("-", self.settings.database).strip("-.") or "db"
        return f"dbops-{database}-{digest}"

    @property
    def state_file(self) -> Path:
        """Where the container's port and password are kept (mode 0600)."""
        return Path(self.settings.cache_dir) / "docker" / f"{self.container_name}.json"

    def _read_state(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if isinstance(data, dict) and isinstance(data.get("port"), int) and isinstance(data.get("password"), str):
            return data
        return None

    def _write_state(self, port: int, password: str, image: str) -> None:
        state = {"container": self.container_name, "port": port, "password": password, "image": image}
        write_private(self.state_file, json.dumps(state))

    @staticmethod
    def _state_from_container(container: Any) -> dict[str, Any] | None:
        """Recover port and password from the container's environment when the state file is gone."""
        env = dict(item.partition("=")[::2] for item in container.attrs.get("Config", {}).get("Env") or [])
        if env.get("POSTGRES_PASSWORD") and env.get("PGPORT", "").isdigit():
            return {"port": int(env["PGPORT"]), "password": env["POSTGRES_PASSWORD"]}
        return None

    # -- engine -----------------------------------------------------------------------------

    def _client(self) -> Any:
        try:
            import docker  # type: ignore[import-untyped]
        except ImportError:
            raise BackendUnavailable(
                "the docker backend needs the Docker SDK for Python, which is not installed",
                "pip install 'billing-dbops[docker]', or use --backend embedded (default) or DATABASE_URL=...",
            ) from None
        import requests

        try:
            client = docker.from_env()
            client.ping()
        # ping() lets requests' connection errors through unwrapped.
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise BackendUnavailable(
                f"no Docker engine is reachable ({_engine_reason(exc)})", _NO_ENGINE_HINT
            ) from None
        return client

    def _find(self, client: Any) -> Any | None:
        import docker

        try:
            container = client.containers.get(self.container_name)
        except docker.errors.NotFound:
            return None
        project = (container.labels or {}).get(LABEL_PROJECT)
        if project != str(self.settings.root.resolve()):
            raise ConfigError(
                f"a container named {self.container_name} exists but does not belong to this project ({project!r})",
                f"remove it with `docker rm -f {self.container_name}`",
            )
        return container

    def _ensure_image(self, client: Any) -> None:
        """Use the local image, else pull it; either failure is one line naming both ways out."""
        import docker

        image = self.settings.docker_image
        try:
            client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as exc:
            raise ConfigError(
                f"invalid Docker image name {image!r}: {_first_line(str(exc.explanation or exc))}",
                "set DBOPS_DOCKER_IMAGE or docker_image under [tool.dbops]",
            ) from None
        repository, tag = docker.utils.parse_repository_tag(image)
        try:
            # An explicit tag: without one the SDK would pull every tag of the repository.
            client.images.pull(repository, tag=tag or "latest")
        except docker.errors.DockerException as exc:
            reason = _first_line(str(getattr(exc, "explanation", None) or exc))
            raise BackendUnavailable(
                f"Docker image {image!r} is not available locally and cannot be pulled ({reason})",
                "build a local one with `python -m dbops.backends.dockerimage` and set "
                "DBOPS_DOCKER_IMAGE=dbops/postgres:15-local, or make the registry reachable",
            ) from None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> URL:
        """Reuse, restart or create the project's container; return its server URL once it accepts connections."""
        import docker

        client = self._client()
        lock = self.state_file.parent / f"{self.container_name}.lock"
        # Parallel test workers call start() together; one creates the container, the others reuse it.
        with file_lock(lock, f"waiting for another dbops process starting {self.container_name} ..."):
            container = self._find(client)
            if container is not None:
                state = self._read_state() or self._state_from_container(container)
                if state is None:
                    raise ConfigError(
                        f"container {self.container_name} exists but its port and password are unknown",
                        f"remove it with `docker rm -f {self.container_name}` (or `db.stop`) and start again",
                    )
                port, password = int(state["port"]), str(state["password"])
                if container.status != "running":
                    if port_taken(port):
                        raise BackendUnavailable(
                            f"port {port} of stopped container {self.container_name} is now used by another process",
                            "free the port, or run `db.stop` to start afresh",
                        )
                    try:
                        container.start()
                    except docker.errors.APIError as exc:
                        raise self._failed(f"cannot restart container {self.container_name}", exc, password) from None
            else:
                self._ensure_image(client)
                port, password = free_port(), secrets.token_urlsafe(16)
                self._write_state(port, password, self.settings.docker_image)
                container = self._run(client, port, password)
        url = server_url(port, password)
        self._wait(container, url, password)
        owner = str(Path(self.settings.cache_dir).resolve())
        entry = servers.lookup("docker", self.container_name)
        if entry is None or (entry.owner, entry.port) != (owner, port):
            servers.record(servers.Server("docker", owner, port, container=self.container_name, started=time.time()))
        return url

    def _run(self, client: Any, port: int, password: str) -> Any:
        import docker

        try:
            return client.containers.run(
                self.settings.docker_image,
                command=["postgres", "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}"],
                environment={"POSTGRES_PASSWORD": password, "PGPORT": str(port)},
                name=self.container_name,
                labels={
                    LABEL_PROJECT: str(self.settings.root.resolve()),
                    LABEL_DATABASE: self.settings.database,
                    LABEL_OWNER: str(Path(self.settings.cache_dir).resolve()),
                },
                # No bridge on some engines, and loopback-only traffic: the server binds 127.0.0.1 on the host.
                network_mode="host",
                detach=True,
            )
        except docker.errors.DockerException as exc:
            raise self._failed(f"cannot run image {self.settings.docker_image!r}", exc, password) from None

    def _failed(self, what: str, exc: BaseException, password: str) -> BackendUnavailable:
        reason = mask_text(_first_line(str(getattr(exc, "explanation", None) or exc)), (password,))
        return BackendUnavailable(f"{what}: {reason}", "check `docker ps -a` and the dockerd log")

    def _wait(self, container: Any, url: URL, password: str) -> None:
        """Wait until the server answers, failing fast if the container exits meanwhile."""
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                wait_ready(url, timeout=min(2.0, max(0.1, deadline - time.monotonic())))
                return
            except DatabaseUnreachable as exc:
                if "authentication failed" in exc.message:
                    raise DatabaseUnreachable(
                        f"container {self.container_name} rejects the password in {self.state_file}",
                        f"run `db.stop` (or `docker rm -f {self.container_name}`) and start again",
                    ) from None
                container.reload()
                if container.status in ("exited", "dead"):
                    logs = container.logs(tail=5).decode("utf-8", "replace").strip().splitlines()
                    last = mask_text(logs[-1], (password,)) if logs else "no output"
                    raise BackendUnavailable(
                        f"container {self.container_name} exited before accepting connections: {last}",
                        f"see `docker logs {self.container_name}`",
                    ) from None
                if time.monotonic() >= deadline:
                    raise BackendUnavailable(
                        f"container {self.container_name} did not accept connections within {READY_TIMEOUT:.0f} s",
                        f"see `docker logs {self.container_name}`",
                    ) from None

    def stop(self) -> bool:
        """Remove the container (and its anonymous volumes) and the state file; True if something was removed."""
        import docker

        client = self._client()
        removed = False
        try:
            container = client.containers.get(self.container_name)
        except docker.errors.NotFound:
            container = None
        if container is not None:
            try:
                container.remove(force=True, v=True)
                removed = True
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                raise BackendUnavailable(
                    f"cannot remove container {self.container_name}: {_first_line(str(exc.explanation or exc))}",
                    f"try `docker rm -f {self.container_name}`",
                ) from None
        try:
            self.state_file.unlink()
            removed = True
        except FileNotFoundError:
            pass
        entry = servers.lookup("docker", self.container_name)
        if entry is not None:
            servers.forget(entry)
        return removed

    def status(self) -> str:
        """One line: container name, its state and the masked server URL."""
        try:
            client = self._client()
        except BackendUnavailable as exc:
            # Like the embedded backend: status reports the problem instead of failing.
            return f"docker: {exc.one_line()}"
        container = self._find(client)
        if container is None:
            return f"docker: {self.container_name} not created (image {self.settings.docker_image})"
        state = self._read_state() or self._state_from_container(container)
        where = mask_url(server_url(int(state["port"]), str(state["password"]))) if state else "port unknown"
        return f"docker: {self.container_name} {container.status}, {where}"
