"""The SaaS billing backend: its schema (``billing.models``), migrations and reference data."""
