# shellcheck shell=bash
# tt.sh — bash helpers for build scripts and CI jobs that use tt.
#
#   source "${PREFIX:-$HOME/.local}/share/tt/tt.sh"
#
# Safe under `set -euo pipefail`: sourcing never fails, the helpers never leave options changed, and a
# problem with tt itself never hides the exit status of your own command. Defaults (each only when unset):
#   TT_SESSION  one id for the whole build: GitHub Actions run id, GitLab pipeline id, else build-DATE-PID
#   TT_PROJECT  the repository's name (GitHub/GitLab), else the git top-level directory's name
# The helpers read the usage log, not stdin, unless given `-`. Helpers:
#   tt_run AGENT MODEL [TT-LOG FLAGS…] -- CMD [ARG…]
#                  run CMD, pass its output through, and log the usage in the JSON it prints
#                  (`claude -p --output-format json`, an API response from curl …) with
#                  `tt-log --from anthropic` (or the --from you give). MODEL `-` takes the model from the
#                  response. Returns CMD's exit status; a failure to log is a warning, never a failed build.
#   tt_log ARG…    tt-log, but a logging problem is a warning instead of a failed build
#   tt_guard [TT-BUDGET FLAGS…]
#                  stop the build (exit 1) with the budget table and a clear message when a budget is over its
#                  limit (`tt-budget --fail-over`, every configured budget over its current window); within
#                  them, one line (`tt-budget: ok: …`; the table too with --verbose); exit 2 when
#                  the budget cannot be checked (a bad config, a bad line in the log). No budgets configured
#                  is a warning and returns 0: there is nothing to stop for.
#                  `tt-sum --period month | tt_guard -` reads the rows instead.
#   tt_afford USD [TT-BUDGET FLAGS…]
#                  true when spending USD more keeps every budget within its limit ("go or defer?"); quiet
#                  on stdout, the reason on stderr; 2 when it cannot be checked; no budgets configured is a
#                  warning and true (any spend fits)
#   tt_reserve USD [TT-BUDGET FLAGS…]
#                  check and hold USD for the task about to run (`tt-budget --estimate-usd USD --reserve`),
#                  atomically, so parallel jobs cannot spend it too: 0 with TT_RESERVATION exported (the hold's
#                  id) when it fits; 1 when it does not (defer the task; nothing is held, TT_RESERVATION is not
#                  set); 2 when it cannot be checked. No budgets configured is a warning and 0 (nothing held;
#                  tt_settle then logs plainly and tt_release does nothing). While TT_RESERVATION is set, every
#                  tt-log (tt_run, tt_log) names it and the first such record settles the hold, so end the task
#                  with tt_settle or tt_release (or `unset TT_RESERVATION`). Not inside `$(…)`: the export would
#                  stay in the subshell.
#                      tt_reserve 2.50 --agent ATLAS && run_the_task && tt_settle ATLAS sonnet-4.5 50000 15000
#   tt_settle [TT-LOG ARG…]
#                  log the task's real usage against the hold (`tt-log --settle "$TT_RESERVATION" …`), then unset
#                  TT_RESERVATION; a logging problem is a warning, never a failed build. Nothing reserved is an
#                  error (2), nothing logged
#   tt_release     free the hold early (the task did not run), then unset TT_RESERVATION
#   tt_report [TT-EXPORT FLAGS…]
#                  the markdown team report (this week, budgets, by agent), appended to
#                  $GITHUB_STEP_SUMMARY when set, else printed; a report that cannot be made (a bad line
#                  in the log) is a warning, never a failed build
#   tt_quote MODEL INPUT OUTPUT [TT-PRICE FLAGS…]
#                  what a request would cost, in dollars (`tt-price --quote --format value`)

# Defaults. `${x:-}` everywhere: the caller may have `set -u`.
if [ -z "${TT_SESSION:-}" ]; then
  if [ -n "${GITHUB_RUN_ID:-}" ]; then
    TT_SESSION="gh-${GITHUB_RUN_ID}-${GITHUB_RUN_ATTEMPT:-1}"
  elif [ -n "${CI_PIPELINE_ID:-}" ]; then
    TT_SESSION="gl-${CI_PIPELINE_ID}"
  else
    TT_SESSION="build-$(date -u +%Y%m%dT%H%M%SZ)-$$"
  fi
  export TT_SESSION
fi
if [ -z "${TT_PROJECT:-}" ]; then
  if [ -n "${GITHUB_REPOSITORY:-}" ]; then
    TT_PROJECT="${GITHUB_REPOSITORY##*/}"
  elif [ -n "${CI_PROJECT_NAME:-}" ]; then
    TT_PROJECT="${CI_PROJECT_NAME}"
  elif _tt_top="$(git rev-parse --show-toplevel 2>/dev/null)" && [ -n "$_tt_top" ]; then
    TT_PROJECT="${_tt_top##*/}"
  fi
  unset _tt_top
  if [ -n "${TT_PROJECT:-}" ]; then export TT_PROJECT; fi
fi

_tt_warn() { printf '%s: warning: %s\n' "$1" "$2" >&2; }
_tt_error() { printf '%s: error: %s\n' "$1" "$2" >&2; }

# True when one of the arguments is `-`: the caller pipes data in on purpose. Otherwise the helpers give the
# tools /dev/null as stdin, so a build script whose own stdin is an open pipe never blocks or feeds it to tt.
_tt_stdin_wanted() {
  local a
  for a in "$@"; do
    if [ "$a" = "-" ]; then return 0; fi
  done
  return 1
}

# Leave the build when run from a script; only return in an interactive shell (so a typo does not close it).
_tt_stop() {
  case "$-" in
    *i*) return "$1" ;;
    *) exit "$1" ;;
  esac
}

tt_run() {
  if [ "$#" -lt 2 ]; then
    _tt_error tt_run "usage: tt_run AGENT MODEL [TT-LOG FLAGS…] -- CMD [ARG…]"
    return 2
  fi
  local agent="$1" model="$2"
  shift 2
  local -a flags=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    flags+=("$1")
    shift
  done
  if [ "$#" -lt 2 ]; then
    _tt_error tt_run "no command: tt_run AGENT MODEL [TT-LOG FLAGS…] -- CMD [ARG…]"
    return 2
  fi
  shift # the --
  local from="anthropic" f
  for f in "${flags[@]+"${flags[@]}"}"; do
    case "$f" in --from | --from=*) from="" ;; esac
  done
  local -a log=(tt-log --agent "$agent")
  if [ "$model" != "-" ]; then log+=(--model "$model"); fi
  if [ -n "$from" ]; then log+=(--from "$from"); fi
  log+=("${flags[@]+"${flags[@]}"}")

  local out ps
  out="$(mktemp "${TMPDIR:-/tmp}/tt_run.XXXXXX")" || {
    _tt_warn tt_run "cannot create a temporary file: running without logging"
    "$@"
    return
  }
  # The command's output goes through as it comes; a copy is kept to read the usage from.
  if "$@" | tee "$out"; then ps=("${PIPESTATUS[@]}"); else ps=("${PIPESTATUS[@]}"); fi
  local status="${ps[0]}"
  # tt-log's confirmation ("logged 1,234 tokens …") or its error, for stderr.
  local msg
  if ! msg="$("${log[@]}" <"$out" 2>&1)"; then
    # Streamed output (`--output-format stream-json`): the usage is on the last line that has one.
    local last
    last="$(grep '"usage"' "$out" | tail -n 1 || true)"
    if [ -z "$last" ] || ! msg="$(printf '%s\n' "$last" | "${log[@]}" 2>&1)"; then
      msg="tt_run: warning: usage not logged: ${msg##*error: }"
    fi
  fi
  if [ -n "$msg" ]; then printf '%s\n' "$msg" >&2; fi
  rm -f "$out"
  return "$status"
}

tt_log() {
  local err
  if ! err="$(tt-log "$@" 2>&1)"; then
    _tt_warn tt_log "usage not logged: ${err##*error: }"
    return 0
  fi
  if [ -n "$err" ]; then printf '%s\n' "$err" >&2; fi
}

# Run tt-budget ARG… with stdout passed through and stderr kept in _tt_budget_err (for _tt_no_budgets);
# returns its exit status. stdin is /dev/null unless an argument is `-`.
_tt_budget() {
  local status=0
  if _tt_stdin_wanted "$@"; then
    { _tt_budget_err="$(tt-budget "$@" 2>&1 >&3 3>&-)" || status=$?; } 3>&1
  else
    { _tt_budget_err="$(tt-budget "$@" 2>&1 >&3 3>&- </dev/null)" || status=$?; } 3>&1
  fi
  return "$status"
}

# True when tt-budget's stderr (in _tt_budget_err) ends with its "no budgets configured" error: nothing was
# checked because there is nothing to check, which is not a broken budget.
_tt_no_budgets() {
  case "${_tt_budget_err##*$'\n'}" in
    "tt-budget: error: no budgets configured"*) return 0 ;;
    *) return 1 ;;
  esac
}

tt_guard() {
  local status=0 _tt_budget_err=""
  local -a cmd=(--fail-over)
  case " $* " in
    *" --format"*) ;;
    *) cmd+=(--format table) ;; # the readable report in the build log, even when it is not a terminal
  esac
  case " $* " in
    *" --verbose "* | *" -v "*) ;;
    *) cmd+=(--brief) ;; # within budget: one line; the table only when it stops the build
  esac
  _tt_budget "${cmd[@]}" "$@" || status=$?
  if [ "$status" -eq 2 ] && _tt_no_budgets; then
    _tt_warn tt_guard "no budgets configured; nothing to check"
    return 0
  fi
  if [ -n "$_tt_budget_err" ]; then printf '%s\n' "$_tt_budget_err" >&2; fi
  case "$status" in
    0) return 0 ;;
    1)
      _tt_error tt_guard "over budget: stopping the build (see the budget report above; raise the limit in tt.toml or wait for the next period)"
      _tt_stop 1
      ;;
    *)
      _tt_error tt_guard "could not check the budget (tt-budget exit $status): stopping the build"
      _tt_stop 2
      ;;
  esac
}

tt_afford() {
  if [ "$#" -lt 1 ]; then
    _tt_error tt_afford "usage: tt_afford USD [TT-BUDGET FLAGS…]"
    return 2
  fi
  local usd="$1" status=0 _tt_budget_err=""
  shift
  # Quiet on stdout (it is a question for `if`); tt-budget says on stderr which budget would go over.
  _tt_budget --estimate-usd "$usd" "$@" >/dev/null || status=$?
  if [ "$status" -eq 2 ] && _tt_no_budgets; then
    _tt_warn tt_afford "no budgets: any spend fits"
    return 0
  fi
  if [ -n "$_tt_budget_err" ]; then printf '%s\n' "$_tt_budget_err" >&2; fi
  return "$status"
}

tt_reserve() {
  if [ "$#" -lt 1 ]; then
    _tt_error tt_reserve "usage: tt_reserve USD [TT-BUDGET FLAGS…]"
    return 2
  fi
  local usd="$1" status=0 id="" out _tt_budget_err=""
  shift
  _tt_held_nothing=""
  # The id comes on stdout; through a file, so that _tt_budget's stderr stays in this shell.
  out="$(mktemp "${TMPDIR:-/tmp}/tt_reserve.XXXXXX")" || {
    _tt_error tt_reserve "cannot create a temporary file"
    return 2
  }
  _tt_budget --estimate-usd "$usd" --reserve "$@" >"$out" || status=$?
  id="$(cat "$out")"
  rm -f "$out"
  if [ "$status" -eq 2 ] && _tt_no_budgets; then
    _tt_warn tt_reserve "no budgets: any spend fits (nothing held)"
    # A go without a hold: tt_settle still logs the usage (plainly) and tt_release has nothing to free, so the
    # reserve → run → settle pattern works the same with no budgets configured.
    _tt_held_nothing=1
    return 0
  fi
  if [ -n "$_tt_budget_err" ]; then printf '%s\n' "$_tt_budget_err" >&2; fi
  if [ "$status" -eq 0 ] && [ -n "$id" ]; then
    TT_RESERVATION="$id"
    export TT_RESERVATION
    _tt_held_nothing=""
  fi
  return "$status"
}

tt_settle() {
  if [ -z "${TT_RESERVATION:-}" ]; then
    if [ -n "${_tt_held_nothing:-}" ]; then
      _tt_held_nothing=""
      tt_log "$@"
      return
    fi
    _tt_error tt_settle "no reservation to settle (tt_reserve sets TT_RESERVATION)"
    return 2
  fi
  local id="$TT_RESERVATION"
  unset TT_RESERVATION
  tt_log --settle "$id" "$@"
}

tt_release() {
  if [ -z "${TT_RESERVATION:-}" ]; then
    if [ -n "${_tt_held_nothing:-}" ]; then
      _tt_held_nothing=""
      return 0
    fi
    _tt_error tt_release "no reservation to release (tt_reserve sets TT_RESERVATION)"
    return 2
  fi
  local id="$TT_RESERVATION" err status=0
  unset TT_RESERVATION
  err="$(tt-budget --release "$id" 2>&1 </dev/null)" || status=$?
  if [ -n "$err" ]; then printf '%s\n' "$err" >&2; fi
  return "$status"
}

_tt_markdown() {
  if _tt_stdin_wanted "$@"; then
    tt-export --format markdown "$@"
  else
    tt-export --format markdown "$@" </dev/null
  fi
}

tt_report() {
  local err status=0
  # The report goes to the summary file (or stdout, fd 3 here); tt-export's stderr is kept, so that a failure
  # (a bad line in the log, a bad config) becomes a warning, like tt_log's. tt-export writes the report only
  # once it has read everything, so a failed run appends nothing.
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    err="$(_tt_markdown "$@" 2>&1 >>"$GITHUB_STEP_SUMMARY")" || status=$?
  else
    { err="$(_tt_markdown "$@" 2>&1 >&3 3>&-)" || status=$?; } 3>&1
  fi
  if [ "$status" -ne 0 ]; then
    _tt_warn tt_report "report not written: ${err##*error: }"
    return 0
  fi
  if [ -n "$err" ]; then printf '%s\n' "$err" >&2; fi
}

tt_quote() {
  case " $* " in
    *" --format"*) tt-price --quote "$@" ;;
    *) tt-price --format value --quote "$@" ;; # just the dollars: cost="$(tt_quote opus-4.5 200000 4000)"
  esac
}
