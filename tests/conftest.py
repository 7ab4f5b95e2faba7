from pathlib import Path

import pytest

LOG_FILES = ("django_debug.log", "security.log")


class LogTail:
    """What the in-process Django app appends to its log files from now on."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.mark()

    def mark(self) -> None:
        """From now on: what the files hold already is left out."""
        self.offsets = {name: self._size(name) for name in LOG_FILES}

    def _size(self, name: str) -> int:
        path = self.log_dir / name
        return path.stat().st_size if path.exists() else 0

    def text(self, name: str) -> str:
        path = self.log_dir / name
        if not path.exists():
            return ""
        with open(path, "rb") as handle:
            handle.seek(self.offsets[name])
            return handle.read().decode("utf-8")

    def lines(self, name: str) -> list[str]:
        return self.text(name).splitlines()

    def records(self, name: str) -> list[str]:
        """Records: a line plus the TAB-indented lines that follow it."""
        records: list[str] = []
        for line in self.text(name).split("\n")[:-1]:
            if line.startswith("\t") and records:
                records[-1] += "\n" + line
            else:
                records.append(line)
        return records


@pytest.fixture
def app_logs(settings) -> LogTail:
    return LogTail(Path(settings.LOG_DIR))
