#!/bin/sh
# Prints the path of a working Python interpreter of version $1 (e.g. 3.12), for the Makefile:
# `pythonX.Y` on PATH if it runs (a pyenv shim of a version the directory does not select
# fails), else the newest pyenv-installed X.Y.*. Exits 1, saying how to get one, if none.
set -u
version="$1"

works() {
    [ -n "$1" ] && "$1" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" 2>/dev/null
}

# The interpreter itself, not a shim in front of it.
found() {
    "$1" -c "import sys; print(sys.executable)"
    exit 0
}

candidate=$(command -v "python$version" 2>/dev/null || true)
if works "$candidate"; then
    found "$candidate"
fi
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for candidate in $(ls -d "$root"/versions/"$version".*/bin/python 2>/dev/null | sort -V -r); do
    if works "$candidate"; then
        found "$candidate"
    fi
done
echo "find-python: no Python $version found (on PATH or under $root/versions): install it, e.g. \`pyenv install $version\`" >&2
exit 1
