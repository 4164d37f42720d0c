
use builtin;
use str;

set edit:completion:arg-completer[tt-optimize] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tt-optimize'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tt-optimize'= {
            cand --format 'Output format [default: table on a terminal, jsonl in a pipe]'
            cand --min-saving 'Hide suggestions saving less than this many dollars (`5`, `0.16` or `$0.16`; advice without a saving is kept)'
            cand --type 'Only these suggestion types (comma-separated): rightsize, caching, outlier, session_outlier, budget'
            cand --tasks 'How many of the most expensive tasks to list'
            cand --period 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; tt-export''s markdown report: week]'
            cand --since 'Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339)'
            cand --until 'Only records up to this date (inclusive), or before this time'
            cand --tz 'Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC]'
            cand --today 'Take this date (or time) as today, for reproducible reports and forecasts'
            cand --config 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG'
            cand --log 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
