complete -c tt-export -s f -l format -d 'csv (RFC 4180, header row), json (one report document), jsonl, markdown (the weekly team report), html (the report as one self-contained page: spend over time by model and agent, budget gauges with their forecast, top sessions and tasks, tt-optimize\'s suggestions) or prometheus (text exposition for node_exporter\'s textfile collector) [default: jsonl]' -r -f -a "csv\t''
json\t''
jsonl\t''
ndjson\t''
markdown\t''
md\t''
html\t''
prometheus\t''"
complete -c tt-export -l to -d 'Push the records to a team ledger (a `postgresql://` URI) instead of writing them: the ones it lacks are added, in batches each committed on its own, so an interrupted push keeps what it sent and a re-run adds only the rest. The filters select what is pushed; records go as logged. A progress bar on a terminal; `pushed N records to LEDGER (M already there)` at the end' -r
complete -c tt-export -s o -l output -d 'Write to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename)' -r -F
complete -c tt-export -l agent -d 'Only this agent (repeatable)' -r
complete -c tt-export -l model -d 'Only this model (repeatable; aliases match, so sonnet-4.5 selects claude-sonnet-4-5-20250929)' -r
complete -c tt-export -l where -d 'Only records whose FIELD is VALUE (repeatable): project=api, tag:team=infra, host=laptop …' -r
complete -c tt-export -l period -d 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; tt-export\'s markdown report: week]' -r -f -a "today\t''
yesterday\t''
week\t''
last-week\t''
month\t''
last-month\t''
year\t''
all\t''"
complete -c tt-export -l since -d 'Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339)' -r
complete -c tt-export -l until -d 'Only records up to this date (inclusive), or before this time' -r
complete -c tt-export -l tz -d 'Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC]' -r
complete -c tt-export -l today -d 'Take this date (or time) as today, for reproducible reports and forecasts' -r
complete -c tt-export -l config -d 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG' -r -F
complete -c tt-export -l log -d 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin' -r -F
complete -c tt-export -l csv-exact -d 'With --format csv: write every value exactly as it is, for databases and scripts (DuckDB, PostgreSQL \\copy). By default a text cell that a spreadsheet would run as a formula (starting, after blanks, with =, +, -, @, or with a tab or CR) gets a leading \' — which changes the value for a database (-home-dev-proj0 would load as \'-home-dev-proj0). Never open exact CSV from an untrusted log in a spreadsheet.'
complete -c tt-export -l bundle -d 'Write a portable bundle: a metadata line (who, where, when, filter, count, SHA-256) and the records'
complete -c tt-export -s q -l quiet -d 'No progress bar (and with --to, no summary line); warnings and errors still print'
complete -c tt-export -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tt-export -s V -l version -d 'Print version'
