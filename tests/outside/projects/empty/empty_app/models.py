"""A project that has not modelled anything yet."""

import sqlalchemy as sa

metadata = sa.MetaData()
