"""An output-folder lock: two runs never write into one folder; a lock left by a killed run is stale."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from types import TracebackType

LOCK_NAME = ".sieve.lock"


class LockedError(RuntimeError):
    """Another live run holds the output folder."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputLock:
    """Hold `folder/.sieve.lock` for the duration of a run (a context manager)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    holder = json.loads(self.path.read_text())
                except (OSError, ValueError):
                    holder = {}
                pid = holder.get("pid")
                if holder.get("host") == me["host"] and isinstance(pid, int) and not _alive(pid):
                    self.path.unlink(missing_ok=True)  # stale: left by a run that was killed
                    continue
                raise LockedError(
                    f"{self.path.parent} is in use by another sieve run (pid {pid} on {holder.get('host')}); "
                    f"wait for it to finish, or remove {self.path} if that run is gone"
                ) from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            return self
        raise LockedError(f"cannot take the lock {self.path}")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.path.unlink(missing_ok=True)
