"""Hiding passwords in free text, with nothing heavier than ``re`` (commands that print without SQLAlchemy use it)."""

from __future__ import annotations

import re

MASK = "***"
# Catches "user:secret@" in any free text (driver messages, logs), not only in parsed URLs.
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@", re.I)
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('[^']*'|[^\s&]+)", re.I)


def mask_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Hide passwords in free text: URL userinfo, password=... pairs and any known secret."""
    out = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    out = _PASSWORD_KV.sub(lambda m: f"{m.group(1)}{MASK}", out)
    for secret in secrets:
        if secret:
            out = out.replace(secret, MASK)
    return out
