"""Whether Logstash's container user can read a host folder of Django logs (own-app mode).

docker-compose.own-app.yml bind-mounts OWN_APP_LOG_DIR at /var/log/django. Logstash runs there as
uid 1000, gid 1000 (elastic/logstash docker/templates/Dockerfile.erb: groupadd --gid 1000,
adduser --uid 1000 --gid 1000, USER 1000), not as the folder's owner, so the folder needs read and
search permission for that user and every log file it reads needs read permission. Permissions are
judged from the files' modes and POSIX ACLs as the kernel does, never by trying as the user
running this, who may be root.

On macOS, Docker Desktop's file sharing opens the files as the user running Docker Desktop, so
there the question is whether that user may read them.
"""

import fnmatch
import os
import re
import shlex
import stat
import struct
import sys
from pathlib import Path

LOG_TARGET = "/var/log/django"
PIPELINE_TARGET = "/usr/share/logstash/pipeline"
SETTING = "OWN_APP_LOG_DIR"
LOGSTASH_UID = LOGSTASH_GID = 1000
READ, WRITE, SEARCH = 4, 2, 1
LISTED_AT_MOST = 20

# The access ACL as Linux stores it (include/uapi/linux/posix_acl_xattr.h): a little-endian
# version (2), then entries of tag, permissions and id.
ACL_XATTR = "system.posix_acl_access"
ACL_HEADER, ACL_ENTRY = struct.Struct("<I"), struct.Struct("<HHI")
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
PIPELINE_PATH = re.compile(r'"' + re.escape(LOG_TARGET) + r'/([^"/]+)"')


def log_folder_mount(config: dict) -> Path | None:
    """The host folder mounted at Logstash's /var/log/django, when it is a bind mount."""
    for volume in config.get("services", {}).get("logstash", {}).get("volumes", []):
        if volume.get("type") == "bind" and volume.get("target") == LOG_TARGET:
            return Path(volume["source"])
    return None


def read_patterns(config: dict) -> list[str]:
    """The file names Logstash's file inputs read in /var/log/django (e.g. "security.log.*"),
    taken from the pipeline folder that Logstash mounts: the pipeline is their one source."""
    patterns: list[str] = []
    for volume in config.get("services", {}).get("logstash", {}).get("volumes", []):
        if volume.get("type") == "bind" and volume.get("target") == PIPELINE_TARGET:
            for conf in sorted(Path(volume["source"]).glob("*.conf")):
                patterns += [name for name in PIPELINE_PATH.findall(conf.read_text(encoding="utf-8")) if name not in patterns]
    return patterns


def acl_entries(path: Path) -> list[tuple[int, int, int]] | None:
    """(tag, permissions, id) of the path's access ACL, or None when it has only its mode."""
    try:
        raw = os.getxattr(path, ACL_XATTR)
    except (OSError, AttributeError):  # no ACL, no ACL support, or not Linux
        return None
    if len(raw) < ACL_HEADER.size or (len(raw) - ACL_HEADER.size) % ACL_ENTRY.size:
        return None
    return list(ACL_ENTRY.iter_unpack(raw[ACL_HEADER.size:]))


def allowed(path: Path, wanted: int, uid: int = LOGSTASH_UID, gids: frozenset[int] = frozenset({LOGSTASH_GID})) -> bool:
    """Whether uid, in the groups gids, has every permission in wanted on path, decided as Linux
    does: fs/namei.c (acl_permission_check) then fs/posix_acl.c (posix_acl_permission). The
    owner gets the owner bits; an ACL counts only while the mode's group bits (its mask) are not
    all clear; else the group or other bits decide."""
    status = path.stat()
    if uid == status.st_uid:
        return (status.st_mode >> 6) & wanted == wanted
    entries = acl_entries(path) if status.st_mode & stat.S_IRWXG else None
    if entries is None:
        granted = status.st_mode >> 3 if status.st_gid in gids else status.st_mode
        return granted & wanted == wanted
    mask = next((perms for tag, perms, _ in entries if tag == MASK), READ | WRITE | SEARCH)
    named_users = [perms for tag, perms, id_ in entries if tag == USER and id_ == uid]
    if named_users:
        return named_users[0] & mask & wanted == wanted
    groups = [
        perms for tag, perms, id_ in entries
        if (tag == GROUP_OBJ and status.st_gid in gids) or (tag == GROUP and id_ in gids)
    ]
    if groups:
        return any(perms & wanted == wanted for perms in groups) and mask & wanted == wanted
    return all(perms & wanted == wanted for tag, perms, _ in entries if tag == OTHER)


def readable_by_logstash(path: Path, wanted: int) -> bool:
    if sys.platform == "darwin":
        return os.access(path, os.R_OK | (os.X_OK if wanted & SEARCH else 0))
    return allowed(path, wanted)


def described(path: Path) -> str:
    status = path.stat()
    return f"  {path} (mode {stat.S_IMODE(status.st_mode):04o}, owner {status.st_uid}:{status.st_gid})"


def fixes(folder: Path, folder_blocked: bool, files: list[Path]) -> list[str]:
    """The two ways to let uid 1000 in: modes for everyone, or an ACL entry for it alone."""
    folder_arg, files_args = shlex.quote(str(folder)), " ".join(shlex.quote(str(path)) for path in files)
    by_mode = ([f"chmod o+rx {folder_arg}"] if folder_blocked else []) + ([f"chmod o+r {files_args}"] if files else [])
    by_acl = (
        ([f"setfacl -m u:{LOGSTASH_UID}:rx {folder_arg}"] if folder_blocked else [])
        + ([f"setfacl -m u:{LOGSTASH_UID}:r {files_args}"] if files else [])
        + [f"setfacl -d -m u:{LOGSTASH_UID}:r {folder_arg}"]
    )
    return [
        "Fix it with one of these, then make up again:",
        "  " + " && ".join(by_mode) + "   (your app must then create its log files readable by others too: "
        'django-elk-logging creates them 0640 whatever the umask, unless its handlers say "permissions": 0o644)',
        "  " + " && ".join(by_acl) + f"   (only uid {LOGSTASH_UID}; the default entry covers files created later)",
    ]


def problems(config: dict) -> tuple[list[str], list[str]]:
    """(errors, warnings) about the own-app log folder; both empty when Logstash mounts none."""
    folder = log_folder_mount(config)
    if folder is None:
        return [], []
    if not folder.exists():
        return [
            f"error: {SETTING} in .env is {folder}, which does not exist: set it to the folder your Django "
            "project writes its log files into (Compose will not create it: Logstash would read an empty folder)."
        ], []
    if not folder.is_dir():
        return [f"error: {SETTING} in .env is {folder}, which is not a folder: set it to the folder that holds the log files."], []
    patterns = read_patterns(config)
    # What this user cannot list, it cannot judge; the folder's own error then says enough.
    names = sorted(entry.name for entry in os.scandir(folder) if entry.is_file()) if os.access(folder, os.R_OK | os.X_OK) else []
    read = [name for name in names if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]
    folder_blocked = not readable_by_logstash(folder, READ | SEARCH)
    files = [folder / name for name in read if not readable_by_logstash(folder / name, READ)]
    if folder_blocked or files:
        blocked = ([folder] if folder_blocked else []) + files
        errors = [
            f"error: Logstash cannot read your project's logs in {folder} ({SETTING} in .env): it runs as uid "
            f"{LOGSTASH_UID}, gid {LOGSTASH_GID}, not as their owner, and may not read"
            + (" (the folder needs read and search permission)" if folder_blocked else "") + ":"
        ]
        errors += [described(path) for path in blocked[:LISTED_AT_MOST]]
        if len(blocked) > LISTED_AT_MOST:
            errors.append(f"  ... and {len(blocked) - LISTED_AT_MOST} more")
        return errors + fixes(folder, folder_blocked, files), []
    if names and not read:
        listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return [], [
            f"warning: Logstash reads only {', '.join(patterns)} in {folder}, and none of them is there; it holds "
            f"{listed}. Name your LOGGING handlers' files so (docs/your-project.md, \"Point the stack at your project's logs\")."
        ]
    return [], []
