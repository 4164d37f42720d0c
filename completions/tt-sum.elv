
use builtin;
use str;

set edit:completion:arg-completer[tt-sum] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tt-sum'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tt-sum'= {
            cand --by 'Group by these keys, comma-separated: agent, model, provider, session, task, project, branch, host, user, commit, source, tag:KEY, hour, day, week, month'
            cand --format 'Output format: table, json, jsonl, csv, markdown [default: table on a terminal, else jsonl]'
            cand --sort 'Order of the groups: cost, tokens (both largest first) or name [default: name when grouping by time, else cost]'
            cand --top 'Only the first N groups (the total still covers every group; a chart still shows every group)'
            cand --chart 'Draw a bar chart of dollars (usd) or tokens per calendar bucket of --by instead of the table (see Charts below) [default: usd; --by day]'
            cand --width 'With --chart: fit the chart to N columns [default: COLUMNS, else the terminal''s width, else 80]'
            cand --period 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; tt-export''s markdown report: week]'
            cand --since 'Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339)'
            cand --until 'Only records up to this date (inclusive), or before this time'
            cand --tz 'Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC]'
            cand --today 'Take this date (or time) as today, for reproducible reports and forecasts'
            cand --config 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG'
            cand --log 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin'
            cand --csv-exact 'With --format csv: write every value exactly as it is, for databases and scripts (DuckDB, PostgreSQL \copy). By default a text cell that a spreadsheet would run as a formula (starting, after blanks, with =, +, -, @, or with a tab or CR) gets a leading '' — which changes the value for a database (-home-dev-proj0 would load as ''-home-dev-proj0). Never open exact CSV from an untrusted log in a spreadsheet.'
            cand --ascii 'With --chart: ASCII only (#, |, :), whatever the locale'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
