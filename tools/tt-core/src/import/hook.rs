//! A Claude Code hook's input: the JSON Claude Code writes on the hook's stdin (`tt-log --import claude-code -`
//! from a `Stop`, `SubagentStop` or `SessionEnd` hook) names the transcript to import and says which of its
//! writers are done.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The `-` path: a Claude Code hook's JSON on stdin, which names the session's transcript in `transcript_path`
/// (the files to import: it, and its `subagents/`). `hook_event_name` says what is complete (`finished`):
/// at `Stop` the main thread's turn is over, so the session's transcript is; at `SessionEnd` the session and its
/// subagents' files are; at `SubagentStop` one subagent's own transcript (`agent_transcript_path`, imported too
/// when it is not among the session's) — never the session's, whose main thread and other subagents go on.
/// Any other event, or none, completes nothing: the usual rules decide.
pub fn paths(text: &str, finished: &mut super::Finished) -> Result<Vec<PathBuf>> {
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::data(format!("<stdin>: {}", crate::record::json_error_message(&e))))?;
    let field = |k: &str| doc.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(PathBuf::from);
    let transcript =
        field("transcript_path").ok_or_else(|| Error::data("<stdin>: no `transcript_path` in the hook input"))?;
    let mut paths = vec![transcript.clone()];
    match doc.get("hook_event_name").and_then(|v| v.as_str()) {
        Some("Stop") => finished.files.push(transcript),
        Some("SessionEnd") => finished.sessions.push(transcript),
        Some("SubagentStop") => {
            if let Some(agent) = field("agent_transcript_path") {
                finished.files.push(agent.clone());
                if agent.is_file() {
                    paths.push(agent);
                }
            }
        }
        _ => {}
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_completes_what_it_ends() {
        let mut f = super::super::Finished::default();
        let p = paths(r#"{"transcript_path":"/t/s.jsonl","hook_event_name":"Stop"}"#, &mut f).unwrap();
        assert_eq!((p, f.files.len(), f.sessions.len()), (vec![PathBuf::from("/t/s.jsonl")], 1, 0));
        let mut f = super::super::Finished::default();
        paths(r#"{"transcript_path":"/t/s.jsonl","hook_event_name":"SessionEnd"}"#, &mut f).unwrap();
        assert_eq!((f.files.len(), f.sessions.len()), (0, 1));
        let mut f = super::super::Finished::default();
        paths(r#"{"transcript_path":"/t/s.jsonl","hook_event_name":"PreToolUse"}"#, &mut f).unwrap();
        assert_eq!((f.files.len(), f.sessions.len()), (0, 0));
        let e = paths(r#"{"session_id":"s"}"#, &mut f).unwrap_err();
        assert_eq!(e.message(), "<stdin>: no `transcript_path` in the hook input");
    }
}
