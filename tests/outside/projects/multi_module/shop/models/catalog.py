"""Products."""

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from shop.models.base import Base


class Product(Base):
    """A product on sale."""

    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # SQLAlchemy emits this CHECK only on backends without a native boolean, never on PostgreSQL.
    active: Mapped[bool] = mapped_column(Boolean(create_constraint=True), default=True)
