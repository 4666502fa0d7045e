"""core.private: a record written from several threads at once is whole and owner-only, and no write fails."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from dbops.core.private import write_private


def test_threads_writing_one_record_at_once_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "records" / "server.json"
    errors: list[OSError] = []

    def write(n: int) -> None:
        for _ in range(300):
            try:
                write_private(path, f'{{"writer": {n}}}')
            except OSError as exc:  # the failure this test exists for: a scratch file renamed by another thread
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert path.read_text() in {f'{{"writer": {n}}}' for n in range(4)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["server.json"]  # no scratch file left behind
