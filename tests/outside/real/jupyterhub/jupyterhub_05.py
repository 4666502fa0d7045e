"""The JupyterHub 0.5 schema that revision 19c0846f6344 ('base revision for 0.5', an empty upgrade) assumes.

Transcribed from jupyterhub 0.5.0's orm.py (servers, proxies, hubs, users, api_tokens).
"""

import sqlalchemy as sa

meta = sa.MetaData()
sa.Table(
    "servers",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("proto", sa.Unicode(15)),
    sa.Column("ip", sa.Unicode(255)),
    sa.Column("port", sa.Integer),
    sa.Column("base_url", sa.Unicode(255)),
    sa.Column("cookie_name", sa.Unicode(255)),
)
sa.Table(
    "proxies",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("_public_server_id", sa.Integer, sa.ForeignKey("servers.id")),
    sa.Column("_api_server_id", sa.Integer, sa.ForeignKey("servers.id")),
)
sa.Table(
    "hubs",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("_server_id", sa.Integer, sa.ForeignKey("servers.id")),
)
sa.Table(
    "users",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Unicode(1023)),
    sa.Column("_server_id", sa.Integer, sa.ForeignKey("servers.id")),
    sa.Column("admin", sa.Boolean),
    sa.Column("last_activity", sa.DateTime),
    sa.Column("cookie_id", sa.Unicode(1023)),
    sa.Column("state", sa.Text),
)
sa.Table(
    "api_tokens",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("hashed", sa.Unicode(1023)),
    sa.Column("prefix", sa.Unicode(1023)),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
)


def create(url: str) -> None:
    """before_migrate hook: create the 0.5 tables on an empty database."""
    engine = sa.create_engine(url)
    meta.create_all(engine)
    engine.dispose()
