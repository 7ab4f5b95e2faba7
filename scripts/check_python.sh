#!/bin/sh
# Usage: check_python.sh VARIABLE MINIMUM GOAL INTERPRETER [ARGUMENT...]
#   VARIABLE     the make variable that names the interpreter: PYTHON (what make runs scripts/ and
#                builds the venv with) or VENV_PYTHON (the venv's)
#   MINIMUM      MAJOR.MINOR, from pyproject.toml's requires-python (the Makefile reads it)
#   GOAL         what was asked of make, for the command that fixes it
#   INTERPRETER  the interpreter's command, split into words as make's recipes run it
# Exits 0 when the interpreter is MINIMUM or newer; else 1 with the version and path found, what is
# needed and how to fix it; 2 when MINIMUM is missing.
set -u
variable=$1 minimum=$2 goal=$3
shift 3
if [ -z "$minimum" ]; then
  echo "error: pyproject.toml states no requires-python = \">=MAJOR.MINOR\"; make's Python checks read the minimum there" >&2
  exit 2
fi

needed="make $goal needs Python $minimum or newer (pyproject.toml, requires-python)"
install="Install $minimum (pyenv install $minimum, which this repository's .python-version then selects; on macOS also: brew install python@$minimum)"
if [ "$variable" = VENV_PYTHON ]; then
  fix="then rebuild the venv with it: rm -rf .venv && PYTHON=python$minimum make $goal"
else
  fix="then run: PYTHON=python$minimum make $goal"
fi

if [ "$#" -eq 0 ]; then
  echo "error: $needed; $variable is empty. $install, $fix" >&2
  exit 1
fi
# Written for any Python, 2.7 included: it prints the version and the executable, and exits 3 when older.
found=$("$@" -c 'import sys
minimum = tuple(int(part) for part in sys.argv[1].split("."))
sys.stdout.write("%d.%d.%d %s" % (sys.version_info[0], sys.version_info[1], sys.version_info[2], sys.executable))
sys.exit(0 if tuple(sys.version_info[:len(minimum)]) >= minimum else 3)' "$minimum" 2>/dev/null)
status=$?
if [ "$status" -eq 0 ]; then
  exit 0
fi
if [ "$status" -eq 3 ]; then
  version=${found%% *} executable=${found#* }
  # The executable's path when the command is a name (python3), not when it is that path already.
  where=""
  [ "$executable" = "$*" ] || where=" ($executable)"
  echo "error: $needed; $variable=$* is Python $version$where. $install, $fix" >&2
else
  echo "error: $needed; $variable=$* does not run (not installed, or not a Python interpreter). $install, $fix" >&2
fi
exit 1
