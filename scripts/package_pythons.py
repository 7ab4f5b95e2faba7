"""make test: the logging package's suite on the oldest and the newest Python its metadata declares.

The repository's venv (.venv, Python 3.12) runs the suite first; this runs it again, each time in a
venv of its own (.venv-py<version>) with the suite's pins (django-elk-logging/requirements-test.txt),
and on the newest Python with the newest Django the package supports (requirements-newest-django.txt).
An interpreter is looked up as python<version> on PATH, then in pyenv's versions. One that is missing
is skipped with the reason, except under CI (CI=true), where it fails the run.

    python scripts/package_pythons.py [--list]
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO_ROOT / "django-elk-logging"
REQUIREMENTS = PACKAGE_DIR / "requirements-test.txt"
NEWEST_DJANGO = PACKAGE_DIR / "requirements-newest-django.txt"
_CLASSIFIER = re.compile(r"Programming Language :: Python :: (3\.\d+)\Z")
PIP_TIMEOUT = 900


def declared_versions(pyproject: Path = PACKAGE_DIR / "pyproject.toml") -> list[str]:
    """The Python versions the package's classifiers declare, oldest first."""
    classifiers = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["classifiers"]
    versions = [match[1] for match in map(_CLASSIFIER.match, classifiers) if match]
    if not versions:
        raise SystemExit(f"error: {pyproject} declares no 'Programming Language :: Python :: 3.N' classifier")
    return sorted(versions, key=lambda version: tuple(map(int, version.split("."))))


def _reports(python: str, version: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def find_interpreter(version: str, path: str | None = None, pyenv_root: Path | None = None) -> str | None:
    """python<version> on ``path`` if it runs (a pyenv shim of another version does not), else the newest
    patch release in pyenv's versions folder."""
    found = shutil.which(f"python{version}", path=path)
    if found and _reports(found, version):
        return found
    root = pyenv_root or Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(
        (folder for folder in (root / "versions").glob(f"{version}.*") if re.fullmatch(rf"{re.escape(version)}\.\d+", folder.name)),
        key=lambda folder: int(folder.name.rsplit(".", 1)[1]),
    )
    for folder in reversed(candidates):
        python = folder / "bin" / f"python{version}"
        if _reports(str(python), version):
            return str(python)
    return None


def requirement_files(version: str, newest: str) -> list[Path]:
    return [REQUIREMENTS, NEWEST_DJANGO] if version == newest else [REQUIREMENTS]


def _fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in [*files, REPO_ROOT / "app" / "requirements.txt", PACKAGE_DIR / "pyproject.toml"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepared_venv(python: str, version: str, files: list[Path]) -> Path:
    """.venv-py<version> with exactly ``files``' pins, made again when any of them changed."""
    venv = REPO_ROOT / f".venv-py{version}"
    stamp, fingerprint = venv / ".installed", _fingerprint(files)
    if stamp.is_file() and stamp.read_text() == fingerprint:
        return venv
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
    # One pip call per file: the newest Django replaces the app's pin rather than conflicting with it.
    for path in files:
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(path)], check=True, timeout=PIP_TIMEOUT)
    stamp.write_text(fingerprint)
    return venv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the versions and interpreters, run nothing")
    arguments = parser.parse_args(argv)
    declared = declared_versions()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    under_ci = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
    failed = []
    for version in dict.fromkeys([declared[0], declared[-1]]):
        if version == running:
            print(f"package suite on Python {version}: run already, in this venv")
            continue
        python = find_interpreter(version)
        if python is None:
            reason = f"Python {version} is not installed (python{version} on PATH, or pyenv install {version})"
            if under_ci:
                print(f"error: package suite on Python {version}: {reason}; CI must run it", file=sys.stderr)
                failed.append(version)
            else:
                print(f"package suite on Python {version}: skipped, {reason}")
            continue
        if arguments.list:
            print(f"Python {version}: {python}")
            continue
        files = requirement_files(version, declared[-1])
        print(f"package suite on Python {version} ({python}), with {', '.join(path.name for path in files)}", flush=True)
        venv = prepared_venv(python, version, files)
        if subprocess.run([str(venv / "bin" / "python"), "-m", "pytest"], cwd=PACKAGE_DIR).returncode != 0:
            failed.append(version)
    if failed:
        print(f"error: the package suite did not pass on Python {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
