
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tt-budget' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tt-budget'
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
        'tt-budget' {
            [CompletionResult]::new('--fail-at', '--fail-at', [CompletionResultType]::ParameterName, 'Exit 1 when any budget is at this level or above (info, warning, critical, over) or at this fraction of a limit (0.9 or 90%)')
            [CompletionResult]::new('--estimate-usd', '--estimate-usd', [CompletionResultType]::ParameterName, 'Pre-task check: exit 1 if spending this many dollars more would push a budget over its limit')
            [CompletionResult]::new('--estimate-tokens', '--estimate-tokens', [CompletionResultType]::ParameterName, 'Pre-task check in tokens (priced as input tokens of --model for dollar limits)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The task''s model: prices --estimate-tokens, and budgets scoped to another model are not checked [env: TT_MODEL]')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'The task''s agent: budgets scoped to another agent are not checked by the estimate [env: TT_AGENT]')
            [CompletionResult]::new('--session', '--session', [CompletionResultType]::ParameterName, 'The task''s session: session budgets check the estimate on top of its spend so far [env: TT_SESSION]')
            [CompletionResult]::new('--task', '--task', [CompletionResultType]::ParameterName, 'The task''s task name, for the estimate''s budgets [env: TT_TASK]')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'The task''s project, for the estimate''s budgets [env: TT_PROJECT]')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The task''s provider, for the estimate''s budgets')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'The task''s git branch, for the estimate''s budgets')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'The task''s tag, KEY=VALUE (repeatable), for the estimate''s budgets')
            [CompletionResult]::new('--budget', '--budget', [CompletionResultType]::ParameterName, 'Only these configured budgets (repeatable)')
            [CompletionResult]::new('--limit-usd', '--limit-usd', [CompletionResultType]::ParameterName, 'An ad-hoc budget instead of the configured ones: a dollar limit')
            [CompletionResult]::new('--limit-tokens', '--limit-tokens', [CompletionResultType]::ParameterName, 'An ad-hoc budget: a token limit')
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'The ad-hoc budget''s period: day, week, month, year, total, session. Checked over its current window (`month` is this month, the window tt-sum --period month reports); the report windows of tt-sum''s --period (today, last-month, …) are not budget periods')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'The ad-hoc budget''s scope, FIELD=VALUE (repeatable): agent=ATLAS, tag:team=web')
            [CompletionResult]::new('--warn-at', '--warn-at', [CompletionResultType]::ParameterName, 'The ad-hoc budget''s thresholds, comma-separated fractions or percentages [default: 0.5,0.8,0.95]')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The ad-hoc budget''s name')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'Time zone for budget windows (IANA name) [default: config `tz`, else UTC]')
            [CompletionResult]::new('--today', '--today', [CompletionResultType]::ParameterName, 'Pretend today is this date (the day counts as fully elapsed), for reproducible reports')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: table, json, jsonl, csv, markdown [default: table on a terminal, else jsonl]')
            [CompletionResult]::new('--width', '--width', [CompletionResultType]::ParameterName, 'Fit the gauges to N columns [default: COLUMNS, else the terminal''s width, else 80]')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'How long an unsettled reservation holds [default: config `reservation_ttl`, else 1h]')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Free a reservation early (it no longer holds its amount)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin')
            [CompletionResult]::new('--fail-over', '--fail-over', [CompletionResultType]::ParameterName, 'Exit 1 when any budget is over its limit')
            [CompletionResult]::new('--fail-projected', '--fail-projected', [CompletionResultType]::ParameterName, 'Exit 1 when a forecast to the end of the window exceeds a limit (day, week, month and year budgets)')
            [CompletionResult]::new('--github', '--github', [CompletionResultType]::ParameterName, 'Emit GitHub Actions annotations and a job summary (automatic when GITHUB_ACTIONS=true)')
            [CompletionResult]::new('--csv-exact', '--csv-exact', [CompletionResultType]::ParameterName, 'With --format csv: write every value exactly as it is, for databases and scripts (DuckDB, PostgreSQL \copy). By default a text cell that a spreadsheet would run as a formula (starting, after blanks, with =, +, -, @, or with a tab or CR) gets a leading '' — which changes the value for a database (-home-dev-proj0 would load as ''-home-dev-proj0). Never open exact CSV from an untrusted log in a spreadsheet.')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'With an estimate that fits: print the report too, not only the one-line "go"')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'With an estimate that fits: print the report too, not only the one-line "go"')
            [CompletionResult]::new('--chart', '--chart', [CompletionResultType]::ParameterName, 'Draw a gauge per budget below the table, also when stdout is not a terminal (on one they are drawn anyway)')
            [CompletionResult]::new('--ascii', '--ascii', [CompletionResultType]::ParameterName, 'With the gauges: ASCII only (#, ., |, !), whatever the locale')
            [CompletionResult]::new('--brief', '--brief', [CompletionResultType]::ParameterName, 'Under a gate that passes: one line on stderr (`ok: …`, with the most used budget) instead of the report; a gate that fails still prints the report and why')
            [CompletionResult]::new('--reserve', '--reserve', [CompletionResultType]::ParameterName, 'With --estimate-*: check and hold the estimate atomically (under the log''s lock) when it fits, and print the reservation''s id; log the real usage with `tt-log --settle ID …`')
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
