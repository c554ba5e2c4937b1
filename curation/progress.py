"""A small progress interface, so libraries report long work and the caller decides how it is shown."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives stage starts and advances; the CLI shows them as bars, tests ignore them."""

    def start(self, stage: str, total: int | None) -> None:
        """A stage begins; total is the number of units it will advance by, when known."""

    def advance(self, n: int = 1) -> None:
        """n more units of the current stage are done."""

    def status(self, text: str) -> None:
        """A short live note on the current stage (the training loss, say), shown beside its bar."""

    def finish(self) -> None:
        """The current stage is done."""


class NoProgress:
    """Shows nothing."""

    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def finish(self) -> None:
        pass
