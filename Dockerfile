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
# Secrets and mail come from the environment at run time, never from the image:
#   BILLING_JWT_SECRET   token-signing secret (at least 32 characters; e.g. `openssl rand -base64 48`).
#                        Set it whenever more than one container or replica serves the API: without it
#                        the workers of one container share a secret generated into /tmp (lost on restart,
#                        which logs everyone out), and separate containers would each have their own.
#   BILLING_SMTP_HOST, BILLING_SMTP_PORT, BILLING_SMTP_USER, BILLING_SMTP_PASSWORD, BILLING_MAIL_FROM,
#   BILLING_SMTP_STARTTLS (1, the default, or 0 for a server without TLS; a mismatch stops the start)
#                        where mail goes (without BILLING_SMTP_HOST it is logged to stderr).
# Whose X-Forwarded-For is believed: none, unless a proxy in front is named here (its address or network,
# comma-separated). Bound to 0.0.0.0, anyone can reach the server; their forwarded headers must count for nothing.
ENV BILLING_TRUSTED_PROXIES=""
EXPOSE 8000
# billing.api.server: uvicorn with a request-head timeout, no proxy headers of its own (it would trust
# 127.0.0.1), card numbers masked in its logs; bodies are read with a size and time limit before anything else.
CMD ["python", "-m", "billing.api.server", "--host", "0.0.0.0", "--port", "8000"]
