"""The docker backend against a real Docker engine, using the locally built PostgreSQL image."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbops.backends.base import get_backend
from dbops.backends.docker import DockerBackend
from dbops.core import database
from dbops.core.config import Settings, load_settings
from dbops.core.errors import BackendUnavailable, ConfigError, DatabaseUnreachable, DbopsError
from dbops.core.urls import libpq_url, with_database

REPO = Path(__file__).resolve().parents[3]


def _engine_problem() -> str | None:
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return "the Docker SDK for Python is not installed (pip install 'billing-dbops[docker]')"
    try:
        docker.from_env().ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: no engine to test against
        return f"no Docker engine is reachable ({type(exc).__name__}); run .ci/docker-engine.sh"
    return None


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """A client of the running engine, or skip the test."""
    problem = _engine_problem()
    if problem:
        pytest.skip(problem)
    import docker

    return docker.from_env()


@pytest.fixture(scope="session")
def local_image(docker_client: Any) -> str:
    """Tag of the PostgreSQL image built from this machine's files (no registry needed)."""
    from dbops.backends.dockerimage import build_local_image, installed_versions

    if not installed_versions():
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql to build the local image from")
    return build_local_image()


@pytest.fixture()
def settings(local_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Project settings with a private cache dir, so every test gets its own container."""
    monkeypatch.setenv("DBOPS_DOCKER_IMAGE", local_image)
    return load_settings(REPO).replace(cache_dir=tmp_path / "cache", backend="docker", docker_image=local_image)


@pytest.fixture()
def backend(settings: Settings) -> Iterator[DockerBackend]:
    """The docker backend; its container is removed after the test."""
    chosen = get_backend(settings)
    assert isinstance(chosen, DockerBackend)
    yield chosen
    chosen.stop()


def _one_line(exc: DbopsError, *secrets: str) -> str:
    """Check the error is a single line with a hint and no secret, then return it."""
    line = exc.one_line()
    assert "\n" not in line and "Traceback" not in line
    assert exc.hint
    for secret in secrets:
        assert secret not in line and secret not in str(exc)
    return line


def test_start_returns_a_url_that_accepts_select_1(backend: DockerBackend) -> None:
    url = backend.start()
    assert url.host == "127.0.0.1" and url.username == "postgres" and url.database == "postgres"
    with psycopg.connect(libpq_url(url)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        # Host networking: the server must listen on loopback only, on the port we picked.
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW port").fetchone() == (str(url.port),)


def test_second_start_reuses_the_container(backend: DockerBackend, settings: Settings, docker_client: Any) -> None:
    first = backend.start()
    first_id = docker_client.containers.get(backend.container_name).id
    again = DockerBackend(settings).start()
    assert again == first
    assert docker_client.containers.get(backend.container_name).id == first_id


def test_a_stopped_container_is_restarted_with_its_data(backend: DockerBackend, docker_client: Any) -> None:
    url = backend.start()
    database.create(url, "kept")
    container = docker_client.containers.get(backend.container_name)
    container.stop(timeout=5)
    assert backend.start() == url
    assert docker_client.containers.get(backend.container_name).id == container.id
    assert database.exists(url, "kept")


def test_state_file_is_private_and_names_differ_per_checkout(backend: DockerBackend, settings: Settings) -> None:
    url = backend.start()
    assert stat.S_IMODE(backend.state_file.stat().st_mode) == 0o600
    state = json.loads(backend.state_file.read_text())
    assert state["port"] == url.port and state["password"] == url.password
    assert backend.container_name.startswith(f"dbops-{settings.database}-")
    other = DockerBackend(settings.replace(root=settings.root / "elsewhere"))
    assert other.container_name != backend.container_name


def test_password_never_appears_in_status_or_errors(backend: DockerBackend, docker_client: Any) -> None:
    url = backend.start()
    password = url.password
    assert isinstance(password, str) and password
    line = backend.status()
    assert password not in line and "***" in line and "running" in line and "\n" not in line

    # A stopped container whose port was taken meanwhile.
    docker_client.containers.get(backend.container_name).stop(timeout=5)
    with socket.socket() as squatter:
        # As a server binds: the stopped server's sockets lingering in TIME_WAIT must not stop the squatter.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", url.port or 0))
        squatter.listen()
        with pytest.raises(BackendUnavailable) as taken:
            backend.start()
    assert "used by another process" in _one_line(taken.value, password)

    # A state file whose password the server rejects.
    backend.start()
    state = json.loads(backend.state_file.read_text())
    state["password"] = "not-the-password-42"
    backend.state_file.write_text(json.dumps(state))
    with pytest.raises(DatabaseUnreachable) as rejected:
        backend.start()
    _one_line(rejected.value, password, "not-the-password-42")
    assert password not in backend.status()


def test_stop_removes_the_container_and_a_second_stop_returns_false(backend: DockerBackend, docker_client: Any) -> None:
    import docker

    backend.start()
    assert backend.stop() is True
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(backend.container_name)
    assert not backend.state_file.exists()
    assert backend.stop() is False
    assert "not created" in backend.status()


def test_parallel_starts_share_one_container(backend: DockerBackend, settings: Settings, docker_client: Any) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        urls = list(pool.map(lambda _: DockerBackend(settings).start(), range(3)))
    assert len(set(urls)) == 1
    names = [c.name for c in docker_client.containers.list(all=True, filters={"name": backend.container_name})]
    assert names == [backend.container_name]


def test_missing_image_is_one_line_naming_the_way_out(settings: Settings) -> None:
    backend = DockerBackend(settings.replace(docker_image="dbops/no-such-image:0"))
    try:
        with pytest.raises((BackendUnavailable, ConfigError)) as missing:
            backend.start()
    finally:
        backend.stop()
    line = _one_line(missing.value)
    assert "dbops/no-such-image:0" in line and "dbops.backends.dockerimage" in line and "DBOPS_DOCKER_IMAGE" in line
    assert missing.value.__suppress_context__


def test_unreachable_engine_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("docker")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    settings = load_settings(REPO).replace(cache_dir=tmp_path / "cache", backend="docker")
    with pytest.raises(BackendUnavailable) as unreachable:
        DockerBackend(settings).start()
    line = _one_line(unreachable.value)
    assert "no Docker engine is reachable" in line and "no-docker.sock" in line
    assert "start Docker" in unreachable.value.hint and "embedded" in unreachable.value.hint
    status = DockerBackend(settings).status()
    assert status.startswith("docker: no Docker engine is reachable") and "\n" not in status


def test_image_builder_cli_fails_in_one_line_without_an_engine(tmp_path: Path) -> None:
    pytest.importorskip("docker")
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    proc = subprocess.run([sys.executable, "-m", "dbops.backends.dockerimage"], capture_output=True, text=True, env=env)
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1 and "no Docker engine is reachable" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_local_image_build_is_idempotent(local_image: str, docker_client: Any) -> None:
    from dbops.backends.dockerimage import build_local_image

    before = docker_client.images.get(local_image).id
    assert build_local_image(local_image) == local_image
    assert docker_client.images.get(local_image).id == before


def test_billing_schema_migrates_in_the_container(backend: DockerBackend, settings: Settings) -> None:
    if importlib.util.find_spec("billing.models") is None:
        pytest.skip("billing.models does not exist yet")
    if not settings.alembic_ini.is_file():
        pytest.skip(f"{settings.alembic_ini} does not exist yet")
    from dbops import migrations

    head = migrations.history(settings)[-1][0]
    if head is None:
        pytest.skip("the billing migrations have no revisions yet")
    server = backend.start()
    url = database.create(server, "x")
    assert url == with_database(server, "x")
    migrations.upgrade(settings, url, "head")
    assert migrations.current(settings, url) == head
    with psycopg.connect(libpq_url(url)) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    assert tables is not None and tables[0] > 1


def _command_in_repo(*args: str, registry: Path) -> subprocess.CompletedProcess[str]:
    """One dbops command, as a user would run it, seeing only this test's registry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_"))}
    env["DBOPS_RUNTIME_DIR"] = str(registry)
    return subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("registry_lost", [False, True], ids=["next-command", "stop-all-orphans"])
def test_containers_of_deleted_checkouts_are_removed(
    local_image: str, docker_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_lost: bool
) -> None:
    import docker

    from dbops.backends import servers

    registry = tmp_path / "registry"
    monkeypatch.setenv("DBOPS_RUNTIME_DIR", str(registry))
    cache = tmp_path / "gone" / "cache"
    be = DockerBackend(load_settings(REPO).replace(cache_dir=cache, backend="docker", docker_image=local_image))
    try:
        be.start()
        container = docker_client.containers.get(be.container_name)
        assert container.labels["dbops.owner"] == str(cache.resolve())
        [entry] = servers.entries()
        assert entry.container == be.container_name
        if registry_lost:  # e.g. the machine's /tmp was cleaned: the label still finds it
            servers.forget(entry)
        shutil.rmtree(tmp_path / "gone")

        run = (
            _command_in_repo("db.stop", "--all-orphans", registry=registry)
            if registry_lost
            else (_command_in_repo("db.status", registry=registry))
        )
        assert run.returncode == 0, run.stderr
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(be.container_name)
        assert servers.entries() == []
    finally:
        be.stop()
