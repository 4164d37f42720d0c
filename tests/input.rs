//! Where the readers take records from: file arguments (`-` is stdin), else `--log` (stdin never read), else
//! stdin when it has data, else the default log. The case that matters: a tool run inside a shell loop that
//! reads its own input (`while read task; do tt-sum --log "$L"; done < tasks.txt`) has the loop's file on its
//! stdin, which is not records and must not be eaten.
mod common;
use common::*;

/// Two records, as tt-log writes them (no host or user, so the outputs below are the same on every machine).
const TEAM: &str = r#"{"v":1,"id":"01a19bb3-9500-7135-bcbc-1b9ce5810c40","ts":"2026-11-02T10:00:00.000Z","agent":"ATLAS","model":"sonnet-4.5","provider":"anthropic","input_tokens":50000,"output_tokens":15000,"source":"cli","cost_usd":0.375,"price":"claude-sonnet-4-5"}
{"v":1,"id":"01a1a0d9-f100-7401-96f5-52bb844c93a4","ts":"2026-11-03T10:00:00.000Z","agent":"BOB","model":"gpt-4o","provider":"openai","input_tokens":1000,"output_tokens":200,"source":"cli","cost_usd":0.0045,"price":"gpt-4o"}
"#;

const SUM_CSV: &str = "\
kind,period,start,end,agent,records,sessions,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced_records,omitted_groups
group,all,,,ATLAS,1,0,50000,15000,0,0,65000,0.375,0,
group,all,,,BOB,1,0,1000,200,0,0,1200,0.0045,0,
total,all,,,,2,0,51000,15200,0,0,66200,0.3795,0,0
";

const EXPORT_CSV: &str = "\
id,ts,agent,model,provider,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cache_write_1h_tokens,reasoning_tokens,total_tokens,cost_usd,price,session,task,project,branch,commit,host,user,duration_ms,source,estimated,notes,tags
01a19bb3-9500-7135-bcbc-1b9ce5810c40,2026-11-02T10:00:00.000Z,ATLAS,sonnet-4.5,anthropic,50000,15000,0,0,0,,65000,0.375,claude-sonnet-4-5,,,,,,,,,cli,,,
01a1a0d9-f100-7401-96f5-52bb844c93a4,2026-11-03T10:00:00.000Z,BOB,gpt-4o,openai,1000,200,0,0,0,,1200,0.0045,gpt-4o,,,,,,,,,cli,,,
";

const OPTIMIZE_TOTAL: &str = "{\"kind\":\"total\",\"window\":{\"period\":\"all\",\"start\":null,\"end\":null},\"records\":2,\"unpriced_records\":0,\"suggestions\":0}\n";

const BUDGET_CSV: &str = "\
name,period,scope,window_start,window_end,session,spent_usd,spent_tokens,unpriced_records,limit_usd,limit_tokens,remaining_usd,remaining_tokens,percent,level,projected_usd,projected_tokens,limit_date
ad-hoc,total,,,,,0.3795,66200,0,100,,99.6205,,0.37,ok,,,
";

/// A scenario with the team log (not the scenario's TT_LOG, which stays empty) and a three-line task list.
fn looped() -> Scenario {
    let sc = Scenario::new();
    sc.write("team.jsonl", TEAM);
    sc.write("tasks.txt", "review\nrefactor\nrelease\n");
    sc
}

/// What the loop prints for each task: `== TASK` and then `each` (the tools' outputs for that iteration).
fn per_task(each: &str) -> String {
    ["review", "refactor", "release"].iter().map(|t| format!("== {t}\n{each}")).collect()
}

#[test]
fn explicit_log_never_reads_the_loops_stdin() {
    let sc = looped();
    // Before the fix, the first tool in the loop read tasks.txt as records (`<stdin>:1: invalid JSON`) and ate
    // the lines the loop had not read yet.
    let out = sc
        .bash(
            r#"set -euo pipefail
L="$PWD/team.jsonl"
while read -r task; do
  echo "== $task"
  tt-sum --log "$L" --by agent --format csv
  tt-export --log "$L" --format csv
  tt-price --log "$L"
  tt-optimize --log "$L" --format jsonl | tail -n 1
done < tasks.txt"#,
        )
        .succeeds();
    let price_jsonl = TEAM;
    out.stdout_is(&per_task(&format!("{SUM_CSV}{EXPORT_CSV}{price_jsonl}{OPTIMIZE_TOTAL}"))).stderr_is("");
}

/// The issue's loop, with the budget gate in it (tt-budget chooses its sources through the core's
/// `CommonArgs::sources` / `input::choose`).
#[test]
fn explicit_log_never_reads_the_loops_stdin_in_the_budget_gate() {
    let sc = looped();
    let out = sc
        .bash(
            r#"set -euo pipefail
L="$PWD/team.jsonl"
while read -r task; do
  echo "== $task"
  tt-sum --log "$L" --by agent --format csv
  tt-budget --log "$L" --limit-usd 100 --period total --fail-over --format csv
  tt-export --log "$L" --format csv
done < tasks.txt"#,
        )
        .succeeds();
    out.stdout_is(&per_task(&format!("{SUM_CSV}{BUDGET_CSV}{EXPORT_CSV}"))).stderr_is("");
}

#[test]
fn files_and_dash_still_win_over_log_and_tt_log_does_not_stop_a_pipe() {
    let sc = looped();
    // TT_LOG (set by the harness to the scenario's empty log) is not `--log`: a pipe is still read.
    let one = TEAM.lines().next().unwrap();
    sc.cmd("tt-export").args(["--format", "csv"]).pipe_in(format!("{one}\n")).succeeds().stdout_is(&format!(
        "{}\n{}\n",
        EXPORT_CSV.lines().next().unwrap(),
        EXPORT_CSV.lines().nth(1).unwrap()
    ));
    // File arguments beat --log; `-` reads stdin even with --log.
    sc.write("other.jsonl", format!("{one}\n"));
    for args in [vec!["--log", "team.jsonl", "other.jsonl"], vec!["--log", "team.jsonl", "-"]] {
        sc.cmd("tt-sum")
            .args(&args)
            .args(["--format", "csv"])
            .pipe_in(format!("{one}\n"))
            .succeeds()
            .stdout_is(
                "kind,period,start,end,records,sessions,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced_records,omitted_groups\n\
                 total,all,,,1,0,50000,15000,0,0,65000,0.375,0,0\n",
            );
    }
    // --log with data piped in: the log, not the pipe.
    sc.cmd("tt-sum")
        .args(["--log", "team.jsonl", "--by", "agent", "--format", "csv"])
        .pipe_in("not records\n")
        .succeeds()
        .stdout_is(SUM_CSV);
    // A --log that does not exist yet is an empty log, as the default one is: nothing read from the pipe.
    sc.cmd("tt-sum")
        .args(["--log", "new.jsonl", "--format", "csv"])
        .pipe_in("not records\n")
        .succeeds()
        .stdout_is(
            "kind,period,start,end,records,sessions,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced_records,omitted_groups\n\
             total,all,,,0,0,0,0,0,0,0,0,0,0\n",
        );
}
