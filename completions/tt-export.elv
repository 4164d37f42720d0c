
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
            cand -f 'csv (RFC 4180, header row), json (one report document), jsonl, markdown (the weekly team report) or prometheus (text exposition for node_exporter''s textfile collector) [default: jsonl]'
            cand --format 'csv (RFC 4180, header row), json (one report document), jsonl, markdown (the weekly team report) or prometheus (text exposition for node_exporter''s textfile collector) [default: jsonl]'
            cand -o 'Write to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename)'
            cand --output 'Write to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename)'
            cand --period 'Only records in this window: today, yesterday, week, last-week, month, last-month, year, all [default: all; markdown: week]'
            cand --since 'Only records at or after this time (a date, a local date-time, or RFC 3339)'
            cand --until 'Only records before this time; a date includes that whole day'
            cand --tz 'Time zone for dates and periods (IANA name) [default: config `tz`]'
            cand --today 'Take this date as today, for reproducible reports (periods and budget windows)'
            cand --agent 'Only this agent (repeatable)'
            cand --model 'Only this model (repeatable; aliases match, so sonnet-4.5 selects claude-sonnet-4-5-20250929)'
            cand --where 'Only records whose FIELD is VALUE (repeatable): project=api, tag:team=infra, host=laptop …'
            cand --config 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG'
            cand --log 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]'
            cand --bundle 'Write a portable bundle: a metadata line (who, where, when, filter, count, SHA-256) and the records'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
