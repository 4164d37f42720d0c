complete -c tt-log -l agent -d 'Agent name [env: TT_AGENT]' -r
complete -c tt-log -l model -d 'Model name or alias [env: TT_MODEL]' -r
complete -c tt-log -l input -d 'Uncached input tokens' -r
complete -c tt-log -l output -d 'Output tokens (reasoning included)' -r
complete -c tt-log -l cache-read -d 'Prompt-cache read tokens' -r
complete -c tt-log -l cache-write -d 'Prompt-cache write tokens (5-minute cache)' -r
complete -c tt-log -l cache-write-1h -d 'Prompt-cache write tokens (1-hour cache)' -r
complete -c tt-log -l reasoning -d 'Reasoning tokens (informational: already counted in output)' -r
complete -c tt-log -l session -d 'Session id [env: TT_SESSION]' -r
complete -c tt-log -l task -d 'Task name [env: TT_TASK]' -r
complete -c tt-log -l project -d 'Project name [env: TT_PROJECT]' -r
complete -c tt-log -l provider -d 'Provider (default: the price table\'s provider for the model)' -r
complete -c tt-log -l branch -d 'Git branch [env: TT_BRANCH] (default: read from the repository in the current directory; on a detached HEAD, from CI: GITHUB_HEAD_REF, GITHUB_REF_NAME, CI_COMMIT_REF_NAME)' -r
complete -c tt-log -l commit -d 'Git commit (default: read from the repository in the current directory)' -r
complete -c tt-log -l tag -d 'A label, KEY=VALUE (repeatable)' -r
complete -c tt-log -l note -d 'A note' -r
complete -c tt-log -l duration -d 'Wall time of the request: milliseconds, or with a unit (250ms, 1.5s, 2m)' -r
complete -c tt-log -l ts -d 'When it happened: RFC 3339, or a date / date-time in the configured time zone, as tt-sum --since takes them; 2000 or later [default: now]' -r
complete -c tt-log -l source -d 'Where the numbers came from [default: cli, or the provider with --from]' -r
complete -c tt-log -l from -d 'Read a provider API response from stdin: the response, its bare usage object, or a captured stream as a JSON array of events (one response: a capture of several is refused). bedrock: Converse (the model from --model); xai: chat reasoning counted on top of completion tokens; openrouter: cache writes, and its usage.cost kept as provider_cost_usd (a warning when tt\'s price differs by more than 1%); azure: Azure OpenAI. Service tier, fast mode, server-tool calls and Anthropic\'s iterations are priced' -r -f -a "anthropic\t''
openai\t''
gemini\t''
bedrock\t''
xai\t''
openrouter\t''
azure\t''"
complete -c tt-log -l estimate-from -d 'Estimate input tokens from a text file (or - for stdin) at about 4 characters a token' -r
complete -c tt-log -l import -d 'Import usage instead of logging one record: `claude-code [DIR…]` or `codex [DIR]` transcripts, or tt JSONL logs / bundles (`FILE…`). Idempotent: records already in the log are skipped. One that takes more than about a second shows a progress bar on a terminal\'s stderr (not under CI, not with --quiet)' -r -f -a "claude-code\t''
codex\t''"
complete -c tt-log -l settle -d 'The real usage of a reservation (`tt-budget --estimate-usd X --reserve` printed ID): the record carries it and replaces the hold in the same append' -r
complete -c tt-log -l config -d 'Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml and $TT_CONFIG' -r -F
complete -c tt-log -l log -d 'The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a tool reading records reads it and never stdin' -r -F
complete -c tt-log -l strict -d 'Refuse a record of an unknown model (exit 2, nothing appended) instead of logging it unpriced; either way a name one edit from a known one gets a "did you mean" hint'
complete -c tt-log -l print -d 'Also write the appended record to stdout'
complete -c tt-log -l dry-run -d 'Validate and print the record, but append nothing (with --import FILE: report and print the records that would be added)'
complete -c tt-log -l finished -d 'With --import of transcripts: their sessions are over (a copy, an archive, a backup, whose fresh mtimes say nothing), so no request is held back as still being written. Not for live sessions: a request still streaming would be logged with the tokens it has so far, and its final count dropped as a duplicate'
complete -c tt-log -l enforce -d 'Refuse the record (exit 1, nothing appended) if it would push a configured budget over its limit'
complete -c tt-log -l repair -d 'Move the lines the readers refuse (invalid JSON, a block of NULs left by a crash, a half line) out of the log into `<log>.rejected`, each after a `# line N …` comment, byte for byte; valid lines keep their bytes and order. The one command that rewrites the log (under its lock). With --dry-run: list them, change nothing'
complete -c tt-log -l push-spool -d 'Push the records this machine kept in its spool while the ledger (the log) was out of reach, and log nothing (the next write to the ledger pushes them too)'
complete -c tt-log -s q -l quiet -d 'No confirmation on stderr (with --import: no summary line and no progress bar)'
complete -c tt-log -l no-git -d 'Do not read git branch and commit from the current directory'
complete -c tt-log -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tt-log -s V -l version -d 'Print version'
