#!/usr/bin/env bash
# claude-code-hook.sh — a Claude Code hook that logs a session's token usage with tt.
#
# Claude Code runs it with the hook's JSON on stdin (`Stop`, `SubagentStop` and `SessionEnd` hooks carry
# `transcript_path`, `session_id` and `cwd`); `tt-log --import claude-code -` reads that JSON and imports the
# transcript (and its `subagents/`). The import is idempotent and incremental, so running it after every turn
# only adds the requests that are new since the last run. The event says what is complete: at `Stop` the
# session's transcript (the turn's last message is imported at once), at `SessionEnd` the session and all its
# subagents' files, at `SubagentStop` only that subagent's own transcript (`agent_transcript_path`) — the main
# thread and other subagents may still be streaming; and no file whose last line is still half written. Anything
# not complete waits until the next request follows it or its file is idle for 30 minutes, so a later run (or a
# plain `tt-log --import claude-code`) imports it.
#
# Install: copy or link this file somewhere stable and add to ~/.claude/settings.json (see docs/guide.md, "Claude Code hook"):
#   {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "~/.local/share/tt/claude-code-hook.sh"}]}],
#              "SessionEnd": [{"hooks": [{"type": "command", "command": "~/.local/share/tt/claude-code-hook.sh"}]}]}}
#
# Environment: TT_LOG / TT_CONFIG as for every tt tool; TT_AGENT to log under another agent name;
# TT_HOOK_LOG=FILE to keep the hook's messages (default: discarded, Claude Code shows hook stderr as noise).
#
# It always exits 0: a usage logger must never block or fail the agent's session.

tt_log=${TT_LOG_BIN:-tt-log}
if ! command -v "$tt_log" >/dev/null 2>&1; then
    for d in "$HOME/.local/bin" "$HOME/.cargo/bin" /usr/local/bin; do
        if [ -x "$d/tt-log" ]; then tt_log="$d/tt-log"; break; fi
    done
fi
args=(--import claude-code - --quiet)
if [ -n "${TT_AGENT:-}" ]; then args+=(--agent "$TT_AGENT"); fi
"$tt_log" "${args[@]}" 2>>"${TT_HOOK_LOG:-/dev/null}" || true
exit 0
