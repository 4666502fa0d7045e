"""The declarative Base and every model module, imported so Base.metadata knows all tables."""

from shop.models.base import Base
from shop.models.catalog import Product
from shop.models.orders import Order

__all__ = ["Base", "Order", "Product"]
