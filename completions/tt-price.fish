complete -c tt-price -l quote -d 'Quote the cost of MODEL with INPUT and OUTPUT tokens' -r
complete -c tt-price -l cache-read -d 'With --quote: prompt-cache read tokens' -r
complete -c tt-price -l cache-write -d 'With --quote: 5-minute cache write tokens' -r
complete -c tt-price -l cache-write-1h -d 'With --quote: 1-hour cache write tokens' -r
complete -c tt-price -l at -d 'With --quote: price at this time instead of now (RFC 3339, or a date / date-time in the configured time zone)' -r
complete -c tt-price -l service-tier -d 'With --quote: the service tier (standard, batch, flex, priority)' -r -f -a "standard\t''
batch\t''
flex\t''
priority\t''"
complete -c tt-price -l web-searches -d 'With --quote: server-side web searches' -r
complete -c tt-price -l import-litellm -d 'Convert LiteLLM\'s model_prices_and_context_window.json to tt\'s TOML on stdout' -r
complete -c tt-price -l diff -d 'Show which models and prices LiteLLM\'s FILE would add or change if its conversion were loaded over the current price table' -r
complete -c tt-price -l provider -d 'With --import-litellm or --diff: only these providers (comma-separated LiteLLM provider names)' -r
complete -c tt-price -l format -d 'Output format: --list: table|json|jsonl|toml; --quote: table|json|jsonl|value; --missing and --diff: table|json|jsonl|csv|markdown (json: one document, jsonl: one object a line) [default: table on a terminal, else jsonl]. The filter always writes JSONL records' -r -f -a "table\t''
json\t''
jsonl\t''
csv\t''
markdown\t''
toml\t''
value\t''"
complete -c tt-price -l config -d 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG' -r -F
complete -c tt-price -l log -d 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin' -r -F
complete -c tt-price -l reprice -d 'Price every record again, replacing existing costs'
complete -c tt-price -l fast -d 'With --quote: fast mode (`speed: "fast"`)'
complete -c tt-price -l list -d 'Show the effective price table: the config\'s entries and the aliased catalogue models (--all: every model of the built-in LiteLLM catalogue too)'
complete -c tt-price -l all -d 'With --list: every model of the built-in catalogue, not only the config\'s'
complete -c tt-price -l update -d 'With --import-litellm: merge the prices that differ from the built-in table into your config file (--config PATH, else ~/.config/tt/config.toml), in one block each update rewrites; models the file prices by hand are left alone'
complete -c tt-price -l zero-is-free -d 'With --import-litellm or --diff: entries priced 0 for input and output are free (by default they are unknown: skipped, so their records stay unpriced rather than $0)'
complete -c tt-price -l missing -d 'List the models of records that have no cost and that the price table does not know'
complete -c tt-price -l fail-missing -d 'With --missing: exit 1 when some model has no price (a CI check)'
complete -c tt-price -l strict -d 'Filter: refuse records of unknown models instead of passing them through unpriced'
complete -c tt-price -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tt-price -s V -l version -d 'Print version'
