#!/usr/bin/env bash
# Tests write only to their own temporary directories: this fails the build when a test run leaves a new file in
# the work tree. "snapshot" lists what is there before the tests, "compare" fails on anything new after them.
# Build outputs (target/) and the shared npm install (node_modules) are not the tests' doing.
# usage: worktree-check.sh snapshot|compare ROOT LIST_FILE
set -euo pipefail
mode=$1 root=$2 list=$3
# outside a git clone (a source archive) there is nothing to compare against
git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 0
files() {
  git -C "$root" status --porcelain --ignored=matching --untracked-files=all \
    | grep -E '^(\?\?|!!) ' | grep -vE '(^|/)target/$|(^|/)node_modules(/|$)' | sort || true
}
case $mode in
  snapshot) mkdir -p "$(dirname "$list")"; files >"$list" ;;
  compare)
    [ -f "$list" ] || exit 0
    left=$(comm -13 "$list" <(files))
    if [ -n "$left" ]; then
      echo "the tests left files in the work tree (a test must write only to its own temporary directory):" >&2
      echo "$left" >&2
      exit 1
    fi ;;
  *) echo "usage: $0 snapshot|compare ROOT LIST_FILE" >&2; exit 2 ;;
esac
