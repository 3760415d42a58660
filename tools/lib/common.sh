# shellcheck shell=bash
# Sourced by tools/setup, tools/test, tools/demo and tools/handout: where things are,
# how to talk, and how to build without leaving root-owned files behind.
#
#   MYDOCKER_BUILD_DIR   the build directory (default: build/ in the kit, the preset's)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
build=${MYDOCKER_BUILD_DIR:-$repo/build}
tool=$(basename "$0")

say() { printf '%s: %s\n' "$tool" "$*"; }
warn() { printf '%s: warning: %s\n' "$tool" "$*" >&2; }
die() { printf '%s: error: %s\n' "$tool" "$*" >&2; exit 1; }
section() { printf '\n==> %s\n' "$*"; }

# Prints a command, then runs it: what the tools do is never hidden.
run() {
  printf '+ %s\n' "$*"
  "$@"
}

# The tools are run as `sudo tools/...` (the tests need root), but the build tree belongs
# to whoever owns it: building as root would leave files the student cannot rebuild.
# The owner is the build directory's if it exists, else the kit's.
build_owner() {
  if [[ -d $build ]]; then stat -c %U "$build"; else stat -c %U "$repo"; fi
}

# Runs a command as the build tree's owner (directly when that is us).
owner_exec() {
  local owner
  owner=$(build_owner)
  if [[ $EUID -eq 0 && $owner != root ]]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

# The same, printing the command first.
as_owner() {
  local owner
  owner=$(build_owner)
  if [[ $EUID -eq 0 && $owner != root ]]; then
    printf '+ (as %s) %s\n' "$owner" "$*"
  else
    printf '+ %s\n' "$*"
  fi
  owner_exec "$@"
}

# git on the kit, as the kit's owner: git refuses a repository that another user owns.
kit_git() {
  local owner
  owner=$(stat -c %U "$repo")
  if [[ $EUID -eq 0 && $owner != root ]]; then
    runuser -u "$owner" -- git -C "$repo" "$@"
  else
    git -C "$repo" "$@"
  fi
}

# The labs present, as their two-digit numbers (labs/NN-topic/).
labs_present() {
  local dir
  for dir in "$repo"/labs/[0-9][0-9]-*/; do
    [[ -d $dir ]] || continue
    dir=${dir%/}
    printf '%s\n' "${dir##*/labs/}" | cut -c1-2
  done
}

# True in the kit as maintained (with the reference), false in a student handout.
have_solutions() { [[ -d $repo/solutions ]]; }

# True when the build directory has been configured.
configured() { [[ -f $build/CMakeCache.txt && -f $build/build.ninja ]]; }

# Refuses to go on without root, in one line.
need_root() {
  [[ $EUID -eq 0 ]] || { printf '%s: must be run as root: sudo %s\n' "$tool" "$*" >&2; exit 1; }
}
