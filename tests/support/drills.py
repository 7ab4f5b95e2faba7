"""`python -m drill`, run as make drill runs it, for the drill's command-level tests."""

import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO_ROOT


def drill_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drill", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def command_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The environment make drill gives it; its .env (written here) holds ``values``."""
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    paths = [REPO_ROOT / "app", REPO_ROOT / "setup", REPO_ROOT / "scripts"]
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(map(str, paths))}
