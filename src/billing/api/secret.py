"""The token-signing secret: BILLING_JWT_SECRET, or one generated secret that every worker shares.

Each worker process builds its own app. A secret made per process would make a token signed by one
worker invalid at the next, so without BILLING_JWT_SECRET the first worker writes a fresh secret to
a file (readable by its owner only) and every other worker reads that same file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from billing import security

MIN_SECRET_LENGTH = 32


def default_secret_file(database_url: str) -> Path:
    """Per OS user and database, in the temp folder: workers of one deployment on one host find the same file."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"billing-jwt-{os.getuid()}-{digest}.secret"


def shared_secret(path: Path) -> str:
    """The secret in ``path``, created atomically (write aside, then hard-link into place) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, aside = tempfile.mkstemp(dir=path.parent, prefix=".billing-jwt-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(security.new_secret())
            try:
                os.link(aside, path)  # fails if another worker won the race; then its secret is the one
            except FileExistsError:
                pass
        finally:
            os.unlink(aside)
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise RuntimeError(f"the JWT secret in {path} is shorter than {MIN_SECRET_LENGTH} characters (fix: delete it)")
    return secret


def jwt_secret(configured: str | None, secret_file: str | None, database_url: str) -> str:
    """BILLING_JWT_SECRET if set, else the shared secret in BILLING_JWT_SECRET_FILE (or the default file)."""
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise RuntimeError(f"BILLING_JWT_SECRET must have at least {MIN_SECRET_LENGTH} characters")
        return configured
    return shared_secret(Path(secret_file) if secret_file else default_secret_file(database_url))
