"""What a build ends with: its result, or the error or interruption that stopped it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class BuildInterrupted(BaseException):
    """The build was stopped by SIGINT (Ctrl-C) or SIGTERM; its processes were stopped and nothing published."""

    def __init__(self, signal_name: str, log_dir: Path | None = None) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.log_dir = log_dir


class BuildError(RuntimeError):
    """A stage of the build failed; ``stage`` names it."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage
        self.message = message


@dataclass
class BuildResult:
    """What a build produced and how long each stage took."""

    run_id: str
    output_dir: Path
    html: Path
    pdf: Path
    data_files: list[Path]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    log_dir: Path | None = None
