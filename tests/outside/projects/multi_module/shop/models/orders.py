"""Orders."""

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from shop.models.base import Base


class Order(Base):
    """An order of one product."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
