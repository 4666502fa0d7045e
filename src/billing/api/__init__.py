"""The billing HTTP API (FastAPI): a thin layer over billing.services."""
