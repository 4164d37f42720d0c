
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tt-log' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tt-log'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'tt-log' {
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Agent name [env: TT_AGENT]')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Model name or alias [env: TT_MODEL]')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Uncached input tokens')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output tokens (reasoning included)')
            [CompletionResult]::new('--cache-read', '--cache-read', [CompletionResultType]::ParameterName, 'Prompt-cache read tokens')
            [CompletionResult]::new('--cache-write', '--cache-write', [CompletionResultType]::ParameterName, 'Prompt-cache write tokens (5-minute cache)')
            [CompletionResult]::new('--cache-write-1h', '--cache-write-1h', [CompletionResultType]::ParameterName, 'Prompt-cache write tokens (1-hour cache)')
            [CompletionResult]::new('--reasoning', '--reasoning', [CompletionResultType]::ParameterName, 'Reasoning tokens (informational: already counted in output)')
            [CompletionResult]::new('--session', '--session', [CompletionResultType]::ParameterName, 'Session id [env: TT_SESSION]')
            [CompletionResult]::new('--task', '--task', [CompletionResultType]::ParameterName, 'Task name [env: TT_TASK]')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project name [env: TT_PROJECT]')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Provider (default: the price table''s provider for the model)')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'Git branch [env: TT_BRANCH] (default: read from the repository in the current directory; on a detached HEAD, from CI: GITHUB_HEAD_REF, GITHUB_REF_NAME, CI_COMMIT_REF_NAME)')
            [CompletionResult]::new('--commit', '--commit', [CompletionResultType]::ParameterName, 'Git commit (default: read from the repository in the current directory)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'A label, KEY=VALUE (repeatable)')
            [CompletionResult]::new('--note', '--note', [CompletionResultType]::ParameterName, 'A note')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Wall time of the request: milliseconds, or with a unit (250ms, 1.5s, 2m)')
            [CompletionResult]::new('--ts', '--ts', [CompletionResultType]::ParameterName, 'When it happened: RFC 3339, or a date / date-time in the configured time zone, as tt-sum --since takes them; 2000 or later [default: now]')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Where the numbers came from [default: cli, or the provider with --from]')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Read a provider API response from stdin: the response, its bare usage object, or a captured stream as a JSON array of events (one response: a capture of several is refused). bedrock: Converse (the model from --model); xai: chat reasoning counted on top of completion tokens; openrouter: cache writes, and its usage.cost kept as provider_cost_usd (a warning when tt''s price differs by more than 1%); azure: Azure OpenAI. Service tier, fast mode, server-tool calls and Anthropic''s iterations are priced')
            [CompletionResult]::new('--estimate-from', '--estimate-from', [CompletionResultType]::ParameterName, 'Estimate input tokens from a text file (or - for stdin) at about 4 characters a token')
            [CompletionResult]::new('--import', '--import', [CompletionResultType]::ParameterName, 'Import usage instead of logging one record: `claude-code [DIR…]` or `codex [DIR]` transcripts, or tt JSONL logs / bundles (`FILE…`). Idempotent: records already in the log are skipped. One that takes more than about a second shows a progress bar on a terminal''s stderr (not under CI, not with --quiet)')
            [CompletionResult]::new('--settle', '--settle', [CompletionResultType]::ParameterName, 'The real usage of a reservation (`tt-budget --estimate-usd X --reserve` printed ID): the record carries it and replaces the hold in the same append')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse a record of an unknown model (exit 2, nothing appended) instead of logging it unpriced; either way a name one edit from a known one gets a "did you mean" hint')
            [CompletionResult]::new('--print', '--print', [CompletionResultType]::ParameterName, 'Also write the appended record to stdout')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Validate and print the record, but append nothing (with --import FILE: report and print the records that would be added)')
            [CompletionResult]::new('--finished', '--finished', [CompletionResultType]::ParameterName, 'With --import of transcripts: their sessions are over (a copy, an archive, a backup, whose fresh mtimes say nothing), so no request is held back as still being written. Not for live sessions: a request still streaming would be logged with the tokens it has so far, and its final count dropped as a duplicate')
            [CompletionResult]::new('--enforce', '--enforce', [CompletionResultType]::ParameterName, 'Refuse the record (exit 1, nothing appended) if it would push a configured budget over its limit')
            [CompletionResult]::new('--repair', '--repair', [CompletionResultType]::ParameterName, 'Move the lines the readers refuse (invalid JSON, a block of NULs left by a crash, a half line) out of the log into `<log>.rejected`, each after a `# line N …` comment, byte for byte; valid lines keep their bytes and order. The one command that rewrites the log (under its lock). With --dry-run: list them, change nothing')
            [CompletionResult]::new('--push-spool', '--push-spool', [CompletionResultType]::ParameterName, 'Push the records this machine kept in its spool while the ledger (the log) was out of reach, and log nothing (the next write to the ledger pushes them too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No confirmation on stderr (with --import: no summary line and no progress bar)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No confirmation on stderr (with --import: no summary line and no progress bar)')
            [CompletionResult]::new('--no-git', '--no-git', [CompletionResultType]::ParameterName, 'Do not read git branch and commit from the current directory')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
