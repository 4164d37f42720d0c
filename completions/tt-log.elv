
use builtin;
use str;

set edit:completion:arg-completer[tt-log] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tt-log'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tt-log'= {
            cand --agent 'Agent name [env: TT_AGENT]'
            cand --model 'Model name or alias [env: TT_MODEL]'
            cand --input 'Uncached input tokens'
            cand --output 'Output tokens (reasoning included)'
            cand --cache-read 'Prompt-cache read tokens'
            cand --cache-write 'Prompt-cache write tokens (5-minute cache)'
            cand --cache-write-1h 'Prompt-cache write tokens (1-hour cache)'
            cand --reasoning 'Reasoning tokens (informational: already counted in output)'
            cand --session 'Session id [env: TT_SESSION]'
            cand --task 'Task name [env: TT_TASK]'
            cand --project 'Project name [env: TT_PROJECT]'
            cand --provider 'Provider (default: the price table''s provider for the model)'
            cand --branch 'Git branch [env: TT_BRANCH] (default: read from the repository in the current directory; on a detached HEAD, from CI: GITHUB_HEAD_REF, GITHUB_REF_NAME, CI_COMMIT_REF_NAME)'
            cand --commit 'Git commit (default: read from the repository in the current directory)'
            cand --tag 'A label, KEY=VALUE (repeatable)'
            cand --note 'A note'
            cand --duration 'Wall time of the request: milliseconds, or with a unit (250ms, 1.5s, 2m)'
            cand --ts 'When it happened: RFC 3339, or a date / date-time in the configured time zone, as tt-sum --since takes them; 2000 or later [default: now]'
            cand --source 'Where the numbers came from [default: cli, or the provider with --from]'
            cand --from 'Read a provider API response from stdin: the response, its bare usage object, or a captured stream as a JSON array of events (one response: a capture of several is refused). bedrock: Converse (the model from --model); xai: chat reasoning counted on top of completion tokens; openrouter: cache writes, and its usage.cost kept as provider_cost_usd (a warning when tt''s price differs by more than 1%); azure: Azure OpenAI. Service tier, fast mode, server-tool calls and Anthropic''s iterations are priced'
            cand --estimate-from 'Estimate input tokens from a text file (or - for stdin) at about 4 characters a token'
            cand --import 'Import usage instead of logging one record: `claude-code [DIR…]` or `codex [DIR]` transcripts, or tt JSONL logs / bundles (`FILE…`). Idempotent: records already in the log are skipped. One that takes more than about a second shows a progress bar on a terminal''s stderr (not under CI, not with --quiet)'
            cand --settle 'The real usage of a reservation (`tt-budget --estimate-usd X --reserve` printed ID): the record carries it and replaces the hold in the same append'
            cand --config 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG'
            cand --log 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin'
            cand --strict 'Refuse a record of an unknown model (exit 2, nothing appended) instead of logging it unpriced; either way a name one edit from a known one gets a "did you mean" hint'
            cand --print 'Also write the appended record to stdout'
            cand --dry-run 'Validate and print the record, but append nothing (with --import FILE: report and print the records that would be added)'
            cand --finished 'With --import of transcripts: their sessions are over (a copy, an archive, a backup, whose fresh mtimes say nothing), so no request is held back as still being written. Not for live sessions: a request still streaming would be logged with the tokens it has so far, and its final count dropped as a duplicate'
            cand --enforce 'Refuse the record (exit 1, nothing appended) if it would push a configured budget over its limit'
            cand --repair 'Move the lines the readers refuse (invalid JSON, a block of NULs left by a crash, a half line) out of the log into `<log>.rejected`, each after a `# line N …` comment, byte for byte; valid lines keep their bytes and order. The one command that rewrites the log (under its lock). With --dry-run: list them, change nothing'
            cand --push-spool 'Push the records this machine kept in its spool while the ledger (the log) was out of reach, and log nothing (the next write to the ledger pushes them too)'
            cand -q 'No confirmation on stderr (with --import: no summary line and no progress bar)'
            cand --quiet 'No confirmation on stderr (with --import: no summary line and no progress bar)'
            cand --no-git 'Do not read git branch and commit from the current directory'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
