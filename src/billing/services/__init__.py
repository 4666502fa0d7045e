"""The billing service layer: plain functions over a SQLAlchemy Session; callers own the transaction."""
