# The billing API for docker-compose.yml: the project installed with pip, served by uvicorn.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# README.md* so the build works whether or not the readme exists yet.
COPY pyproject.toml alembic.ini README.md* ./
COPY src ./src
RUN pip install . \
    && useradd --create-home --uid 10001 app

USER app
EXPOSE 8000
CMD ["uvicorn", "billing.api.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
