"""URL parsing, masking and locality: examples and properties."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbops.core.errors import ConfigError
from dbops.core.urls import is_local, mask_text, mask_url, parse_url

SECRET_CHARS = string.ascii_letters + string.digits + "-_.~!$&'()*+,;%"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "empty"),
        ("garbage", "malformed"),
        ("mysql://u:p@h/db", "unsupported"),
        ("postgresql://u:p@h:notaport/db", "malformed"),
    ],
)
def test_bad_urls_raise_one_config_error(raw: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_url(raw)
    assert why in info.value.message
    assert "\n" not in info.value.one_line()


def test_parse_switches_to_psycopg_driver() -> None:
    url = parse_url("postgres://app:pw@db.example.com:6543/billing")
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.database, url.password) == ("db.example.com", 6543, "billing", "pw")


@pytest.mark.parametrize(
    ("raw", "local"),
    [
        ("postgresql://u@127.0.0.1/db", True),
        ("postgresql://u@127.8.9.10/db", True),
        ("postgresql://u@localhost/db", True),
        ("postgresql://u@[::1]/db", True),
        ("postgresql:///db?host=/var/run/postgresql", True),
        ("postgresql://u@db.internal/db", False),
        ("postgresql://u@10.0.0.5/db", False),
    ],
)
def test_is_local(raw: str, local: bool) -> None:
    assert is_local(parse_url(raw)) is local


@given(
    user=st.text(string.ascii_lowercase, min_size=1, max_size=12),
    password=st.text(SECRET_CHARS, min_size=4, max_size=30).map(lambda p: "Zx9" + p),
    host=st.sampled_from(["127.0.0.1", "db.example.com", "localhost"]),
    port=st.integers(1, 65535),
)
def test_masked_url_never_contains_the_password(user: str, password: str, host: str, port: int) -> None:
    from dbops.core.dburl import URL

    url = URL.create("postgresql+psycopg", user, password, host, port, "db")
    rendered = url.render_as_string(hide_password=False)
    assert "Zx9" in rendered
    assert "Zx9" not in mask_url(url) and "***" in mask_url(url)
    assert "Zx9" not in mask_text(f"error connecting to {rendered}: refused")
    assert "Zx9" not in mask_url(rendered)


@given(password=st.text(string.ascii_letters + string.digits, min_size=8, max_size=24))
def test_mask_text_hides_password_pairs_and_known_secrets(password: str) -> None:
    text = f"host=h password={password} user=u; also {password} alone"
    masked = mask_text(text, (password,))
    assert password not in masked
    assert masked.count("***") >= 2


@pytest.mark.parametrize(
    "text",
    [
        "postgresql+psycopg://postgres:p%40ss%3Aw@127.0.0.1:5432/app",
        "postgresql://u@localhost/db?host=/tmp&sslmode=disable",
        "postgresql+psycopg2://user:pa ss+x@[::1]:6543/db",
        "postgresql:///app",
        "postgresql+asyncpg://a:b@h/d?password=zz",
    ],
)
def test_dbops_urls_read_and_render_as_sqlalchemys(text: str) -> None:
    """dbops's own URL (no SQLAlchemy) parses and prints as SQLAlchemy does: the project reads dbops's text."""
    from sqlalchemy.engine import make_url as sqlalchemy_url

    from dbops.core.dburl import make_url

    ours, theirs = make_url(text), sqlalchemy_url(text)
    assert ours.render_as_string(hide_password=False) == theirs.render_as_string(hide_password=False)
    assert ours.render_as_string() == theirs.render_as_string()
    assert (ours.username, ours.password, ours.host, ours.port, ours.database, dict(ours.query)) == (
        theirs.username,
        theirs.password,
        theirs.host,
        theirs.port,
        theirs.database,
        dict(theirs.query),
    )
