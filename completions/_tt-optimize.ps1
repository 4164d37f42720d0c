
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tt-optimize' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tt-optimize'
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
        'tt-optimize' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, jsonl in a pipe]')
            [CompletionResult]::new('--min-saving', '--min-saving', [CompletionResultType]::ParameterName, 'Hide suggestions saving less than this many dollars (`5`, `0.16` or `$0.16`; advice without a saving is kept)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only these suggestion types (comma-separated): rightsize, caching, outlier, session_outlier, budget')
            [CompletionResult]::new('--tasks', '--tasks', [CompletionResultType]::ParameterName, 'How many of the most expensive tasks to list')
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; tt-export''s markdown report: week]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only records up to this date (inclusive), or before this time')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC]')
            [CompletionResult]::new('--today', '--today', [CompletionResultType]::ParameterName, 'Take this date (or time) as today, for reproducible reports and forecasts')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin')
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
