
use builtin;
use str;

set edit:completion:arg-completer[tt-price] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tt-price'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tt-price'= {
            cand --quote 'Quote the cost of MODEL with INPUT and OUTPUT tokens'
            cand --cache-read 'With --quote: prompt-cache read tokens'
            cand --cache-write 'With --quote: 5-minute cache write tokens'
            cand --cache-write-1h 'With --quote: 1-hour cache write tokens'
            cand --at 'With --quote: price at this time instead of now (RFC 3339, or a date / date-time in the configured time zone)'
            cand --service-tier 'With --quote: the service tier (standard, batch, flex, priority)'
            cand --web-searches 'With --quote: server-side web searches'
            cand --import-litellm 'Convert LiteLLM''s model_prices_and_context_window.json to tt''s TOML on stdout'
            cand --diff 'Show which models and prices LiteLLM''s FILE would add or change if its conversion were loaded over the current price table'
            cand --provider 'With --import-litellm or --diff: only these providers (comma-separated LiteLLM provider names)'
            cand --format 'Output format: --list: table|json|jsonl|toml; --quote: table|json|jsonl|value; --missing and --diff: table|json|jsonl|csv|markdown (json: one document, jsonl: one object a line) [default: table on a terminal, else jsonl]. The filter always writes JSONL records'
            cand --config 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG'
            cand --log 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin'
            cand --reprice 'Price every record again, replacing existing costs'
            cand --fast 'With --quote: fast mode (`speed: "fast"`)'
            cand --list 'Show the effective price table: the config''s entries and the aliased catalogue models (--all: every model of the built-in LiteLLM catalogue too)'
            cand --all 'With --list: every model of the built-in catalogue, not only the config''s'
            cand --update 'With --import-litellm: merge the prices that differ from the built-in table into your config file (--config PATH, else ~/.config/tt/config.toml), in one block each update rewrites; models the file prices by hand are left alone'
            cand --zero-is-free 'With --import-litellm or --diff: entries priced 0 for input and output are free (by default they are unknown: skipped, so their records stay unpriced rather than $0)'
            cand --missing 'List the models of records that have no cost and that the price table does not know'
            cand --fail-missing 'With --missing: exit 1 when some model has no price (a CI check)'
            cand --strict 'Filter: refuse records of unknown models instead of passing them through unpriced'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
