"""load_settings: pyproject, .env and the environment, in that order of precedence, with one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbops.core.config import load_settings
from dbops.core.errors import ConfigError


def _project(root: Path, table: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (root / "pyproject.toml").write_text(f'[tool.dbops]\nmetadata = "app.models:metadata"\n{table}')
    return root


def test_pyproject_values_and_defaults(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", 'database = "shop"\nallow_tables = ["audit"]\nlint_paths = ["src"]\n')
    s = load_settings(root, env={})
    assert (s.root, s.database, s.metadata) == (root.resolve(), "shop", "app.models:metadata")
    assert s.alembic_ini == root.resolve() / "alembic.ini"
    assert s.allow_tables == ("audit",) and s.pipeline.lint_paths == ("src",)  # tuples: Settings is hashable
    assert s.cache_dir == root.resolve() / ".dbops" and s.url is None and s.backend is None


def test_the_environment_beats_dotenv_which_beats_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    (root / ".env").write_text("# local\nDATABASE_URL=postgresql://u@127.0.0.1/from_dotenv\nDBOPS_BACKEND=url\n")
    from_dotenv = load_settings(root, env={})
    assert from_dotenv.url == "postgresql://u@127.0.0.1/from_dotenv" and from_dotenv.backend == "url"
    from_env = load_settings(root, env={"DATABASE_URL": "postgresql://u@127.0.0.1/from_env", "DBOPS_IDLE_STOP": "5"})
    assert from_env.url == "postgresql://u@127.0.0.1/from_env" and from_env.idle_stop == 5.0


def test_cache_dir_from_the_environment_is_relative_to_the_root(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    assert load_settings(root, env={"DBOPS_CACHE_DIR": "build/cache"}).cache_dir == root.resolve() / "build/cache"


@pytest.mark.parametrize(
    ("table", "env", "message"),
    [
        ("datbase = 1\n", {}, "unknown [tool.dbops] keys: datbase"),
        ('schemas = ["a", "b"]\n', {}, "one schema per run"),
        ("", {"DBOPS_IDLE_STOP": "soon"}, "is not a number of seconds"),
        ("database = \n", {}, "is not valid TOML"),
        ('url_env = "MY_URL"\n', {}, "url_env = 'MY_URL' in pyproject.toml is not a list of strings"),
        ("allow_tables = [1]\n", {}, "allow_tables = [1] in pyproject.toml is not a list of strings"),
        ('idle_stop = "soon"\n', {}, "idle_stop = 'soon' in pyproject.toml is not a number"),
        ("seed = 3\n", {}, "seed = 3 in pyproject.toml is not a string"),
    ],
    ids=["unknown key", "two schemas", "bad idle stop", "broken toml", "string list", "int list", "number", "str"],
)
def test_bad_settings_are_one_config_error(tmp_path: Path, table: str, env: dict[str, str], message: str) -> None:
    root = _project(tmp_path / "p", table)
    with pytest.raises(ConfigError) as info:
        load_settings(root, env=env)
    assert message in info.value.message and "\n" not in info.value.one_line()


def test_pipeline_keys_are_kept_apart_from_the_core_settings(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", 'smoke = "app.smoke:run"\nunit_tests = "t/u"\nsprint_start = "0003"\n')
    s = load_settings(root, env={})
    assert (s.pipeline.smoke, s.pipeline.unit_tests, s.pipeline.sprint_start) == ("app.smoke:run", "t/u", "0003")
    assert not hasattr(s, "smoke") and not hasattr(s, "unit_tests")


def test_a_string_where_a_list_belongs_is_refused_with_the_list_spelling(tmp_path: Path) -> None:
    """url_env = "MY_URL" once became a list of one-letter names; now it names the fix."""
    root = _project(tmp_path / "p", 'url_env = "MY_URL"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(root, env={})
    assert info.value.hint == 'write it as url_env = ["MY_URL"]'
