#!/usr/bin/env python3
"""Stop `make up` when the containers could not read a file the stack mounts or builds from.

A checkout made with umask 077 leaves files 0600 and directories 0700. The containers run as
other users than the files' owner (Elasticsearch, Kibana, Logstash and the app as uid 1000,
setup as 10001), so every bind-mounted file must be readable by others, and every directory
listable. The images' COPY keeps the modes of the build contexts (app/, setup/, and the app's
named context django-elk-logging/), so the same holds for what they send (their .dockerignore
leaves out the rest); executables need others' execute bit too. Your project's log folder, in
own-app mode, has its own check (log_folder_access.py): Logstash needs only the files it reads there.

Usage: docker compose config --format json | check_mount_permissions.py
Prints nothing and exits 0 when every file is readable; else lists the files and the chmod
command that fixes them, and exits 1.
"""

import json
import os
import re
import shlex
import stat
import sys
from pathlib import Path

import log_folder_access

LISTED_AT_MOST = log_folder_access.LISTED_AT_MOST


def checked_roots(config: dict) -> dict[Path, bool]:
    """Bind-mount sources and build contexts of every service in a rendered compose config,
    each with whether it is only a build context (so its .dockerignore applies)."""
    roots: dict[Path, bool] = {}
    for service in config.get("services", {}).values():
        for volume in service.get("volumes", []):
            if volume.get("type") == "bind":
                roots[Path(volume["source"])] = False
        if "build" in service:
            roots.setdefault(Path(service["build"]["context"]), True)
            # Named contexts: a local folder (Compose renders it as an absolute path) is sent like
            # the main context, with its own .dockerignore (moby/buildkit frontend/dockerui/
            # namedcontext.go); images, URLs and other services are not files here.
            for source in service["build"].get("additional_contexts", {}).values():
                if Path(source).is_absolute():
                    roots.setdefault(Path(source), True)
    return dict(sorted(roots.items()))


# .dockerignore as Docker reads it: moby/patternmatcher ignorefile/ignorefile.go (ReadAll) and
# patternmatcher.go (New, Pattern.compile, MatchesOrParentMatches). Patterns are relative to the
# context root: "__pycache__" excludes only the top one, "**/__pycache__" every one.
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    regex, i = "^", 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*" and pattern[i:i + 1] == "*":
            i += 2 if pattern[i + 1:i + 2] == "/" else 1  # "**/" counts as "**"
            regex += ".*" if i >= len(pattern) else "(.*/)?"
        elif char == "*":
            regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char == "\\":
            regex += "\\" + (re.escape(pattern[i]) if i < len(pattern) else "\\")
            i += 1
        elif char in ".+()|{}$":
            regex += "\\" + char
        else:
            regex += char
    return re.compile(regex + "$")


def dockerignore(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """The (exclusion, regex) patterns of the context's .dockerignore, in order."""
    try:
        lines = (context / ".dockerignore").read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        return []
    patterns = []
    for line in lines:
        if line.startswith("#") or not (pattern := line.strip()):
            continue
        exclusion = pattern.startswith("!")
        pattern = os.path.normpath(pattern[1:].strip() if exclusion else pattern).lstrip("/") or "/"
        patterns.append((exclusion, _pattern_regex(pattern)))
    return patterns


def ignored(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether the path or one of its parent folders matches, the last matching line deciding."""
    prefixes = [relative] + ["/".join(relative.split("/")[:n]) for n in range(1, relative.count("/") + 1)]
    matched = False
    for exclusion, regex in patterns:
        if exclusion != matched:
            continue
        if any(regex.match(prefix) for prefix in prefixes):
            matched = not exclusion
    return matched


def needs_fixing(mode: int) -> bool:
    """Others may not read it, or not enter it (a directory), or not run it (an executable)."""
    if stat.S_ISDIR(mode) or mode & stat.S_IXUSR:
        needed = stat.S_IROTH | stat.S_IXOTH
    else:
        needed = stat.S_IROTH
    return mode & needed != needed


def unreadable(root: Path, build_context: bool) -> list[Path]:
    """root and everything under it that others cannot read (symbolic links are not followed),
    leaving out what a build context's .dockerignore keeps from the image."""
    patterns = dockerignore(root) if build_context else []
    paths = [root]
    if root.is_dir() and not root.is_symlink():
        for directory, names, files in os.walk(root):
            names.sort()
            paths += [Path(directory, name) for name in (*names, *sorted(files))]
    return [
        path
        for path in paths
        if not path.is_symlink() and needs_fixing(path.lstat().st_mode)
        and not (path != root and ignored(path.relative_to(root).as_posix(), patterns))
    ]


def shown(path: Path) -> str:
    """The path relative to the working directory (the repository, under make) when inside it."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def main() -> int:
    config = json.load(sys.stdin)
    # Your project's log folder (own-app mode) needs only what Logstash reads: its own check.
    log_errors, log_warnings = log_folder_access.problems(config)
    for line in (*log_errors, *log_warnings):
        print(line, file=sys.stderr)
    log_folder = log_folder_access.log_folder_mount(config)
    problems = {
        root: found
        for root, build_context in checked_roots(config).items()
        if root != log_folder and (found := unreadable(root, build_context))
    }
    if not problems:
        return 1 if log_errors else 0
    # One mount can lie inside another (a file inside a mounted folder): fix the outer one.
    files = sorted({path for found in problems.values() for path in found})
    outermost = [
        root
        for root in problems
        if not any(other in root.parents for other in problems)
    ]
    print(
        "error: the containers cannot read these files: they run as uid 1000 (setup: 10001), not as the "
        "files' owner, and others may not read them (a checkout made with umask 077 does this):",
        file=sys.stderr,
    )
    for path in files[:LISTED_AT_MOST]:
        print(f"  {shown(path)}", file=sys.stderr)
    if len(files) > LISTED_AT_MOST:
        print(f"  ... and {len(files) - LISTED_AT_MOST} more", file=sys.stderr)
    print(
        f"Fix them with:\n  chmod -R a+rX {' '.join(shlex.quote(shown(root)) for root in outermost)}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
