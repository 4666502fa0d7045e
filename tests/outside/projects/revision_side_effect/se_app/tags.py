"""A model module nothing imports but a revision file (a registry completed as the history loads)."""

import sqlalchemy as sa

from se_app.models import Base


class Tag(Base):
    __tablename__ = "tags"
    id = sa.Column(sa.Integer, primary_key=True)
    run_id = sa.Column(sa.ForeignKey("runs.id"), nullable=False)
