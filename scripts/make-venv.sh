#!/bin/sh
# make-venv.sh DIR X.Y LOCK [PYTHON]: DIR becomes a virtualenv of Python X.Y holding LOCK's
# exact versions (README, "Runtimes"); called by the Makefile, which keeps a stamp so it runs
# again only when the lock changes. A virtualenv of another Python (e.g. a .venv made on
# Python 3.10 before the runtimes were split) is made anew. PYTHON, when given, is the
# interpreter to make it with; otherwise scripts/find-python.sh finds one.
set -eu
dir=$1
version=$2
lock=$3
python=${4:-}

if ! "$dir/bin/python" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" 2>/dev/null; then
    if [ -z "$python" ]; then
        python=$(sh "$(dirname "$0")/find-python.sh" "$version")
    fi
    echo "make-venv: $dir on $python"
    rm -rf "$dir"
    "$python" -m venv "$dir"
fi
"$dir/bin/python" -m pip install --quiet --upgrade pip
"$dir/bin/python" -m pip install --quiet -r "$lock"
touch "$dir/.installed"
