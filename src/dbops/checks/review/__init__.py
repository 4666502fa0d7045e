"""The migration review: what each new revision will lock, rewrite or break in production, measured on PostgreSQL.

For each reviewed revision, the project's own Alembic (in its own interpreter) emits the revision's SQL
in offline mode, one statement per write, each tied to the line of the revision file that emitted it;
dbops runs the statements on a throwaway copy of the database at the revision's parent (history-built,
seeded, or a copy of the developer's database) and records what PostgreSQL did
(:mod:`~dbops.checks.review.measure`). The rules (:mod:`~dbops.checks.review.rules`) and squawk
(:mod:`~dbops.checks.review.squawk`) turn that into findings; accepted ones become warnings
(:mod:`~dbops.checks.review.allow`).
"""

from dbops.checks.review.runner import Review, review

__all__ = ["Review", "review"]
