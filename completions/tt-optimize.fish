complete -c tt-optimize -l format -d 'Output format [default: table on a terminal, jsonl in a pipe]' -r -f -a "table\t''
json\t''
jsonl\t''
markdown\t''"
complete -c tt-optimize -l min-saving -d 'Hide suggestions saving less than this many dollars (`5`, `0.16` or `$0.16`; advice without a saving is kept)' -r
complete -c tt-optimize -l type -d 'Only these suggestion types (comma-separated): rightsize, caching, outlier, session_outlier, budget' -r -f -a "rightsize\t''
caching\t''
outlier\t''
session_outlier\t''
budget\t''"
complete -c tt-optimize -l tasks -d 'How many of the most expensive tasks to list' -r
complete -c tt-optimize -l period -d 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; tt-export\'s markdown report: week]' -r -f -a "today\t''
yesterday\t''
week\t''
last-week\t''
month\t''
last-month\t''
year\t''
all\t''"
complete -c tt-optimize -l since -d 'Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339)' -r
complete -c tt-optimize -l until -d 'Only records up to this date (inclusive), or before this time' -r
complete -c tt-optimize -l tz -d 'Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC]' -r
complete -c tt-optimize -l today -d 'Take this date (or time) as today, for reproducible reports and forecasts' -r
complete -c tt-optimize -l config -d 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG' -r -F
complete -c tt-optimize -l log -d 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin' -r -F
complete -c tt-optimize -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tt-optimize -s V -l version -d 'Print version'
