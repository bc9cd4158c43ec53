#!/usr/bin/env bash
# One test's cost (issue 20: under 3 s): `pytest -k NAME`, which collects every test, and the same
# test named by file, N times each, first without cached bytecode (every __pycache__ of the checkout
# and pytest's rewritten bytecode in the environment deleted before each run, PYTHONDONTWRITEBYTECODE=1),
# then with it (Python's default: one warm-up run writes it). Prints wall, user and system seconds
# and the load average. Usage: bench/one_test.sh [N] [OTHER_CHECKOUT] — with a second checkout
# (e.g. a worktree of an older commit), its runs interleave with this one's, each importing its
# own bootlint (PYTHONPATH).
set -uo pipefail
N=${1:-3}
TREES=("$(cd "$(dirname "$0")/.." && pwd)")
[ -n "${2:-}" ] && TREES+=("$(cd "$2" && pwd)")
TEST=tests/test_cli.py::test_version_and_python_m
SITE=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
clean() {
  local t
  for t in "${TREES[@]}"; do find "$t" -name __pycache__ -prune -exec rm -rf {} +; done
  find "$SITE" -name '*-pytest-*.pyc' -delete
}
run() {  # label, tree, cached (0/1), pytest arguments...
  local label=$1 tree=$2 cached=$3; shift 3
  local out; out=$(mktemp)
  if [ "$cached" = 1 ]; then
    (cd "$tree" && PYTHONPATH="$tree" env -u PYTHONDONTWRITEBYTECODE /usr/bin/time -o "$out.t" -f "%e %U %S" \
      pytest -q -p no:cacheprovider "$@" >"$out" 2>&1)
  else
    clean
    (cd "$tree" && PYTHONPATH="$tree" PYTHONDONTWRITEBYTECODE=1 /usr/bin/time -o "$out.t" -f "%e %U %S" \
      pytest -q -p no:cacheprovider "$@" >"$out" 2>&1)
  fi
  read -r wall user sys < <(tail -1 "$out.t")
  printf '%-28s %-40s wall %5.2f s  cpu %5.2f s  load %s  %s\n' "$label" "$(basename "$tree")" "$wall" \
    "$(echo "$user + $sys" | bc)" "$(cut -d' ' -f1 /proc/loadavg)" "$(tail -1 "$out" | cut -c1-45)"
  rm -f "$out" "$out.t"
}
for i in $(seq "$N"); do
  for t in "${TREES[@]}"; do
    run "-k, no cached bytecode" "$t" 0 -k "${TEST##*::}"
    run "named, no cached bytecode" "$t" 0 "$TEST"
  done
done
clean
for t in "${TREES[@]}"; do run warm-up "$t" 1 -k "${TEST##*::}" >/dev/null; done
for i in $(seq "$N"); do
  for t in "${TREES[@]}"; do
    run "-k, bytecode cached" "$t" 1 -k "${TEST##*::}"
    run "named, bytecode cached" "$t" 1 "$TEST"
  done
done
clean
