//! The layers of tt-core: which of its modules may use which.
//!
//! Every `crate::…` path in `tools/tt-core/src` (a `use`, or a path written inline) is an edge from the module
//! it is written in to the module it names; the check reads the source, so it needs no build of its own. Two
//! rules, the ones ARCHITECTURE.md states:
//! * no cycles between tt-core's top-level modules, and
//! * no upward use: a module uses modules of its own layer or of the layers below, per [`LAYERS`].
//!
//! What counts: the code that ships. Comments (doc links included) and string literals are not uses, and a
//! `#[cfg(test)]` item is left out — a unit test may build its fixture with a higher layer (a `Config` from
//! TOML), as a dev-dependency may in Cargo. A re-export (`pub use crate::distinct::FxMap` in `aggregate`) is an
//! edge of the module that re-exports, and a path through it (`crate::aggregate::FxMap`) is a use of the module
//! that defines the item, so an old path kept for callers neither hides nor invents an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// tt-core's modules by layer, bottom first. Each layer says what it is for; a new module must be placed here
/// (the check fails on a module it does not know), which is the point: where it goes is a decision.
const LAYERS: &[(&str, &[&str])] = &[
    // Knows no tt concept: errors and warnings, exact money, ids, the machine, files, hashes, typed values.
    ("foundations", &["error", "money", "id", "machine", "fsutil", "distinct", "args"]),
    // One record, one line, one file: parsing, reading, the locked log, writing text out.
    ("records", &["record", "input", "scan", "log", "output", "ledger", "spool", "store"]),
    // What a request costs: the built-in catalogue's lines, the price table, providers' responses.
    ("prices", &["catalogue", "price", "provider"]),
    // Time and spend, built from values (a zone, a week start, prices): windows, summary rows, budgets, and
    // the charts drawn from them.
    ("time and spend", &["period", "aggregate", "budget", "rollup", "chart"]),
    // The layered TOML, parsed into the types below (a PriceTable, Budgets): it knows them, not their rules.
    ("config", &["config"]),
    // What the tools ask for, given a Config.
    (
        "features",
        &[
            "litellm",
            "price_diff",
            "quote",
            "unpriced",
            "bundle",
            "reserve",
            "enforce",
            "answer",
            "import",
            "export",
            "report",
            "html",
            "optimize",
            "track",
            "draft",
            "github",
        ],
    ),
    // The shared main and the flags every tool takes, and what the tools draw on stderr (the progress bar).
    ("cli", &["cli", "progress"]),
];

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/tt-core/src");

#[test]
fn tt_core_has_no_cycles_and_no_upward_uses() {
    let graph = Graph::read(Path::new(SRC));
    let problems = check(&graph);
    assert!(problems.is_empty(), "tt-core's layers (tests/layers.rs):\n{}", problems.join("\n"));
}

/// The check reads what it should: the edges it must find on the current tree are there (a parser that saw
/// nothing would pass the rules above vacuously).
#[test]
fn the_reader_sees_the_known_edges() {
    let graph = Graph::read(Path::new(SRC));
    for (from, to) in [("enforce", "budget"), ("budget", "period"), ("config", "price"), ("cli", "github")] {
        assert!(graph.edges.contains_key(&(from.into(), to.into())), "{from} → {to} not found");
    }
    assert!(graph.edges.len() > 100, "only {} edges", graph.edges.len());
    // A test module in a file of its own is test code: scan's property tests use provider's mutations, which
    // is no edge of the shipped code.
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    assert!(test_module_files(&files).contains(&Path::new(SRC).join("scan/props.rs")));
    assert!(!graph.edges.contains_key(&("scan".into(), "provider".into())));
}

/// Every rule broken, as one line each: a module the table does not place, an upward use, a cycle.
fn check(graph: &Graph) -> Vec<String> {
    let layer: BTreeMap<&str, usize> =
        LAYERS.iter().enumerate().flat_map(|(i, (_, ms))| ms.iter().map(move |m| (*m, i))).collect();
    let mut problems = Vec::new();
    for m in &graph.modules {
        if !layer.contains_key(m.as_str()) {
            problems.push(format!("module `{m}` is in no layer: place it in LAYERS"));
        }
    }
    for m in layer.keys() {
        if !graph.modules.contains(*m) {
            problems.push(format!("LAYERS names `{m}`, which tt-core does not have"));
        }
    }
    for ((from, to), at) in &graph.edges {
        if let (Some(&a), Some(&b)) = (layer.get(from.as_str()), layer.get(to.as_str()))
            && b > a
        {
            problems.push(format!("upward use: `{from}` ({}) uses `{to}` ({}) at {at}", LAYERS[a].0, LAYERS[b].0));
        }
    }
    for cycle in cycles(graph) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("{} → {} ({})", w[0], w[1], graph.edges[&(w[0].clone(), w[1].clone())]))
            .collect();
        problems.push(format!("cycle: {}", steps.join(", ")));
    }
    problems
}

/// One cycle through each strongly connected group of modules, as a closed walk (`a, b, a`).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let next = |m: &str| -> Vec<&String> { graph.edges.keys().filter(|(f, _)| f == m).map(|(_, t)| t).collect() };
    let reaches = |from: &str, to: &str| -> Option<Vec<String>> {
        // Breadth first, so the cycle shown is a shortest one.
        let mut prev: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([from.to_string()]);
        while let Some(m) = queue.pop_front() {
            for n in next(&m) {
                if n == to {
                    let mut path = vec![to.to_string(), m.clone()];
                    let mut at = m;
                    while let Some(p) = prev.get(&at) {
                        path.push(p.clone());
                        at = p.clone();
                    }
                    path.reverse();
                    return Some(path);
                }
                if n != from && !prev.contains_key(n) {
                    prev.insert(n.clone(), m.clone());
                    queue.push_back(n.clone());
                }
            }
        }
        None
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for m in &graph.modules {
        if seen.contains(m) {
            continue;
        }
        if let Some(path) = reaches(m, m) {
            seen.extend(path.iter().cloned());
            out.push(path);
        }
    }
    out
}

/// tt-core's modules and the uses between them.
struct Graph {
    /// Top-level modules (`lib.rs`'s `mod` items, file or directory).
    modules: BTreeSet<String>,
    /// (user, used) → where, as `file:line` (the first place).
    edges: BTreeMap<(String, String), String>,
}

impl Graph {
    fn read(src: &Path) -> Graph {
        let mut files = Vec::new();
        rust_files(src, &mut files);
        files.sort();
        let mut modules = BTreeSet::new();
        // The crate root's re-exports (`pub use config::Config;`), by name.
        let mut root: BTreeMap<String, String> = BTreeMap::new();
        let mut parsed = Vec::new();
        let test_files = test_module_files(&files);
        for f in &files {
            if test_files.iter().any(|t| f.starts_with(t)) {
                continue;
            }
            let rel = f.strip_prefix(src).unwrap().to_string_lossy().into_owned();
            let text = without_test_items(&code_only(&std::fs::read_to_string(f).unwrap()));
            if rel == "lib.rs" {
                for item in items(&text, "mod") {
                    modules.insert(item.path[0].clone());
                }
                for item in items(&text, "pub use") {
                    root.insert(item.name().to_string(), item.path[0].clone());
                }
                continue;
            }
            let module = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
            parsed.push((rel, module, text));
        }
        // Re-exports of other modules' items: (module, name) → the path it stands for.
        let mut reexports: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (_, module, text) in &parsed {
            for item in items(text, "pub use crate::").into_iter().chain(items(text, "pub(crate) use crate::")) {
                reexports.insert((module.clone(), item.name().to_string()), item.path.clone());
            }
        }
        let resolve = |path: &[String]| -> String {
            let mut path = path.to_vec();
            if let Some(m) = root.get(&path[0]) {
                path.insert(0, m.clone());
            }
            // A path through a re-export names the module that defines the item (re-exports may chain).
            for _ in 0..8 {
                match path.get(1).and_then(|n| reexports.get(&(path[0].clone(), n.clone()))) {
                    Some(target) => path = target.iter().cloned().chain(path[2..].iter().cloned()).collect(),
                    None => break,
                }
            }
            path[0].clone()
        };
        let mut edges = BTreeMap::new();
        for (rel, module, text) in &parsed {
            for (line, path) in crate_paths(text) {
                let to = resolve(&path);
                if &to != module {
                    edges.entry((module.clone(), to)).or_insert_with(|| format!("tools/tt-core/src/{rel}:{line}"));
                }
            }
        }
        Graph { modules, edges }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The source with comments and the insides of string and character literals blanked out (newlines kept, so
/// line numbers stay right): what is left is code.
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let prev = if i > 0 { b[i - 1] } else { ' ' };
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                blank(&mut out, b[i]);
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            loop {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if (c == 'r' || (c == 'b' && b.get(i + 1) == Some(&'r'))) && !ident(prev) && {
            let j = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = b[j..].iter().take_while(|&&h| h == '#').count();
            b.get(j + hashes) == Some(&'"')
        } {
            // A raw string: r"…", r#"…"#, br"…".
            let j = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = b[j..].iter().take_while(|&&h| h == '#').count();
            let close: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let mut k = j + hashes + 1;
            while k < b.len() && b[k..].iter().take(close.len()).ne(close.iter()) {
                k += 1;
            }
            let end = (k + close.len()).min(b.len());
            for &x in &b[i..end] {
                blank(&mut out, x);
            }
            i = end;
        } else if c == '"' {
            blank(&mut out, c);
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    blank(&mut out, b[i]);
                    i += 1;
                }
                if i < b.len() {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
            if i < b.len() {
                blank(&mut out, b[i]);
                i += 1;
            }
        } else if c == '\'' && b.get(i + 1) == Some(&'\\') {
            // An escaped character literal: '\n', '\'', '\u{1b}'. The character after the backslash is part of
            // it whatever it is.
            out.push_str("   ");
            i += 3;
            while i < b.len() && b[i] != '\'' {
                blank(&mut out, b[i]);
                i += 1;
            }
            if i < b.len() {
                blank(&mut out, b[i]);
                i += 1;
            }
        } else if c == '\'' && b.get(i + 2) == Some(&'\'') {
            // A character literal ('{', '"'); anything else after a quote is a lifetime.
            out.push_str("   ");
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The files (or directories) of modules declared `#[cfg(test)] mod name;`: a test module in a file of its own
/// (`scan/props.rs`) is test code like an inline `#[cfg(test)] mod tests { … }`, and is left out the same way.
fn test_module_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for f in files {
        let code = code_only(&std::fs::read_to_string(f).unwrap());
        let words: Vec<&str> = code.split_whitespace().collect();
        for w in words.windows(3) {
            if w[0] == "#[cfg(test)]" && w[1] == "mod" && w[2].ends_with(';') {
                let name = w[2].trim_end_matches(';');
                // A child of `x/mod.rs` (or `lib.rs`) lives in `x/`; a child of `x.rs` in `x/` too.
                let stem = f.file_stem().unwrap().to_string_lossy();
                let dir = if stem == "mod" || stem == "lib" {
                    f.parent().unwrap().to_path_buf()
                } else {
                    f.with_extension("")
                };
                out.push(dir.join(format!("{name}.rs")));
                out.push(dir.join(name));
            }
        }
    }
    out
}

/// The code without `#[cfg(test)]` items (a test module, a test-only function or `use`).
fn without_test_items(code: &str) -> String {
    let mut s: Vec<char> = code.chars().collect();
    let attr: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + attr.len() <= s.len() {
        if s[i..i + attr.len()] != attr[..] {
            i += 1;
            continue;
        }
        // The item runs to its `;` or to the `}` matching its first `{`, whichever comes first.
        let mut j = i + attr.len();
        let mut depth = 0usize;
        while j < s.len() {
            match s[j] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ';' if depth == 0 => break,
                _ => {}
            }
            j += 1;
        }
        let end = j.min(s.len() - 1);
        for c in &mut s[i..=end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        i = j;
    }
    s.into_iter().collect()
}

/// One path of a `use` tree (or a `mod` item): `["budget", "gate", "Gate"]`, and its `as` name.
struct Item {
    path: Vec<String>,
    alias: Option<String>,
}

impl Item {
    /// The name it is known by where it is written.
    fn name(&self) -> &str {
        self.alias.as_deref().unwrap_or_else(|| self.path.last().unwrap())
    }
}

/// The items of every statement that starts with `keyword` at the start of a line (`mod`, `pub use`,
/// `pub use crate::`): a `mod` item gives its name, a `use` every path of its tree after the keyword.
fn items(code: &str, keyword: &str) -> Vec<Item> {
    let mut out = Vec::new();
    for line in code.lines() {
        let t = line.trim_start();
        let rest = t
            .strip_prefix(keyword)
            .or_else(|| if keyword == "mod" { t.strip_prefix("pub mod") } else { None })
            .filter(|r| keyword.ends_with("::") || r.starts_with(' '));
        let Some(rest) = rest else { continue };
        if keyword == "mod" {
            let name: String = rest.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            out.push(Item { path: vec![name], alias: None });
            continue;
        }
        // A `use` may span lines: read the statement to its `;`.
        let at = code.find(line).unwrap() + (line.len() - rest.len());
        let stmt = &code[at..at + code[at..].find(';').unwrap()];
        let chars: Vec<char> = stmt.chars().collect();
        let mut i = 0;
        tree(&chars, &mut i, &[], &mut out);
    }
    out
}

/// Parse one `use` tree at `chars[*i]` under `prefix`.
fn tree(chars: &[char], i: &mut usize, prefix: &[String], out: &mut Vec<Item>) {
    skip_space(chars, i);
    if chars.get(*i) == Some(&'{') {
        *i += 1;
        loop {
            skip_space(chars, i);
            match chars.get(*i) {
                Some('}') | None => {
                    *i += 1;
                    return;
                }
                Some(',') => *i += 1,
                _ => tree(chars, i, prefix, out),
            }
        }
    }
    let name = ident(chars, i);
    if name.is_empty() {
        // `*` or something the check does not need: skip it.
        *i += 1;
        return;
    }
    let mut path = prefix.to_vec();
    path.push(name);
    skip_space(chars, i);
    if chars.get(*i) == Some(&':') && chars.get(*i + 1) == Some(&':') {
        *i += 2;
        tree(chars, i, &path, out);
        return;
    }
    let mut alias = None;
    if ident_at(chars, *i) == "as" {
        *i += 2;
        skip_space(chars, i);
        alias = Some(ident(chars, i));
    }
    if path.last().is_some_and(|n| n == "self") {
        path.pop();
    }
    if !path.is_empty() {
        out.push(Item { path, alias });
    }
}

fn skip_space(chars: &[char], i: &mut usize) {
    while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
        *i += 1;
    }
}

fn ident_at(chars: &[char], i: usize) -> String {
    chars[i.min(chars.len())..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').collect()
}

fn ident(chars: &[char], i: &mut usize) -> String {
    let s = ident_at(chars, *i);
    *i += s.chars().count();
    s
}

/// Every `crate::…` path in the code, with its line: each path of a `use crate::{…}` tree, and each path
/// written inline (`crate::enforce::counts(…)`).
fn crate_paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let chars: Vec<char> = code.chars().collect();
    let needle: Vec<char> = "crate::".chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\n' {
            line += 1;
        }
        let starts = chars[i..].starts_with(&needle)
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '$'));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + needle.len();
        let mut found = Vec::new();
        tree(&chars, &mut j, &[], &mut found);
        out.extend(found.into_iter().map(|it| (line, it.path)));
        line += chars[i..j.min(chars.len())].iter().filter(|c| **c == '\n').count();
        i = j;
    }
    out
}

#[test]
fn the_reader_reads_trees_and_skips_what_is_not_code() {
    let code = code_only(
        "use crate::{a::X, b::{c::Y, Z as W}, Config};\n// crate::comment::X\nlet s = \"crate::string\";\n\
         let r = r#\"crate::raw \"# ;\nlet c = '{';\nfn f<'a>() { crate::inline::f(); }\n#[cfg(test)]\nmod tests {\n    \
         use crate::tested::X;\n    let brace = \"}\";\n}\nuse crate::after::Y;\n",
    );
    let code = without_test_items(&code);
    let paths: Vec<(usize, String)> = crate_paths(&code).into_iter().map(|(l, p)| (l, p.join("::"))).collect();
    let want = [(1, "a::X"), (1, "b::c::Y"), (1, "b::Z"), (1, "Config"), (6, "inline::f"), (12, "after::Y")];
    assert_eq!(paths, want.map(|(l, p)| (l, p.to_string())));
    let reexported = items("pub use crate::input::{REPAIR_HINT, with_repair_hint as hint};\n", "pub use crate::");
    let names: Vec<(String, &str)> = reexported.iter().map(|i| (i.path.join("::"), i.name())).collect();
    assert_eq!(names, [("input::REPAIR_HINT".into(), "REPAIR_HINT"), ("input::with_repair_hint".into(), "hint")]);
}
