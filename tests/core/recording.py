"""An in-process executor that records the tasks it is given and can be
"killed" midway, for the tests of resumable sweeps."""

from __future__ import annotations

from core.executor import Executor


class Recording(Executor):
    """Runs tasks in this process, records their keys, and raises
    ``KeyboardInterrupt`` after ``stop_after`` results (the sweep is killed
    there)."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.keys: list[str] = []
        self.stop_after = stop_after

    def imap(self, fn, tasks, common=()):
        self.keys += [t.key for t in tasks]
        for n, item in enumerate(super().imap(fn, tasks, common), start=1):
            yield item
            if n == self.stop_after:
                raise KeyboardInterrupt
