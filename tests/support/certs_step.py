"""Setup's certificate step (setup/certs/create_certs.sh) as the tests run it: real bash, unzip, keytool, date
and openssl, with tests/support/fake_certutil.py on PATH as elasticsearch-certutil.

The step sees only the commands the Elasticsearch image has: bash, coreutils, grep, unzip and the JDK's
keytool (elastic/elasticsearch distribution/docker/src/docker/Dockerfile.default: ubi9-minimal, which has
bash, coreutils-single and grep, plus nc shadow-utils zip unzip findutils procps-ng). No sed, awk or cmp."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.support.paths import SETUP_DIR
from tests.support.tls_certs import openssl, require_commands

SCRIPT = SETUP_DIR / "certs" / "create_certs.sh"
FAKE_CERTUTIL = Path(__file__).with_name("fake_certutil.py")
TOOLS = ("bash", "openssl", "keytool", "unzip", "grep", "dpkg-query")
IMAGE_COMMANDS = ("bash", "grep", "unzip", "keytool")


def require_step_tools() -> None:
    """Skip without the step's tools, fail under CI=true (tls_certs.require_commands)."""
    require_commands(*TOOLS, purpose="the certificate step runs on them")


def coreutils_commands() -> list[Path]:
    """Every command of this machine's GNU coreutils package (the image's coreutils-single has the same)."""
    listed = subprocess.run(["dpkg-query", "-L", "coreutils"], check=True, capture_output=True, text=True).stdout
    return [Path(line) for line in listed.splitlines() if Path(line).parent.name in ("bin", "sbin") and Path(line).is_file()]


def image_path(folder: Path) -> Path:
    """A folder holding links to the image's commands only, to be the step's whole PATH."""
    folder.mkdir()
    for command in [*coreutils_commands(), *(Path(shutil.which(name)) for name in IMAGE_COMMANDS)]:
        link = folder / command.name
        if not link.exists():
            link.symlink_to(command)
    return folder


def not_after(cert: Path) -> datetime:
    """The certificate's end, read by openssl rather than by the step."""
    text = openssl("x509", "-in", str(cert), "-noout", "-enddate").decode().strip().removeprefix("notAfter=")
    return datetime.strptime(text, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StepRun:
    returncode: int
    lines: list[str]
    stderr: str
    calls: list[list[str]]


class CertsStep:
    """One CERTS_DIR and CA_DIR, and the step run over them as often as a test likes."""

    def __init__(self, root: Path):
        self.certs = root / "certs"
        self.ca = root / "certs-ca"
        self.certs.mkdir()
        self.bin = root / "bin"
        self.bin.mkdir()
        wrapper = self.bin / "elasticsearch-certutil"
        # The stand-in is no part of the image: it gets this machine's PATH back (it runs openssl).
        wrapper.write_text(f'#!/bin/sh\nPATH="{os.environ["PATH"]}" exec "{sys.executable}" "{FAKE_CERTUTIL}" "$@"\n')
        wrapper.chmod(0o755)
        self.log = root / "certutil-calls.jsonl"
        self.image_bin = image_path(root / "image-bin")

    def run(self, instances: Path | None, **settings: str) -> StepRun:
        self.log.unlink(missing_ok=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("CA_", "CERT"))}
        env |= {"PATH": f"{self.bin}:{self.image_bin}", "CERTS_DIR": str(self.certs), "CA_DIR": str(self.ca),
                "FAKE_CERTUTIL_LOG": str(self.log)}
        if instances is not None:
            env["CERT_INSTANCES_FILE"] = str(instances)
        env |= settings
        done = subprocess.run([str(self.image_bin / "bash"), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300)
        calls = [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []
        return StepRun(done.returncode, done.stdout.splitlines(), done.stderr, calls)

    def snapshot(self) -> dict[str, tuple[int, int, int, bytes | None]]:
        """Every path under both folders: mode, owner, group and, for files, the bytes."""
        found = {}
        for top in (self.certs, self.ca):
            for path in [top, *sorted(top.rglob("*"))] if top.exists() else []:
                stat = path.lstat()
                data = path.read_bytes() if path.is_file() else None
                found[str(path.relative_to(top.parent))] = (stat.st_mode & 0o7777, stat.st_uid, stat.st_gid, data)
        return found
