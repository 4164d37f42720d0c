complete -c tt-budget -l fail-at -d 'Exit 1 when any budget is at this level or above (info, warning, critical, over) or at this fraction of a limit (0.9 or 90%)' -r -f -a "info\t''
warning\t''
critical\t''
over\t''"
complete -c tt-budget -l estimate-usd -d 'Pre-task check: exit 1 if spending this many dollars more would push a budget over its limit' -r
complete -c tt-budget -l estimate-tokens -d 'Pre-task check in tokens (priced as input tokens of --model for dollar limits)' -r
complete -c tt-budget -l model -d 'The task\'s model: prices --estimate-tokens, and budgets scoped to another model are not checked [env: TT_MODEL]' -r
complete -c tt-budget -l agent -d 'The task\'s agent: budgets scoped to another agent are not checked by the estimate [env: TT_AGENT]' -r
complete -c tt-budget -l session -d 'The task\'s session: session budgets check the estimate on top of its spend so far [env: TT_SESSION]' -r
complete -c tt-budget -l task -d 'The task\'s task name, for the estimate\'s budgets [env: TT_TASK]' -r
complete -c tt-budget -l project -d 'The task\'s project, for the estimate\'s budgets [env: TT_PROJECT]' -r
complete -c tt-budget -l provider -d 'The task\'s provider, for the estimate\'s budgets' -r
complete -c tt-budget -l branch -d 'The task\'s git branch, for the estimate\'s budgets' -r
complete -c tt-budget -l tag -d 'The task\'s tag, KEY=VALUE (repeatable), for the estimate\'s budgets' -r
complete -c tt-budget -l budget -d 'Only these configured budgets (repeatable)' -r
complete -c tt-budget -l limit-usd -d 'An ad-hoc budget instead of the configured ones: a dollar limit' -r
complete -c tt-budget -l limit-tokens -d 'An ad-hoc budget: a token limit' -r
complete -c tt-budget -l period -d 'The ad-hoc budget\'s period: day, week, month, year, total, session. Checked over its current window (`month` is this month, the window tt-sum --period month reports); the report windows of tt-sum\'s --period (today, last-month, …) are not budget periods' -r -f -a "day\t''
week\t''
month\t''
year\t''
total\t''
session\t''"
complete -c tt-budget -l scope -d 'The ad-hoc budget\'s scope, FIELD=VALUE (repeatable): agent=ATLAS, tag:team=web' -r
complete -c tt-budget -l warn-at -d 'The ad-hoc budget\'s thresholds, comma-separated fractions or percentages [default: 0.5,0.8,0.95]' -r
complete -c tt-budget -l name -d 'The ad-hoc budget\'s name' -r
complete -c tt-budget -l tz -d 'Time zone for budget windows (IANA name) [default: config `tz`, else UTC]' -r
complete -c tt-budget -l today -d 'Pretend today is this date (the day counts as fully elapsed), for reproducible reports' -r
complete -c tt-budget -l format -d 'Output format: table, json, jsonl, csv, markdown [default: table on a terminal, else jsonl]' -r -f -a "table\t''
json\t''
jsonl\t''
csv\t''
markdown\t''"
complete -c tt-budget -l width -d 'Fit the gauges to N columns [default: COLUMNS, else the terminal\'s width, else 80]' -r
complete -c tt-budget -l ttl -d 'How long an unsettled reservation holds [default: config `reservation_ttl`, else 1h]' -r
complete -c tt-budget -l release -d 'Free a reservation early (it no longer holds its amount)' -r
complete -c tt-budget -l config -d 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG' -r -F
complete -c tt-budget -l log -d 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin' -r -F
complete -c tt-budget -l fail-over -d 'Exit 1 when any budget is over its limit'
complete -c tt-budget -l fail-projected -d 'Exit 1 when a forecast to the end of the window exceeds a limit (day, week, month and year budgets)'
complete -c tt-budget -l github -d 'Emit GitHub Actions annotations and a job summary (automatic when GITHUB_ACTIONS=true)'
complete -c tt-budget -l csv-exact -d 'With --format csv: write every value exactly as it is, for databases and scripts (DuckDB, PostgreSQL \\copy). By default a text cell that a spreadsheet would run as a formula (starting, after blanks, with =, +, -, @, or with a tab or CR) gets a leading \' — which changes the value for a database (-home-dev-proj0 would load as \'-home-dev-proj0). Never open exact CSV from an untrusted log in a spreadsheet.'
complete -c tt-budget -s v -l verbose -d 'With an estimate that fits: print the report too, not only the one-line "go"'
complete -c tt-budget -l chart -d 'Draw a gauge per budget below the table, also when stdout is not a terminal (on one they are drawn anyway)'
complete -c tt-budget -l ascii -d 'With the gauges: ASCII only (#, ., |, !), whatever the locale'
complete -c tt-budget -l brief -d 'Under a gate that passes: one line on stderr (`ok: …`, with the most used budget) instead of the report; a gate that fails still prints the report and why'
complete -c tt-budget -l reserve -d 'With --estimate-*: check and hold the estimate atomically (under the log\'s lock) when it fits, and print the reservation\'s id; log the real usage with `tt-log --settle ID …`'
complete -c tt-budget -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tt-budget -s V -l version -d 'Print version'
