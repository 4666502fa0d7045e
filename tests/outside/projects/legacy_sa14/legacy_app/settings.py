"""Settings read once, when first imported (the FastAPI template's shape)."""

import os

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg2://app@localhost/app")
