
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tt-export' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tt-export'
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
        'tt-export' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'csv (RFC 4180, header row), json (one report document), jsonl, markdown (the weekly team report), html (the report as one self-contained page: spend over time by model and agent, budget gauges with their forecast, top sessions and tasks, tt-optimize''s suggestions) or prometheus (text exposition for node_exporter''s textfile collector) [default: jsonl]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'csv (RFC 4180, header row), json (one report document), jsonl, markdown (the weekly team report), html (the report as one self-contained page: spend over time by model and agent, budget gauges with their forecast, top sessions and tasks, tt-optimize''s suggestions) or prometheus (text exposition for node_exporter''s textfile collector) [default: jsonl]')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Push the records to a team ledger (a `postgresql://` URI) instead of writing them: the ones it lacks are added, in batches each committed on its own, so an interrupted push keeps what it sent and a re-run adds only the rest. The filters select what is pushed; records go as logged. A progress bar on a terminal; `pushed N records to LEDGER (M already there)` at the end')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename)')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Only this agent (repeatable)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Only this model (repeatable; aliases match, so sonnet-4.5 selects claude-sonnet-4-5-20250929)')
            [CompletionResult]::new('--where', '--where', [CompletionResultType]::ParameterName, 'Only records whose FIELD is VALUE (repeatable): project=api, tag:team=infra, host=laptop …')
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; tt-export''s markdown report: week]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only records up to this date (inclusive), or before this time')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC]')
            [CompletionResult]::new('--today', '--today', [CompletionResultType]::ParameterName, 'Take this date (or time) as today, for reproducible reports and forecasts')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin')
            [CompletionResult]::new('--csv-exact', '--csv-exact', [CompletionResultType]::ParameterName, 'With --format csv: write every value exactly as it is, for databases and scripts (DuckDB, PostgreSQL \copy). By default a text cell that a spreadsheet would run as a formula (starting, after blanks, with =, +, -, @, or with a tab or CR) gets a leading '' — which changes the value for a database (-home-dev-proj0 would load as ''-home-dev-proj0). Never open exact CSV from an untrusted log in a spreadsheet.')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Write a portable bundle: a metadata line (who, where, when, filter, count, SHA-256) and the records')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar (and with --to, no summary line); warnings and errors still print')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar (and with --to, no summary line); warnings and errors still print')
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
