//! Building records from the requests an import keeps: each priced with the price table and written as the
//! record's JSON line directly (a debug-build check compares it with `Record::to_json`), in the reading threads,
//! so the main thread only drops requests already counted and appends. What every request of one context
//! shares (agent, model, provider, session, project, branch, …) is worked out once per [`Ctx`].

use std::sync::Arc;

use super::{Ctx, Found, Source};
use crate::config::Config;

/// The last component of a working directory (`/home/a/proj` and `C:\Users\a\proj` both give `proj`).
pub fn project_of(cwd: &str) -> Option<&str> {
    cwd.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next().filter(|s| !s.is_empty())
}

/// A record ready to append: its line and what the summary needs.
pub(super) struct Built {
    pub(super) tail: u128,
    pub(super) line: String,
    pub(super) tokens: u64,
    pub(super) cost: Option<rust_decimal::Decimal>,
    /// The model (kept for the unpriced count).
    pub(super) model: String,
}

/// Turns found requests into priced record lines (shared by the reading threads).
pub(super) struct Builder<'c> {
    pub(super) source: Source,
    pub(super) agent: String,
    pub(super) host: Option<String>,
    pub(super) user: Option<String>,
    pub(super) config: &'c Config,
}

/// What a [`Ctx`] gives every record made in it, worked out once.
struct Prepared<'c> {
    ctx: Arc<Ctx>,
    model_ok: bool,
    session: Option<String>,
    project: Option<String>,
    branch: Option<String>,
    entry: Option<&'c crate::price::ModelEntry>,
    /// The record's JSON between `ts` and the token counts: agent, model, provider.
    head: String,
    /// The record's JSON between the token counts and the cost: session … source.
    tail: String,
}

impl<'c> Builder<'c> {
    fn prepare(&self, ctx: &Arc<Ctx>) -> Prepared<'c> {
        let valid = |field: &str, v: Option<&str>| {
            v.filter(|v| crate::record::check_name(field, v).is_ok()).map(str::to_string)
        };
        let entry = self.config.prices.resolve(&ctx.model);
        let mut p = Prepared {
            ctx: ctx.clone(),
            model_ok: crate::record::check_name("model", &ctx.model).is_ok(),
            session: valid("session", ctx.session.as_deref()),
            project: valid("project", ctx.cwd.as_deref().and_then(project_of)),
            branch: valid("branch", ctx.branch.as_deref()),
            entry,
            head: String::new(),
            tail: String::new(),
        };
        // The parts of the line every record of this context shares, in `Record::to_json`'s field order (a
        // debug-build check compares whole lines with it).
        let field = |s: &mut String, k: &str, v: &str| {
            s.push_str(",\"");
            s.push_str(k);
            s.push_str("\":");
            crate::record::push_json_string(s, v);
        };
        field(&mut p.head, "agent", &self.agent);
        field(&mut p.head, "model", &ctx.model);
        if let Some(pr) = entry.and_then(|e| e.provider.as_deref()) {
            field(&mut p.head, "provider", pr);
        }
        for (k, v) in [
            ("session", &p.session),
            ("project", &p.project),
            ("branch", &p.branch),
            ("host", &self.host),
            ("user", &self.user),
        ] {
            if let Some(v) = v {
                field(&mut p.tail, k, v);
            }
        }
        if ctx.sidechain {
            p.tail.push_str(",\"tags\":{\"sidechain\":\"true\"}");
        }
        field(&mut p.tail, "source", self.source.name());
        p
    }

    pub(super) fn build(&self, found: Vec<Found>, malformed: &mut u64, warnings: &mut Vec<String>) -> Vec<Built> {
        let mut out = Vec::with_capacity(found.len());
        let mut prep: Option<Prepared> = None;
        for f in found {
            let p = match &prep {
                Some(p) if Arc::ptr_eq(&p.ctx, &f.ctx) => p,
                _ => prep.insert(self.prepare(&f.ctx)),
            };
            let id = crate::id::derived_id_from_hash(f.ts, f.hash);
            if !p.model_ok {
                *malformed += 1;
                warnings.push(format!("request {id}: unusable model name {:?} (skipped)", f.ctx.model));
                continue;
            }
            let its = f.iterations.as_deref().unwrap_or_default();
            let priced = p.entry.and_then(|e| {
                crate::provider::price_request(&self.config.prices, e, f.ts, &f.tokens, its, &f.billing)
                    .map_err(|why| warnings.push(format!("request {id}: {why}: imported unpriced")))
                    .ok()
            });
            let line = line(p, &f, &id, priced.as_ref());
            #[cfg(debug_assertions)]
            debug_assert_eq!(line, self.record(p, &f, &id, priced.as_ref()).to_json());
            out.push(Built {
                tail: crate::id::hash_tail(f.hash),
                line,
                tokens: f.tokens.total(),
                cost: priced.map(|pr| pr.cost),
                model: if p.entry.is_none() { f.ctx.model.clone() } else { String::new() },
            });
        }
        out
    }

    /// Request `f` as a [`crate::record::Record`], to check in debug builds that [`line`] writes the same bytes.
    #[cfg(debug_assertions)]
    fn record(
        &self,
        p: &Prepared,
        f: &Found,
        id: &str,
        priced: Option<&crate::price::Priced>,
    ) -> crate::record::Record {
        let mut r = crate::record::Record::new(id.to_string(), f.ts, self.agent.clone(), f.ctx.model.clone(), f.tokens);
        r.reasoning_tokens = f.reasoning;
        r.billing = f.billing;
        r.session = p.session.clone();
        r.project = p.project.clone();
        r.branch = p.branch.clone();
        r.host = self.host.clone();
        r.user = self.user.clone();
        r.source = Some(self.source.name().to_string());
        if f.ctx.sidechain {
            r.tags.insert("sidechain".to_string(), "true".to_string());
        }
        r.provider = p.entry.and_then(|e| e.provider.clone());
        if let Some(pr) = priced {
            r.cost_usd = Some(pr.cost);
            r.price = Some(pr.label.clone());
        }
        r
    }
}

/// The record line of request `f` (no newline) with the parts its context gives (`p`), its `id` and price.
// The line is written here rather than through `Record::to_json` (the same bytes: checked in debug
// builds) because building a `Record` per request was a fifth of the import's own time.
fn line(p: &Prepared, f: &Found, id: &str, priced: Option<&crate::price::Priced>) -> String {
    use std::fmt::Write as _;
    let t = &f.tokens;
    let mut line = String::with_capacity(p.head.len() + p.tail.len() + 220);
    line.push_str("{\"v\":1,\"id\":\"");
    line.push_str(id);
    line.push_str("\",\"ts\":\"");
    line.push_str(&crate::record::format_ts(f.ts));
    line.push('"');
    line.push_str(&p.head);
    let _ = write!(line, ",\"input_tokens\":{},\"output_tokens\":{}", t.input, t.output);
    for (k, n) in t.cache_fields() {
        if n != 0 {
            let _ = write!(line, ",\"{k}\":{n}");
        }
    }
    if let Some(n) = f.reasoning {
        let _ = write!(line, ",\"reasoning_tokens\":{n}");
    }
    let b = &f.billing;
    if b.service != crate::record::Service::Standard {
        let _ = write!(line, ",\"service_tier\":\"{}\"", b.service.as_str());
    }
    if b.fast {
        line.push_str(",\"speed\":\"fast\"");
    }
    for (k, n) in b.tool_calls() {
        if n != 0 {
            let _ = write!(line, ",\"{k}\":{n}");
        }
    }
    line.push_str(&p.tail);
    if let Some(pr) = priced {
        let _ = write!(line, ",\"cost_usd\":{}", crate::money::canonical(pr.cost));
        line.push_str(",\"price\":");
        crate::record::push_json_string(&mut line, &pr.label);
    }
    line.push('}');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_come_from_the_last_cwd_component() {
        assert_eq!(project_of("/home/a/proj"), Some("proj"));
        assert_eq!(project_of("/home/a/proj/"), Some("proj"));
        assert_eq!(project_of("C:\\Users\\a\\CLEANROOM"), Some("CLEANROOM"));
        assert_eq!(project_of("/"), None);
    }
}
