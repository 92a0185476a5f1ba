#!/usr/bin/env bash
# Set up minigrad in an isolated environment (.venv) and run one of its jobs.
#
#   bash run.sh demo [ARGS...]   train the char-RNN demo on the offline corpus, sample, draw
#   bash run.sh test [ARGS...]   run the whole test suite (ARGS go to pytest)
#
#   PYTHON=python3.13 bash run.sh test    the same with another interpreter (default python3)
#
# On a fresh Debian machine with Python >= 3.10 this is all the set-up there is: it installs
# python3-venv and Graphviz's `dot` with apt-get when they are missing and it may (as root,
# or with password-less sudo); otherwise it says what to install. It then creates or refreshes
# .venv and installs the project with its dev extras. Re-running it is cheap: the install is
# redone only when pyproject.toml changes, the environment is made anew when $PYTHON is
# another version than the one it was made with. VENV= names another folder for it.
set -euo pipefail

cd "$(dirname "$0")"
job="${1:-}"
case "$job" in
  demo|test) shift ;;
  *) echo "usage: bash run.sh demo|test [ARGS...]" >&2; exit 2 ;;
esac

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

say() { echo "[run.sh] $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  say "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || return 1
}

# 1. Python itself
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  say "no $PYTHON found: install Python 3.10 or newer (Debian: apt-get install python3)"; exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  say "minigrad needs Python >= 3.10; $PYTHON is $("$PYTHON" -V 2>&1)"; exit 1
fi

# 2. Graphviz's dot (renders the computation graphs)
if ! command -v dot >/dev/null 2>&1; then
  if ! apt_install graphviz; then
    say "Graphviz's 'dot' is missing and could not be installed here."
    say "Install it (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz);"
    say "until then graphs are written as DOT source only and the rendering tests fail."
  fi
fi

# 3. The virtual environment
version() { "$1" -c 'import sys; print(".".join(map(str, sys.version_info[:2])))'; }
if [ -x "$VENV/bin/python" ] && [ "$(version "$VENV/bin/python")" != "$(version "$PYTHON")" ]; then
  say "$VENV was made with Python $(version "$VENV/bin/python"); making it anew with $PYTHON"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    pyver=$(version "$PYTHON")
    apt_install "python${pyver}-venv" || apt_install python3-venv || {
      say "cannot create a virtual environment: install python3-venv (sudo apt-get install python3-venv)"; exit 1; }
    "$PYTHON" -m venv "$VENV"
  fi
fi
stamp="$VENV/.minigrad-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing minigrad and its dependencies into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi

# 4. The job
export MPLBACKEND=Agg
case "$job" in
  demo) exec "$VENV/bin/python" examples/char_rnn.py demo "$@" ;;
  test) exec "$VENV/bin/python" -m pytest -q "$@" ;;
esac
