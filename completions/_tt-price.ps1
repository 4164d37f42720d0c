
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tt-price' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tt-price'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'tt-price' {
            [CompletionResult]::new('--quote', '--quote', [CompletionResultType]::ParameterName, 'Quote the cost of MODEL with INPUT and OUTPUT tokens')
            [CompletionResult]::new('--cache-read', '--cache-read', [CompletionResultType]::ParameterName, 'With --quote: prompt-cache read tokens')
            [CompletionResult]::new('--cache-write', '--cache-write', [CompletionResultType]::ParameterName, 'With --quote: 5-minute cache write tokens')
            [CompletionResult]::new('--cache-write-1h', '--cache-write-1h', [CompletionResultType]::ParameterName, 'With --quote: 1-hour cache write tokens')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'With --quote: price at this time instead of now (RFC 3339, or a date / date-time in the configured time zone)')
            [CompletionResult]::new('--service-tier', '--service-tier', [CompletionResultType]::ParameterName, 'With --quote: the service tier (standard, batch, flex, priority)')
            [CompletionResult]::new('--web-searches', '--web-searches', [CompletionResultType]::ParameterName, 'With --quote: server-side web searches')
            [CompletionResult]::new('--import-litellm', '--import-litellm', [CompletionResultType]::ParameterName, 'Convert LiteLLM''s model_prices_and_context_window.json to tt''s TOML on stdout')
            [CompletionResult]::new('--diff', '--diff', [CompletionResultType]::ParameterName, 'Show which models and prices LiteLLM''s FILE would add or change if its conversion were loaded over the current price table')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'With --import-litellm or --diff: only these providers (comma-separated LiteLLM provider names)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: --list: table|json|jsonl|toml; --quote: table|json|jsonl|value; --missing and --diff: table|json|jsonl|csv|markdown (json: one document, jsonl: one object a line) [default: table on a terminal, else jsonl]. The filter always writes JSONL records')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin')
            [CompletionResult]::new('--reprice', '--reprice', [CompletionResultType]::ParameterName, 'Price every record again, replacing existing costs')
            [CompletionResult]::new('--fast', '--fast', [CompletionResultType]::ParameterName, 'With --quote: fast mode (`speed: "fast"`)')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'Show the effective price table: the config''s entries and the aliased catalogue models (--all: every model of the built-in LiteLLM catalogue too)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'With --list: every model of the built-in catalogue, not only the config''s')
            [CompletionResult]::new('--update', '--update', [CompletionResultType]::ParameterName, 'With --import-litellm: merge the prices that differ from the built-in table into your config file (--config PATH, else ~/.config/tt/config.toml), in one block each update rewrites; models the file prices by hand are left alone')
            [CompletionResult]::new('--zero-is-free', '--zero-is-free', [CompletionResultType]::ParameterName, 'With --import-litellm or --diff: entries priced 0 for input and output are free (by default they are unknown: skipped, so their records stay unpriced rather than $0)')
            [CompletionResult]::new('--missing', '--missing', [CompletionResultType]::ParameterName, 'List the models of records that have no cost and that the price table does not know')
            [CompletionResult]::new('--fail-missing', '--fail-missing', [CompletionResultType]::ParameterName, 'With --missing: exit 1 when some model has no price (a CI check)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Filter: refuse records of unknown models instead of passing them through unpriced')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
