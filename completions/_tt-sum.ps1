
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tt-sum' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tt-sum'
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
        'tt-sum' {
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Group by these keys, comma-separated: agent, model, provider, session, task, project, branch, host, user, commit, source, tag:KEY, hour, day, week, month')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: table, json, jsonl, csv, markdown [default: table on a terminal, else jsonl]')
            [CompletionResult]::new('--sort', '--sort', [CompletionResultType]::ParameterName, 'Order of the groups: cost, tokens (both largest first) or name [default: name when grouping by time, else cost]')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Only the first N groups (the total still covers every group; a chart still shows every group)')
            [CompletionResult]::new('--chart', '--chart', [CompletionResultType]::ParameterName, 'Draw a bar chart of dollars (usd) or tokens per calendar bucket of --by instead of the table (see Charts below) [default: usd; --by day]')
            [CompletionResult]::new('--width', '--width', [CompletionResultType]::ParameterName, 'With --chart: fit the chart to N columns [default: COLUMNS, else the terminal''s width, else 80]')
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; tt-export''s markdown report: week]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only records up to this date (inclusive), or before this time')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC]')
            [CompletionResult]::new('--today', '--today', [CompletionResultType]::ParameterName, 'Take this date (or time) as today, for reproducible reports and forecasts')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin')
            [CompletionResult]::new('--csv-exact', '--csv-exact', [CompletionResultType]::ParameterName, 'With --format csv: write every value exactly as it is, for databases and scripts (DuckDB, PostgreSQL \copy). By default a text cell that a spreadsheet would run as a formula (starting, after blanks, with =, +, -, @, or with a tab or CR) gets a leading '' — which changes the value for a database (-home-dev-proj0 would load as ''-home-dev-proj0). Never open exact CSV from an untrusted log in a spreadsheet.')
            [CompletionResult]::new('--ascii', '--ascii', [CompletionResultType]::ParameterName, 'With --chart: ASCII only (#, |, :), whatever the locale')
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
