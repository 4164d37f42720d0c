//! Property tests: the two parsers agree on arbitrary input (both accept with the same values, or both refuse
//! with the same message), and neither panics. Bounded for the normal test run; a longer run:
//! `PROPTEST_CASES=100000 cargo test --release -p tt-core --lib scan::props`.

use proptest::prelude::*;

use super::keys::KEYS;
use super::*;
// The line mutations are the ones the provider and importer property tests use, with this module's snippets.
use crate::provider::props::{apply as apply_edits, edit};

/// `PROPTEST_CASES` when set, else `n`.
fn config(n: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(n);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// Both parsers on `line`: the same verdict, the same values or the same message; the quick path only ever
/// accepts what the general path accepts, with the same values.
fn agree(line: &[u8]) {
    let show = || String::from_utf8_lossy(line).into_owned();
    if let Some(q) = parse_quick(line, None) {
        let f = parse_fast(line).unwrap_or_else(|Bad| panic!("quick accepted what general refuses: {}", show()));
        assert_eq!(format!("{q:?}"), format!("{f:?}"), "{}", show());
    }
    let view = View::parse(line);
    let Ok(text) = std::str::from_utf8(line) else {
        assert!(view.is_err(), "accepted invalid UTF-8: {}", show());
        return;
    };
    match (view, Record::parse(text)) {
        (Ok(v), Ok(r)) => {
            let opt = |o: &Option<Cow<'_, str>>| o.as_deref().map(str::to_string);
            assert_eq!(
                (v.id.as_ref(), v.ts, v.agent.as_ref(), v.model.as_ref(), v.tokens, v.cost_usd, v.estimated),
                (r.id.as_str(), r.ts, r.agent.as_str(), r.model.as_str(), r.tokens, r.cost_usd, r.estimated),
                "{text}"
            );
            assert_eq!(v.billing, r.billing, "{text}");
            assert_eq!(
                [&v.provider, &v.session, &v.task, &v.project, &v.branch, &v.commit, &v.host, &v.user, &v.source]
                    .map(opt),
                [&r.provider, &r.session, &r.task, &r.project, &r.branch, &r.commit, &r.host, &r.user, &r.source]
                    .map(Clone::clone),
                "{text}"
            );
            let tags: std::collections::BTreeMap<String, String> =
                v.tags().into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            assert_eq!(tags, r.tags, "{text}");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
        (Ok(_), Err(e)) => panic!("the log reader accepts what Record::parse refuses ({e}): {text}"),
        (Err(e), Ok(_)) => panic!("the log reader refuses what Record::parse accepts ({e}): {text}"),
    }
}

/// Valid lines to start from: tt's own shape, spaced, escaped, with unknown fields.
fn seeds() -> Vec<&'static str> {
    let mut v = tests::QUICK_LINES.to_vec();
    v.push(tests::LINE);
    v.push(
        r#"{ "v" : 1 , "id" : "x\u0041" , "ts" : "2026-01-02T03:04:05.5+01:00" , "agent" : "A\tB" , "model" : "m" , "input_tokens" : 1 , "output_tokens" : 2 , "service_tier" : "batch" , "speed" : "fast" , "web_search_requests" : 3 , "tags" : { "k" : "v" , "k" : "w" } , "cost_usd" : 1e-3 , "zz" : [ true , null , { "a" : "b" } ] }"#,
    );
    v
}

/// Bits of JSON that make lines interesting when dropped in anywhere.
const SNIPPETS: &[&str] = &[
    "\"",
    "\\",
    ",",
    ":",
    "{",
    "}",
    "[",
    "]",
    " ",
    "\t",
    "\n",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1.5",
    "1e3",
    "18446744073709551615",
    "18446744073709551616",
    "\"x\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\u{e9}",
    "\u{feff}",
    ",\"input_tokens\":1",
    ",\"v\":1",
    ",\"agent\":\"B\"",
    ",\"tags\":{}",
    ",\"tags\":{\"a\":\"1\"}",
    ",\"cost_usd\":\"1.5\"",
    ",\"cost_usd\":-0",
    ",\"z\":1",
    ",\"\\u0076\":1",
    ",\"estimated\":null",
    ",\"service_tier\":\"flex\"",
    ",\"speed\":\"standard\"",
    ",\"ts\":\"2026-02-29T00:00:00Z\"",
];

/// A JSON value for a field, of any type, valid for the schema or not.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "null",
            "true",
            "false",
            "0",
            "1",
            "-1",
            "01",
            "1.0",
            "1e2",
            "0.375",
            "\"0.5\"",
            "\" 0.5 \"",
            "\"\"",
            "\" \"",
            "\"a\"",
            "\"A é\"",
            "\"a\\u0000\"",
            "\"\\u200b\"",
            "\"fast\"",
            "\"standard\"",
            "\"batch\"",
            "\"2026-11-23T14:05:00Z\"",
            "\"2026-11-23T14:05:00.123+01:00\"",
            "\"2026-11-23T24:00:00Z\"",
            "{}",
            "{\"a\":\"b\"}",
            "{\"a\":1}",
            "{\"a\":\"b\",\"a\":\"c\"}",
            "[]",
            "[1,\"x\"]",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999999999999",
        ])
        .prop_map(String::from),
        any::<u64>().prop_map(|n| n.to_string()),
        "[ -~]{0,12}".prop_map(|s| {
            let mut o = String::new();
            crate::record::push_json_string(&mut o, &s);
            o
        }),
    ]
}

/// A key: one of the schema's (often), or another.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS.iter().map(|(k, _)| std::str::from_utf8(k).unwrap_or("v")).collect::<Vec<_>>())
            .prop_map(String::from),
        1 => "[a-z_]{1,6}",
    ]
}

/// Objects built from fields: a valid record's required fields plus random ones (repeats included), in
/// random order, compact or spaced.
fn object() -> impl Strategy<Value = String> {
    let required = vec![
        ("v".to_string(), "1".to_string()),
        ("id".to_string(), "\"x\"".to_string()),
        ("ts".to_string(), "\"2026-11-23T14:05:00.123Z\"".to_string()),
        ("agent".to_string(), "\"A\"".to_string()),
        ("model".to_string(), "\"m\"".to_string()),
        ("input_tokens".to_string(), "5".to_string()),
        ("output_tokens".to_string(), "7".to_string()),
    ];
    (
        proptest::collection::vec((key(), value()), 0..6),
        proptest::sample::subsequence(required.clone(), 0..=required.len()),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(extra, req, spaced, seed)| {
            let mut fields = req;
            fields.extend(extra);
            // A cheap deterministic shuffle.
            let n = fields.len();
            for i in (1..n).rev() {
                let j = (seed.rotate_left(i as u32) % (i as u64 + 1)) as usize;
                if seed & (1 << (i % 64)) != 0 {
                    fields.swap(i, j);
                }
            }
            let sep = if spaced { " , " } else { "," };
            let colon = if spaced { " : " } else { ":" };
            let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\"{colon}{v}")).collect();
            format!("{{{}}}", body.join(sep))
        })
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn arbitrary_bytes(line in proptest::collection::vec(any::<u8>(), 0..200)) {
        agree(&line);
    }

    #[test]
    fn arbitrary_text(line in "\\PC{0,200}") {
        agree(line.as_bytes());
    }

    #[test]
    fn mutated_valid_lines(k in 0..6usize, edits in proptest::collection::vec(edit(), 1..6)) {
        let seeds = seeds();
        let line = apply_edits(seeds[k % seeds.len()].as_bytes(), &edits, SNIPPETS);
        agree(&line);
    }

    #[test]
    fn generated_records(line in object()) {
        agree(line.as_bytes());
    }
}
