
use builtin;
use str;

set edit:completion:arg-completer[tt-budget] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tt-budget'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tt-budget'= {
            cand --fail-at 'Exit 1 when any budget is at this level or above (info, warning, critical, over) or at this fraction of a limit (0.9 or 90%)'
            cand --estimate-usd 'Pre-task check: exit 1 if spending this many dollars more would push a budget over its limit'
            cand --estimate-tokens 'Pre-task check in tokens (priced as input tokens of --model for dollar limits)'
            cand --model 'The task''s model: prices --estimate-tokens, and budgets scoped to another model are not checked [env: TT_MODEL]'
            cand --agent 'The task''s agent: budgets scoped to another agent are not checked by the estimate [env: TT_AGENT]'
            cand --session 'The task''s session: session budgets check the estimate on top of its spend so far [env: TT_SESSION]'
            cand --task 'The task''s task name, for the estimate''s budgets [env: TT_TASK]'
            cand --project 'The task''s project, for the estimate''s budgets [env: TT_PROJECT]'
            cand --provider 'The task''s provider, for the estimate''s budgets'
            cand --branch 'The task''s git branch, for the estimate''s budgets'
            cand --tag 'The task''s tag, KEY=VALUE (repeatable), for the estimate''s budgets'
            cand --budget 'Only these configured budgets (repeatable)'
            cand --limit-usd 'An ad-hoc budget instead of the configured ones: a dollar limit'
            cand --limit-tokens 'An ad-hoc budget: a token limit'
            cand --period 'The ad-hoc budget''s period: day, week, month, year, total, session. Checked over its current window (`month` is this month, the window tt-sum --period month reports); the report windows of tt-sum''s --period (today, last-month, …) are not budget periods'
            cand --scope 'The ad-hoc budget''s scope, FIELD=VALUE (repeatable): agent=ATLAS, tag:team=web'
            cand --warn-at 'The ad-hoc budget''s thresholds, comma-separated fractions or percentages [default: 0.5,0.8,0.95]'
            cand --name 'The ad-hoc budget''s name'
            cand --tz 'Time zone for budget windows (IANA name) [default: config `tz`, else UTC]'
            cand --today 'Pretend today is this date (the day counts as fully elapsed), for reproducible reports'
            cand --format 'Output format: table, json, jsonl, csv, markdown [default: table on a terminal, else jsonl]'
            cand --width 'Fit the gauges to N columns [default: COLUMNS, else the terminal''s width, else 80]'
            cand --ttl 'How long an unsettled reservation holds [default: config `reservation_ttl`, else 1h]'
            cand --release 'Free a reservation early (it no longer holds its amount)'
            cand --config 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG'
            cand --log 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin'
            cand --fail-over 'Exit 1 when any budget is over its limit'
            cand --fail-projected 'Exit 1 when a forecast to the end of the window exceeds a limit (day, week, month and year budgets)'
            cand --github 'Emit GitHub Actions annotations and a job summary (automatic when GITHUB_ACTIONS=true)'
            cand --csv-exact 'With --format csv: write every value exactly as it is, for databases and scripts (DuckDB, PostgreSQL \copy). By default a text cell that a spreadsheet would run as a formula (starting, after blanks, with =, +, -, @, or with a tab or CR) gets a leading '' — which changes the value for a database (-home-dev-proj0 would load as ''-home-dev-proj0). Never open exact CSV from an untrusted log in a spreadsheet.'
            cand -v 'With an estimate that fits: print the report too, not only the one-line "go"'
            cand --verbose 'With an estimate that fits: print the report too, not only the one-line "go"'
            cand --chart 'Draw a gauge per budget below the table, also when stdout is not a terminal (on one they are drawn anyway)'
            cand --ascii 'With the gauges: ASCII only (#, ., |, !), whatever the locale'
            cand --brief 'Under a gate that passes: one line on stderr (`ok: …`, with the most used budget) instead of the report; a gate that fails still prints the report and why'
            cand --reserve 'With --estimate-*: check and hold the estimate atomically (under the log''s lock) when it fits, and print the reservation''s id; log the real usage with `tt-log --settle ID …`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
