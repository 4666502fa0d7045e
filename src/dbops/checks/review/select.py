"""Which revisions a review judges: those a change adds since a git ref, those after a revision, or all of them.

"Added since REF" means the revision files in the working tree that REF does not hold, or holds with
other content (``git ls-tree`` against ``git hash-object``): a change still being written counts, and
the history REF already shipped is not judged again.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from dbops.core.errors import ConfigError
from dbops.migrations.graph import History

DEFAULT_BASES = ("origin/main", "main")


@dataclass(frozen=True)
class Selection:
    """The revisions to review, base first, and how they were chosen (one phrase for the report)."""

    revisions: list[str]
    described: str
    base_commit: str = ""
    # The revisions are one change (one release): what one creates, a later one may drop without breaking code.
    one_change: bool = True


def _git(root: Path, *args: str, stdin: str | None = None) -> str | None:
    """A git command's output in ``root``; None when git is missing or the command fails."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def resolve(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names in the repository at ``root``, or None."""
    out = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return out.strip() if out else None


def base_commit(root: Path, base: str | None) -> tuple[str, str] | None:
    """(ref, commit) of the base: ``base`` (refused when git cannot resolve it), else the first default found."""
    if base:
        commit = resolve(root, base)
        if commit is None:
            raise ConfigError(
                f"--base {base!r} is not a commit git knows here",
                "name a branch, tag or commit (git fetch first), or use --since REV or --all",
            )
        return base, commit
    for ref in DEFAULT_BASES:
        commit = resolve(root, ref)
        if commit:
            return ref, commit
    return None


def changed_since(root: Path, commit: str, files: list[Path]) -> set[Path]:
    """The ``files`` that ``commit`` does not hold with the same content."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or not files:
        return set(files)
    toplevel = Path(top.strip()).resolve()
    rel = {str(f.resolve().relative_to(toplevel)): f for f in files if f.resolve().is_relative_to(toplevel)}
    folders = sorted({str(Path(r).parent) for r in rel})
    listing = _git(toplevel, "ls-tree", "-r", commit, "--", *folders) or ""
    at_base = {}
    for line in listing.splitlines():
        meta, _, path = line.partition("\t")
        at_base[path] = meta.split()[-1]
    paths = sorted(rel)
    hashes = (_git(toplevel, "hash-object", "--stdin-paths", stdin="\n".join(paths) + "\n") or "").split()
    now = dict(zip(paths, hashes, strict=False)) if len(hashes) == len(paths) else {}
    return {f for r, f in rel.items() if at_base.get(r) is None or at_base.get(r) != now.get(r)}


def select(
    root: Path, history: History, base: str | None = None, since: str | None = None, everything: bool = False
) -> Selection:
    """The revisions to review, in history order."""
    order = history.order()
    if everything:
        return Selection(order, "every revision", one_change=False)
    if since:
        if since not in history.revisions:
            raise ConfigError(f"--since {since!r} is not a revision of this history", "name a revision id")
        before = history.ancestors([since])
        return Selection([r for r in order if r not in before], f"the revisions after {since}")
    found = base_commit(root, base)
    if found is None:
        heads = [r for r in order if r in history.heads]
        return Selection(heads, "the newest revision (no git base: neither origin/main nor main resolves)")
    ref, commit = found
    changed = changed_since(root, commit, [rev.path for rev in history.revisions.values()])
    new = [r for r in order if history.revisions[r].path in changed]
    return Selection(new, f"the revisions new since {ref} ({commit[:9]})", commit)
