
use builtin;
use str;

set edit:completion:arg-completer[tt-export] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tt-export'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tt-export'= {
            cand -f 'csv (RFC 4180, header row), json (one report document), jsonl, markdown (the weekly team report), html (the report as one self-contained page: spend over time by model and agent, budget gauges with their forecast, top sessions and tasks, tt-optimize''s suggestions) or prometheus (text exposition for node_exporter''s textfile collector) [default: jsonl]'
            cand --format 'csv (RFC 4180, header row), json (one report document), jsonl, markdown (the weekly team report), html (the report as one self-contained page: spend over time by model and agent, budget gauges with their forecast, top sessions and tasks, tt-optimize''s suggestions) or prometheus (text exposition for node_exporter''s textfile collector) [default: jsonl]'
            cand --to 'Push the records to a team ledger (a `postgresql://` URI) instead of writing them: the ones it lacks are added, in batches each committed on its own, so an interrupted push keeps what it sent and a re-run adds only the rest. The filters select what is pushed; records go as logged. A progress bar on a terminal; `pushed N records to LEDGER (M already there)` at the end'
            cand -o 'Write to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename)'
            cand --output 'Write to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename)'
            cand --agent 'Only this agent (repeatable)'
            cand --model 'Only this model (repeatable; aliases match, so sonnet-4.5 selects claude-sonnet-4-5-20250929)'
            cand --where 'Only records whose FIELD is VALUE (repeatable): project=api, tag:team=infra, host=laptop …'
            cand --period 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; tt-export''s markdown report: week]'
            cand --since 'Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339)'
            cand --until 'Only records up to this date (inclusive), or before this time'
            cand --tz 'Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC]'
            cand --today 'Take this date (or time) as today, for reproducible reports and forecasts'
            cand --config 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG'
            cand --log 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin'
            cand --csv-exact 'With --format csv: write every value exactly as it is, for databases and scripts (DuckDB, PostgreSQL \copy). By default a text cell that a spreadsheet would run as a formula (starting, after blanks, with =, +, -, @, or with a tab or CR) gets a leading '' — which changes the value for a database (-home-dev-proj0 would load as ''-home-dev-proj0). Never open exact CSV from an untrusted log in a spreadsheet.'
            cand --bundle 'Write a portable bundle: a metadata line (who, where, when, filter, count, SHA-256) and the records'
            cand -q 'No progress bar (and with --to, no summary line); warnings and errors still print'
            cand --quiet 'No progress bar (and with --to, no summary line); warnings and errors still print'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
