"""Progress bars on stderr with rich, behind curation.progress.Progress."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Units per second of a task (docs/s, tokens/s), as rich measures it."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


class RichProgress:
    """One bar per stage; a stage with an unknown total shows a count and a spinner."""

    def __init__(self, console: Console | None = None, enabled: bool = True, unit: str = "docs") -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit),
            RateColumn(unit),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=console or Console(stderr=True),
            disable=not enabled,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
        self._progress.stop()

    def start(self, stage: str, total: int | None) -> None:
        self.finish()
        self._task = self._progress.add_task(stage, total=total, status="")

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, n)

    def status(self, text: str) -> None:
        if self._task is not None:
            self._progress.update(self._task, status=text)

    def finish(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            speed = task.finished_speed or task.speed
            self._progress.update(self._task, total=task.completed)  # a new total clears rich's speed samples
            task.finished_speed = speed  # so the final line still says how fast the stage went
            self._task = None
