"""The grok definitions Logstash's plugins load: the core set, patterns_dir files, pattern_definitions."""

from pathlib import Path

from .grok import Grok, GrokError, read_patterns_file
from .paths import LOGSTASH_DIR

# The Logstash container's read-only bind mounts of this repository (docker-compose.yml, logstash's
# volumes; tests/stack/test_pipeline_patterns.py checks them): where patterns_dir entries are read.
CONTAINER_MOUNTS = {"/usr/share/logstash/pipeline": LOGSTASH_DIR / "pipeline"}


def host_path(container_path: str, mounts: dict[str, Path] = CONTAINER_MOUNTS) -> Path:
    """Where a path inside the Logstash container is in this checkout (only bind-mounted folders), or in
    ``mounts`` (a test's own folders)."""
    for mount, folder in mounts.items():
        if container_path == mount or container_path.startswith(mount + "/"):
            return folder / container_path[len(mount) :].lstrip("/")
    raise LookupError(f"{container_path} is not in a folder this repository mounts into Logstash")


def patterns_dir_files(entries: list[str], glob: str = "*", skip_directories: bool = True) -> dict[str, str]:
    """The definitions patterns_dir adds, read as the plugins read them.

    grok.rb (patterns_files_from_paths) and multiline.rb (register) alike: a directory entry
    becomes ``dir/<glob>`` (the codec's glob is always "*"), expanded by Dir.glob (sorted, no
    dot files); each file goes through Grok#add_patterns_from_file. grok skips a directory the
    glob finds; the codec hands it to add_patterns_from_file, which fails to read it.
    """
    patterns: dict[str, str] = {}
    for entry in entries:
        if any(char in entry for char in "*?[{"):
            raise NotImplementedError(f"a glob in patterns_dir ({entry!r}) is not modelled")
        path = host_path(entry)
        if not path.is_dir():
            found = [path] if path.exists() else []
        elif any(char in glob for char in "?[{\\/") or glob.count("*") > 1 or glob.startswith("."):
            raise NotImplementedError(f"patterns_files_glob {glob!r} is not modelled")
        else:
            found = sorted(file for file in path.glob(glob) if not file.name.startswith("."))
        for file in found:
            if file.is_dir() and skip_directories:
                continue
            if file.is_dir():
                raise GrokError(f"the multiline codec cannot load {file}: it is a directory")
            patterns.update(read_patterns_file(file))
    return patterns


class PatternLibrary:
    """The core pattern definitions, and each grok expression compiled once against them (on ``engine`` too)."""

    def __init__(self, patterns: dict[str, str], engine=None):
        self.patterns = patterns
        self.engine = engine
        self._groks: dict[str, Grok] = {}

    def grok(self, expression: str, extra_patterns: dict[str, str] | None = None, named_captures_only: bool = True,
             file_patterns: dict[str, str] | None = None) -> Grok:
        key = expression + repr(sorted((extra_patterns or {}).items())) + repr(named_captures_only)
        key += repr(sorted((file_patterns or {}).items()))
        if key not in self._groks:
            # logstash-filter-grok lib/logstash/filters/grok.rb (register): the core pattern files, then
            # those of patterns_dir, then pattern_definitions; a later definition of a name wins.
            patterns = {**self.patterns, **(file_patterns or {}), **(extra_patterns or {})}
            self._groks[key] = Grok(expression, patterns, named_captures_only, engine=self.engine)
        return self._groks[key]
