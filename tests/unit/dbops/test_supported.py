"""The project's libraries: one line naming the version found and the oldest dbops runs on."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbops.core.errors import ConfigError
from dbops.project.python import SUPPORTED, _supported


@pytest.mark.parametrize(("version", "ok"), [("1.2.19", False), ("1.3.0", True), ("1.4.54", True), ("2.1.9", True)])
def test_sqlalchemy_versions(version: str, ok: bool) -> None:
    if ok:
        _supported(Path("/venv/bin/python"), "SQLAlchemy", version, SUPPORTED["sqlalchemy"])
        return
    with pytest.raises(ConfigError) as info:
        _supported(Path("/venv/bin/python"), "SQLAlchemy", version, SUPPORTED["sqlalchemy"])
    assert "has SQLAlchemy 1.2.19; dbops runs projects on SQLAlchemy 1.3 or newer" in info.value.message
