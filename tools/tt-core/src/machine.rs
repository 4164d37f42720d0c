//! Facts about where a record is logged: git branch and commit, host, user — read cheaply, no subprocesses.
//!
//! `tt-log` runs once per request in build scripts, so it must start and finish in a few milliseconds: the git
//! facts are read straight from `.git/HEAD` and the ref files rather than by spawning `git`.

use std::path::{Path, PathBuf};

/// Git branch (None when detached) and commit of the repository containing `dir`.
pub fn git_info(dir: &Path) -> (Option<String>, Option<String>) {
    let h = head(dir);
    (h.branch, h.commit)
}

/// What `.git/HEAD` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// The checked-out branch; `None` when detached or outside a repository.
    pub branch: Option<String>,
    /// The commit HEAD is at.
    pub commit: Option<String>,
    /// HEAD is a commit, not a branch: how CI checks out a pull request (GitHub Actions checks out the merge
    /// commit), a tag or a single commit.
    pub detached: bool,
}

/// HEAD of the repository containing `dir` (all `None` outside one).
pub fn head(dir: &Path) -> Head {
    let Some(git_dir) = find_git_dir(dir) else { return Head::default() };
    let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD")) else { return Head::default() };
    let head = head.trim();
    if let Some(r) = head.strip_prefix("ref: ") {
        let branch = r.strip_prefix("refs/heads/").unwrap_or(r).to_string();
        let commit = resolve_ref(&git_dir, r);
        Head { branch: Some(branch), commit, detached: false }
    } else if head.len() >= 40 && head.bytes().all(|b| b.is_ascii_hexdigit()) {
        Head { branch: None, commit: Some(head.to_string()), detached: true }
    } else {
        Head::default()
    }
}

/// The CI variables that name the branch a detached HEAD was built for, in the order they are trusted:
/// `GITHUB_HEAD_REF` is a pull request's source branch (on a pull request `GITHUB_REF_NAME` is `142/merge`),
/// `GITHUB_REF_NAME` the branch or tag of any other GitHub Actions run, `CI_COMMIT_REF_NAME` GitLab's.
pub const CI_BRANCH_VARS: [&str; 3] = ["GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"];

/// The branch of `head`: its own, or on a detached HEAD the one the CI names (see [`CI_BRANCH_VARS`]; empty
/// values do not count). Outside a repository there is none. (`TT_BRANCH`, the user's own word, is applied
/// by the tool before it reads git at all.)
pub fn branch(head: &Head) -> Option<String> {
    branch_with(head, |k| std::env::var(k).ok())
}

fn branch_with(head: &Head, var: impl Fn(&str) -> Option<String>) -> Option<String> {
    if !head.detached {
        return head.branch.clone();
    }
    CI_BRANCH_VARS.iter().find_map(|k| var(k).filter(|v| !v.trim().is_empty()))
}

fn find_git_dir(start: &Path) -> Option<PathBuf> {
    let mut d = Some(start);
    while let Some(cur) = d {
        let g = cur.join(".git");
        if g.is_dir() {
            return Some(g);
        }
        if g.is_file() {
            // A worktree or submodule: `.git` is a file holding `gitdir: PATH`.
            let text = std::fs::read_to_string(&g).ok()?;
            let p = PathBuf::from(text.trim().strip_prefix("gitdir: ")?);
            return Some(if p.is_relative() { cur.join(p) } else { p });
        }
        d = cur.parent();
    }
    None
}

fn resolve_ref(git_dir: &Path, r: &str) -> Option<String> {
    // Worktrees keep HEAD locally but refs in the common dir.
    let common = std::fs::read_to_string(git_dir.join("commondir"))
        .ok()
        .map(|c| git_dir.join(c.trim()))
        .unwrap_or_else(|| git_dir.to_path_buf());
    for dir in [git_dir, common.as_path()] {
        if let Ok(s) = std::fs::read_to_string(dir.join(r)) {
            let s = s.trim();
            if !s.is_empty() {
                return Some(s.to_string());
            }
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (hash, name) = l.split_once(' ')?;
        (name == r).then(|| hash.to_string())
    })
}

/// The host name (kernel's, no subprocess).
pub fn host() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
}

/// The user name: `$USER`, else `$LOGNAME`, else the name of the process's uid in `/etc/passwd` (cron and
/// some CI runners set neither variable). No subprocess; `None` when nothing names the user.
pub fn user() -> Option<String> {
    std::env::var("USER")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("LOGNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| passwd_name(current_uid()?, &std::fs::read_to_string("/etc/passwd").ok()?))
}

/// The uid this process runs as: the owner of `/proc/self` (Linux), without `unsafe` or libc.
fn current_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The name of `uid` in passwd(5) text (`name:x:uid:gid:…`).
fn passwd_name(uid: u32, passwd: &str) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

/// Where an XDG base directory is: `$var` when it is an absolute path, else `$HOME/fallback`.
pub fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() && Path::new(&v).is_absolute() => Some(PathBuf::from(v)),
        _ => std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(fallback)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detached_head_takes_the_branch_ci_names() {
        let vars = |set: &'static [(&'static str, &'static str)]| {
            move |k: &str| set.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let detached = Head { branch: None, commit: Some("a".repeat(40)), detached: true };
        let on_main = Head { branch: Some("main".into()), commit: None, detached: false };
        let all =
            vars(&[("GITHUB_HEAD_REF", "feature"), ("GITHUB_REF_NAME", "142/merge"), ("CI_COMMIT_REF_NAME", "gl")]);
        assert_eq!(branch_with(&detached, all).as_deref(), Some("feature"));
        assert_eq!(branch_with(&on_main, all).as_deref(), Some("main"));
        assert_eq!(branch_with(&Head::default(), all), None);
        let empty_head_ref =
            vars(&[("GITHUB_HEAD_REF", ""), ("GITHUB_REF_NAME", "main"), ("CI_COMMIT_REF_NAME", "gl")]);
        assert_eq!(branch_with(&detached, empty_head_ref).as_deref(), Some("main"));
        assert_eq!(branch_with(&detached, vars(&[("CI_COMMIT_REF_NAME", "gl")])).as_deref(), Some("gl"));
        assert_eq!(branch_with(&detached, vars(&[])), None);
    }

    #[test]
    fn passwd_lookup() {
        let text = "root:x:0:0:root:/root:/bin/bash\n# comment\nci:x:1001:1001::/home/ci:/bin/sh\n";
        assert_eq!(passwd_name(1001, text).as_deref(), Some("ci"));
        assert_eq!(passwd_name(0, text).as_deref(), Some("root"));
        assert_eq!(passwd_name(7, text), None);
    }
}
