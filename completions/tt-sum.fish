complete -c tt-sum -l by -d 'Group by these keys, comma-separated: agent, model, provider, session, task, project, branch, host, user, commit, source, tag:KEY, hour, day, week, month' -r -f -a "agent\t''
model\t''
provider\t''
session\t''
task\t''
project\t''
branch\t''
host\t''
user\t''
commit\t''
source\t''
hour\t''
day\t''
week\t''
month\t''"
complete -c tt-sum -l format -d 'Output format: table, json, jsonl, csv, markdown [default: table on a terminal, else jsonl]' -r -f -a "table\t''
json\t''
jsonl\t''
csv\t''
markdown\t''"
complete -c tt-sum -l sort -d 'Order of the groups: cost, tokens (both largest first) or name [default: name when grouping by time, else cost]' -r -f -a "cost\t''
tokens\t''
name\t''"
complete -c tt-sum -l top -d 'Only the first N groups (the total still covers every group; a chart still shows every group)' -r
complete -c tt-sum -l chart -d 'Draw a bar chart of dollars (usd) or tokens per calendar bucket of --by instead of the table (see Charts below) [default: usd; --by day]' -r -f -a "usd\t''
tokens\t''"
complete -c tt-sum -l width -d 'With --chart: fit the chart to N columns [default: COLUMNS, else the terminal\'s width, else 80]' -r
complete -c tt-sum -l period -d 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; tt-export\'s markdown report: week]' -r -f -a "today\t''
yesterday\t''
week\t''
last-week\t''
month\t''
last-month\t''
year\t''
all\t''"
complete -c tt-sum -l since -d 'Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339)' -r
complete -c tt-sum -l until -d 'Only records up to this date (inclusive), or before this time' -r
complete -c tt-sum -l tz -d 'Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC]' -r
complete -c tt-sum -l today -d 'Take this date (or time) as today, for reproducible reports and forecasts' -r
complete -c tt-sum -l config -d 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG' -r -F
complete -c tt-sum -l log -d 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin' -r -F
complete -c tt-sum -l csv-exact -d 'With --format csv: write every value exactly as it is, for databases and scripts (DuckDB, PostgreSQL \\copy). By default a text cell that a spreadsheet would run as a formula (starting, after blanks, with =, +, -, @, or with a tab or CR) gets a leading \' — which changes the value for a database (-home-dev-proj0 would load as \'-home-dev-proj0). Never open exact CSV from an untrusted log in a spreadsheet.'
complete -c tt-sum -l ascii -d 'With --chart: ASCII only (#, |, :), whatever the locale'
complete -c tt-sum -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tt-sum -s V -l version -d 'Print version'
