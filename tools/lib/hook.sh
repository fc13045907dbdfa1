# shellcheck shell=bash disable=SC2034
# Shared bookkeeping of the e2e hooks (e2e/<ws>/test.sh, see docs/harness.md).
# Source it, then call `hook_init NAME`:
#
#   HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
#   # shellcheck source=tools/lib/hook.sh
#   . "$HERE/../../tools/lib/hook.sh"
#   hook_init smoke
#   step "what comes next"
#   check "a named check" some command args   # or: pass "..." / fail "..."
#   finish                                    # `N passed, N failed`, exits
#
# hook_init sets HERE (the hook's workspace), REPO (the checkout), BAZEL,
# PYTHON and OUT: a private log folder in the workspace (concurrent runs do not
# collide; it sits inside the checkout, which the harness mounts at the same
# path inside its root, so Bazel can write logs there), removed by `finish`
# when nothing failed and kept otherwise. `on_exit CMD...` registers cleanup
# that runs on any exit, last registered first; `on_finish CMD...` registers
# cleanup that must run before `finish` removes OUT (e.g. unmounting what a
# hook mounted under OUT) and on any other exit, also last registered first.
# `check_logged` is `check` with CMD's output in a log under OUT. A hook that
# edits sources runs in a copy of its workspace: `hook_use_workspace_copy`.

# hook_init NAME: the counters, the paths and the EXIT trap.
hook_init() {
  HOOK_NAME="$1"
  HERE="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd -P)"
  REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
  BAZEL="${BAZEL:-$REPO/tools/bazel}"
  PYTHON="${PYTHON:-python3}"
  HOOK_PASSED=0
  HOOK_FAILED=0
  HOOK_T0=$SECONDS
  HOOK_CLEANUP=()
  HOOK_FINISH_CLEANUP=()
  OUT="$(mktemp -d "$HERE/.test-out.XXXXXX")"
  trap _hook_run_cleanup EXIT
  trap 'exit 130' INT TERM
  cd "$HERE" || exit 1
}

# on_exit CMD...: run CMD (one word list) when the hook exits, however it exits.
on_exit() {
  local q
  printf -v q '%q ' "$@"
  HOOK_CLEANUP+=("$q")
}

# on_finish CMD...: run CMD (one word list) once, when `finish` starts or
# else when the hook exits; before any on_exit command.
on_finish() {
  local q
  printf -v q '%q ' "$@"
  HOOK_FINISH_CLEANUP+=("$q")
}

_hook_run_finish_cleanup() {
  local i
  for ((i = ${#HOOK_FINISH_CLEANUP[@]} - 1; i >= 0; i--)); do
    eval "${HOOK_FINISH_CLEANUP[i]}" || true
  done
  HOOK_FINISH_CLEANUP=()
}

_hook_run_cleanup() {
  local i
  _hook_run_finish_cleanup
  for ((i = ${#HOOK_CLEANUP[@]} - 1; i >= 0; i--)); do
    eval "${HOOK_CLEANUP[i]}" || true
  done
}

step() { printf '\n=== %s [%3d s]: %s\n' "$HOOK_NAME" "$((SECONDS - HOOK_T0))" "$*"; }

pass() {
  printf 'ok   %s\n' "$*"
  HOOK_PASSED=$((HOOK_PASSED + 1))
}

fail() {
  printf 'FAIL %s\n' "$*"
  HOOK_FAILED=$((HOOK_FAILED + 1))
}

# check NAME CMD...: runs CMD and counts its exit status as NAME's result.
check() {
  local name="$1"
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

# check_logged NAME CMD...: like check, with CMD's output in $OUT/<NAME>.log;
# a pass shows the log's last line, a failure its last 40 lines. Returns CMD's
# status, so a hook can stop: `check_logged "tools" tools_present || finish`.
check_logged() {
  local name="$1" log
  shift
  log="$OUT/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' '_').log"
  if "$@" >"$log" 2>&1; then
    pass "$name: $(tail -n 1 "$log")"
  else
    sed 's/^/    /' "$log" | tail -n 40
    fail "$name"
    return 1
  fi
}

# finish: the closing line tools/test-all.sh reads, then exit (1 if anything failed).
finish() {
  _hook_run_finish_cleanup
  echo
  echo "$HOOK_NAME: finished in $((SECONDS - HOOK_T0)) s"
  if [ "$HOOK_FAILED" = 0 ]; then rm -rf "$OUT"; else echo "$HOOK_NAME: logs in $OUT"; fi
  echo "$HOOK_PASSED passed, $HOOK_FAILED failed"
  [ "$HOOK_FAILED" = 0 ]
  exit $?
}

# hook_use_workspace_copy: copy the workspace to e2e/.work/NAME (git-ignored,
# under the Bazel-ignored e2e/) and cd there, so that the hook may edit
# sources without touching tracked files. The path is fixed, so the copy keeps
# its output base (action cache) from one run to the next; the directory
# itself is kept, its files are replaced on every run and removed on exit,
# after its Bazel server is stopped.
# local_path_override(path = "../..") is rewritten to the checkout's path.
# Two runs of one hook in one checkout share the copy: run them one at a time.
hook_use_workspace_copy() {
  WORKSPACE_COPY="$REPO/e2e/.work/$HOOK_NAME"
  mkdir -p "$WORKSPACE_COPY"
  _hook_clear_copy
  on_exit _hook_clear_copy
  tar -C "$HERE" --exclude='./bazel-*' --exclude='./.test-out*' -cf - . | tar -C "$WORKSPACE_COPY" -xf - ||
    {
      fail "copy $HERE to $WORKSPACE_COPY"
      finish
    }
  local repo_sed="${REPO//\\/\\\\}" # the checkout's path as sed replacement text
  repo_sed="${repo_sed//&/\\&}"
  repo_sed="${repo_sed//|/\\|}"
  sed -i "s|path = \"\\.\\./\\.\\.\"|path = \"$repo_sed\"|" "$WORKSPACE_COPY/MODULE.bazel"
  if ! grep -qF "path = \"$REPO\"" "$WORKSPACE_COPY/MODULE.bazel"; then
    fail "$WORKSPACE_COPY/MODULE.bazel: no local_path_override(path = \"../..\") to point at $REPO"
    finish
  fi
  cd "$WORKSPACE_COPY" || exit 1
  on_exit _hook_stop_copy_server
}

# The copy's Bazel server would outlive its files: stop it (the action cache
# stays in its output base on disk for the next run).
_hook_stop_copy_server() {
  if [ -f "$WORKSPACE_COPY/MODULE.bazel" ]; then
    (cd "$WORKSPACE_COPY" && "$BAZEL" shutdown >/dev/null 2>&1)
  fi
}

# Everything in the copy but Bazel's convenience symlinks.
_hook_clear_copy() {
  find "$WORKSPACE_COPY" -mindepth 1 -maxdepth 1 ! -name 'bazel-*' -exec rm -rf {} +
}
