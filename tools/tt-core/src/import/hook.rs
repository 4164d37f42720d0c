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

/// The paths of `tt-log --import SOURCE PATH…`, each as given but `-`: a hook's input, read with `stdin`, that
/// stands for the transcripts it names ([`paths`]); what it says is complete is the returned
/// [`super::Finished`].
pub fn resolve<'a>(
    args: impl IntoIterator<Item = &'a str>,
    stdin: &mut dyn FnMut() -> Result<String>,
) -> Result<(Vec<PathBuf>, super::Finished)> {
    let mut finished = super::Finished::default();
    let mut resolved = Vec::new();
    for a in args {
        if a == "-" {
            resolved.extend(paths(&stdin()?, &mut finished)?);
        } else {
            resolved.push(PathBuf::from(a));
        }
    }
    Ok((resolved, finished))
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

    /// Paths are kept as given, in order; `-` is replaced by what the hook's input names.
    #[test]
    fn dash_is_the_hook_input() {
        let hook = r#"{"transcript_path":"/t/s.jsonl","hook_event_name":"Stop"}"#;
        let (p, f) = resolve(["a", "-", "b/c"], &mut || Ok(hook.to_string())).unwrap();
        assert_eq!(p, ["a", "/t/s.jsonl", "b/c"].map(PathBuf::from));
        assert_eq!(f.files, [PathBuf::from("/t/s.jsonl")]);
        let (p, f) = resolve(["x"], &mut || panic!("stdin read for no `-`")).unwrap();
        assert_eq!((p, f.files.len()), (vec![PathBuf::from("x")], 0));
    }
}
