//! How tt finds and reaches a ledger: a `postgresql://` URI read the way libpq reads it.
//!
//! A setting comes from the URI first, then libpq's environment variables (`PGHOST`, `PGPORT`, `PGUSER`,
//! `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGPASSFILE`, `PGAPPNAME`, `PGCONNECT_TIMEOUT`),
//! then libpq's defaults (the Unix socket in `/var/run/postgresql` or `/tmp`, port 5432, the login name as user
//! and database). A password missing from both comes from `~/.pgpass` (or `PGPASSFILE`), read as libpq reads
//! it, and ignored, as libpq ignores it, when others may read the file.
//!
//! TLS is rustls with the system's root certificates (plus `sslrootcert` when given). Unlike libpq, tt always
//! verifies the server's certificate and name when it speaks TLS: `require`, `verify-ca` and `verify-full` all
//! mean a verified connection, and `prefer` (the default) uses TLS, verified, whenever the server offers it.
//! A Unix socket never uses TLS. No password is ever part of a message: a target is named by [`Target::name`],
//! the URI with its password cut out.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};

/// The URI schemes that name a ledger.
pub const SCHEMES: [&str; 2] = ["postgresql://", "postgres://"];

/// True when a `--log`/`TT_LOG`/config `log` value names a ledger rather than a file.
pub fn is_uri(s: &str) -> bool {
    SCHEMES.iter().any(|p| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p))
}

/// A ledger to connect to: the URI as given (kept private: it may hold a password) and its name for messages.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Target {
    uri: String,
    name: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({})", self.name)
    }
}

impl Target {
    /// A target from a URI, checked for shape (not connected).
    pub fn parse(uri: &str) -> Result<Target> {
        let name = redact(uri);
        Settings::from_uri(uri, &name)?;
        Ok(Target { uri: uri.to_string(), name })
    }

    /// The URI without its password: how messages name the ledger.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The settings the URI, the environment and the defaults give (see the module docs).
    pub fn settings(&self) -> Result<Settings> {
        let mut s = Settings::from_uri(&self.uri, &self.name)?;
        s.fill_from_env(|k| std::env::var(k).ok().filter(|v| !v.is_empty()), &self.name)?;
        s.fill_defaults();
        if s.password.is_none() {
            s.password = pgpass_lookup(&s);
        }
        Ok(s)
    }

    /// Open a connection (with the schema not yet looked at).
    pub fn connect(&self) -> Result<postgres::Client> {
        self.try_connect().map_err(|n| n.error)
    }

    /// [`Target::connect`], telling a server that could not be reached from one that answered and said no.
    pub(crate) fn try_connect(&self) -> std::result::Result<postgres::Client, NoConnection> {
        let not_reached = |error: Error| NoConnection { error, unreachable: None };
        let s = self.settings().map_err(not_reached)?;
        let cfg = s.config();
        let refused = |e: postgres::Error| NoConnection {
            error: Error::ledger(format!("ledger {}: {}", self.name, describe(&e))),
            unreachable: unreachable(&e).then(|| describe(&e)),
        };
        match (&s.ssl, &s.host) {
            (Ssl::Disable, _) | (_, Host::Socket(_)) => cfg.connect(postgres::NoTls).map_err(refused),
            (ssl, Host::Tcp(_)) => {
                let tls = tls(s.root_cert.as_deref(), &self.name).map_err(not_reached)?;
                let mut cfg = cfg;
                cfg.ssl_mode(if *ssl == Ssl::Prefer {
                    postgres::config::SslMode::Prefer
                } else {
                    postgres::config::SslMode::Require
                });
                cfg.connect(tls).map_err(refused)
            }
        }
    }
}

/// Why [`Target::try_connect`] has no connection.
pub(crate) struct NoConnection {
    /// The error, as [`Target::connect`] gives it.
    pub error: Error,
    /// When the server could not be reached at all (see [`unreachable`]): why, in one line.
    pub unreachable: Option<String>,
}

/// True when a connection failed because no server answered: refused, no socket, no route, a name that does not
/// resolve, a timeout, a server still starting or shutting down. Not when one answered and said no (a login, a
/// database that does not exist, TLS that does not verify): retrying later would not help those, and a record
/// kept aside for them would hide a mistake to fix.
pub fn unreachable(e: &postgres::Error) -> bool {
    use std::io::ErrorKind as K;
    if let Some(db) = e.as_db_error() {
        // 57P03 cannot_connect_now (starting up, shutting down, in recovery); 57P01 admin_shutdown.
        return matches!(db.code().code(), "57P03" | "57P01");
    }
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                K::ConnectionRefused
                    | K::ConnectionReset
                    | K::ConnectionAborted
                    | K::NotFound
                    | K::TimedOut
                    | K::HostUnreachable
                    | K::NetworkUnreachable
                    | K::AddrNotAvailable
                    | K::NetworkDown
                    | K::UnexpectedEof
            ) || io.raw_os_error().is_none() && io.to_string().contains("lookup");
        }
        src = inner.source();
    }
    false
}

/// What a server error says, in one line, without the driver's wrapping: `FATAL: password authentication
/// failed for user "x"`, `Connection refused (os error 111)`.
pub fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {}", db.severity(), db.message());
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        return one_line(&s);
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    one_line(&s)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The URI with the password (if any) replaced by nothing: `postgresql://ann@db/tt`. Query parameters named
/// `password` are cut too.
pub fn redact(uri: &str) -> String {
    let scheme_end = uri.find("://").map(|i| i + 3).unwrap_or(0);
    let (head, rest) = uri.split_at(scheme_end);
    let (auth_end, query_at) = (rest.find(['/', '?']).unwrap_or(rest.len()), rest.find('?'));
    let authority = &rest[..auth_end];
    let authority = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}@{}", &authority[at + 1..])
        }
        None => authority.to_string(),
    };
    let mut out = format!("{head}{authority}");
    let path_end = query_at.unwrap_or(rest.len());
    out.push_str(&rest[auth_end.min(path_end)..path_end]);
    if let Some(q) = query_at {
        let kept: Vec<&str> =
            rest[q + 1..].split('&').filter(|kv| !kv.to_ascii_lowercase().starts_with("password=")).collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    out
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name or address (TCP).
    Tcp(String),
    /// The directory of a Unix socket.
    Socket(PathBuf),
}

/// libpq's `sslmode`, as tt reads it (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ssl {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it (verified), else plain.
    #[default]
    Prefer,
    /// TLS, verified, or no connection (`allow` is read as `prefer`; `require`, `verify-ca`, `verify-full`).
    Require,
}

/// Every setting tt connects with.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The server.
    pub host: Host,
    /// The port (also names the socket file, `.s.PGSQL.<port>`).
    pub port: Option<u16>,
    /// The role.
    pub user: Option<String>,
    /// Its password (never printed).
    pub password: Option<String>,
    /// The database.
    pub dbname: Option<String>,
    /// TLS.
    pub ssl: Ssl,
    /// Extra root certificates (PEM).
    pub root_cert: Option<PathBuf>,
    /// The `.pgpass` file to read.
    pub passfile: Option<PathBuf>,
    /// `application_name`.
    pub app: Option<String>,
    /// How long to wait for the server.
    pub connect_timeout: Option<Duration>,
    /// Whether `ssl` was set (by the URI or the environment), not defaulted.
    ssl_given: bool,
}

impl Default for Host {
    fn default() -> Self {
        Host::Tcp(String::new())
    }
}

/// The libpq parameters tt understands in a URI's query, with the environment variable that stands in for each.
const PARAMS: &[(&str, &str)] = &[
    ("host", "PGHOST"),
    ("port", "PGPORT"),
    ("user", "PGUSER"),
    ("password", "PGPASSWORD"),
    ("dbname", "PGDATABASE"),
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
    ("passfile", "PGPASSFILE"),
    ("application_name", "PGAPPNAME"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
];

impl Settings {
    /// The settings a URI gives (nothing from the environment yet; the host is empty when the URI has none).
    fn from_uri(uri: &str, name: &str) -> Result<Settings> {
        let bad = |why: String| Error::usage(format!("ledger {name}: {why}"));
        let rest = SCHEMES
            .iter()
            .find(|p| is_uri(uri) && uri.len() >= p.len() && uri[..p.len()].eq_ignore_ascii_case(p))
            .map(|p| &uri[p.len()..])
            .ok_or_else(|| bad("not a postgresql:// URI".into()))?;
        let (main, query) = match rest.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match main.find('/') {
            Some(i) => (&main[..i], &main[i + 1..]),
            None => (main, ""),
        };
        let mut s = Settings::default();
        let set = |key: &str, value: String, s: &mut Settings| s.set(key, value).map_err(bad);
        let hostport = match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                let (user, password) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                if !user.is_empty() {
                    set("user", decode(user).map_err(bad)?, &mut s)?;
                }
                if let Some(p) = password {
                    set("password", decode(p).map_err(bad)?, &mut s)?;
                }
                &authority[at + 1..]
            }
            None => authority,
        };
        if hostport.contains(',') {
            return Err(bad("several hosts in one URI are not supported; name one".into()));
        }
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed [ in the host".into()))?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (decode(h).map_err(bad)?, Some(p)),
                None => (decode(hostport).map_err(bad)?, None),
            }
        };
        if !host.is_empty() {
            set("host", host, &mut s)?;
        }
        if let Some(p) = port.filter(|p| !p.is_empty()) {
            set("port", p.to_string(), &mut s)?;
        }
        if !path.is_empty() {
            set("dbname", decode(path).map_err(bad)?, &mut s)?;
        }
        for kv in query.unwrap_or("").split('&').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').ok_or_else(|| bad(format!("parameter {kv:?} has no value")))?;
            let k = decode(k).map_err(bad)?;
            if !PARAMS.iter().any(|(p, _)| *p == k) {
                let known: Vec<&str> = PARAMS.iter().map(|(p, _)| *p).collect();
                return Err(bad(format!("unknown parameter {k:?} (tt understands {})", known.join(", "))));
            }
            set(&k, decode(v).map_err(bad)?, &mut s)?;
        }
        Ok(s)
    }

    /// Set one libpq parameter from its text.
    fn set(&mut self, key: &str, v: String) -> std::result::Result<(), String> {
        match key {
            "host" if v.starts_with('/') => self.host = Host::Socket(PathBuf::from(v)),
            "host" => self.host = Host::Tcp(v),
            "port" => self.port = Some(v.parse().map_err(|_| format!("port {v:?} is not a port number"))?),
            "user" => self.user = Some(v),
            "password" => self.password = Some(v),
            "dbname" => self.dbname = Some(v),
            "sslmode" => {
                self.ssl_given = true;
                self.ssl = match v.as_str() {
                    "disable" => Ssl::Disable,
                    "allow" | "prefer" => Ssl::Prefer,
                    "require" | "verify-ca" | "verify-full" => Ssl::Require,
                    _ => {
                        return Err(format!(
                            "sslmode {v:?}: want disable, allow, prefer, require, verify-ca or verify-full"
                        ));
                    }
                }
            }
            "sslrootcert" => self.root_cert = Some(PathBuf::from(v)),
            "passfile" => self.passfile = Some(PathBuf::from(v)),
            "application_name" => self.app = Some(v),
            "connect_timeout" => {
                let secs: u64 = v.parse().map_err(|_| format!("connect_timeout {v:?} is not a number of seconds"))?;
                // libpq: zero (or less) waits forever; 1 is read as 2.
                self.connect_timeout = (secs > 0).then(|| Duration::from_secs(secs.max(2)));
            }
            _ => return Err(format!("unknown parameter {key:?}")),
        }
        Ok(())
    }

    /// Fill what the URI left unset from libpq's environment variables (`env` looks one up).
    fn fill_from_env(&mut self, env: impl Fn(&str) -> Option<String>, name: &str) -> Result<()> {
        let unset = |s: &Settings, key: &str| match key {
            "host" => s.host == Host::default(),
            "port" => s.port.is_none(),
            "user" => s.user.is_none(),
            "password" => s.password.is_none(),
            "dbname" => s.dbname.is_none(),
            "sslmode" => !s.ssl_given,
            "sslrootcert" => s.root_cert.is_none(),
            "passfile" => s.passfile.is_none(),
            "application_name" => s.app.is_none(),
            "connect_timeout" => s.connect_timeout.is_none(),
            _ => false,
        };
        for (key, var) in PARAMS {
            if !unset(self, key) {
                continue;
            }
            if let Some(v) = env(var) {
                self.set(key, v).map_err(|why| Error::usage(format!("ledger {name}: {var}: {why}")))?;
            }
        }
        Ok(())
    }

    /// libpq's defaults for what is still unset.
    fn fill_defaults(&mut self) {
        if self.host == Host::default() {
            let dir = ["/var/run/postgresql", "/tmp"]
                .into_iter()
                .find(|d| Path::new(d).join(format!(".s.PGSQL.{}", self.port.unwrap_or(5432))).exists())
                .unwrap_or("/var/run/postgresql");
            self.host = Host::Socket(PathBuf::from(dir));
        }
        if self.user.is_none() {
            self.user = crate::machine::user();
        }
        if self.dbname.is_none() {
            self.dbname = self.user.clone();
        }
    }

    /// The driver's configuration for these settings (TLS decided by the caller).
    fn config(&self) -> postgres::Config {
        let mut c = postgres::Config::new();
        match &self.host {
            Host::Tcp(h) => c.host(h),
            Host::Socket(dir) => c.host_path(dir),
        };
        c.port(self.port.unwrap_or(5432));
        if let Some(u) = &self.user {
            c.user(u);
        }
        if let Some(p) = &self.password {
            c.password(p);
        }
        if let Some(d) = &self.dbname {
            c.dbname(d);
        }
        c.application_name(self.app.as_deref().unwrap_or("tt"));
        c.connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)));
        c.ssl_mode(postgres::config::SslMode::Disable);
        c
    }
}

/// Percent-decoding of one URI component.
fn decode(s: &str) -> std::result::Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or_else(|| format!("bad percent-escape in {s:?}"))?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} decodes to bytes that are not UTF-8"))
}

/// The password `~/.pgpass` (or `passfile`/`PGPASSFILE`) holds for these settings, as libpq finds it: the first
/// line whose host, port, database and user match (`*` matches anything; `localhost` matches a Unix socket),
/// `\:` and `\\` escaped. A file others may read is ignored, as libpq ignores it.
fn pgpass_lookup(s: &Settings) -> Option<String> {
    let path = s.passfile.clone().or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let meta = std::fs::metadata(&path).ok()?;
    {
        use std::os::unix::fs::PermissionsExt;
        if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
            return None;
        }
    }
    let text = std::fs::read_to_string(&path).ok()?;
    pgpass_find(&text, s)
}

fn pgpass_find(text: &str, s: &Settings) -> Option<String> {
    let host = match &s.host {
        Host::Tcp(h) => h.clone(),
        Host::Socket(_) => "localhost".to_string(),
    };
    let port = s.port.unwrap_or(5432).to_string();
    let want = [host.as_str(), port.as_str(), s.dbname.as_deref().unwrap_or(""), s.user.as_deref().unwrap_or("")];
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = pgpass_fields(line);
        if fields.len() < 5 {
            continue;
        }
        if fields[..4].iter().zip(want).all(|(f, w)| f == "*" || f == w) {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

/// A `.pgpass` line's fields, split on unescaped `:`.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(n), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(n);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

/// rustls with the system's roots and `extra` (a PEM file of roots).
fn tls(extra: Option<&Path>, name: &str) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    // A root the system store holds but rustls cannot parse is skipped, as every TLS client does.
    for c in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(c);
    }
    if let Some(path) = extra {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| Error::usage(format!("ledger {name}: sslrootcert {}: {e}", path.display())))?;
        for c in certs {
            let c = c.map_err(|e| Error::usage(format!("ledger {name}: sslrootcert {}: {e}", path.display())))?;
            roots.add(c).map_err(|e| Error::usage(format!("ledger {name}: sslrootcert {}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::usage(format!("ledger {name}: TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(uri: &str) -> Settings {
        Settings::from_uri(uri, "t").unwrap()
    }

    #[test]
    fn uri_parts() {
        let s = parse("postgresql://ann:s%3Acret@db.example:6543/team?sslmode=verify-full&application_name=ci");
        assert_eq!(s.host, Host::Tcp("db.example".into()));
        assert_eq!(s.port, Some(6543));
        assert_eq!(s.user.as_deref(), Some("ann"));
        assert_eq!(s.password.as_deref(), Some("s:cret"));
        assert_eq!(s.dbname.as_deref(), Some("team"));
        assert_eq!(s.ssl, Ssl::Require);
        assert_eq!(s.app.as_deref(), Some("ci"));
        let s = parse("postgres://%2Ftmp%2Fpg/tt");
        assert_eq!(s.host, Host::Socket("/tmp/pg".into()));
        let s = parse("postgresql:///tt?host=/run/pg&port=5433");
        assert_eq!((s.host, s.port, s.dbname.as_deref()), (Host::Socket("/run/pg".into()), Some(5433), Some("tt")));
        let s = parse("postgresql://[::1]:5999/x");
        assert_eq!((s.host, s.port), (Host::Tcp("::1".into()), Some(5999)));
    }

    #[test]
    fn bad_uris_say_why() {
        let e = |u: &str| Settings::from_uri(u, "NAME").unwrap_err().to_string();
        assert_eq!(
            e("postgresql://h/db?sslmode=sometimes"),
            "ledger NAME: sslmode \"sometimes\": want disable, allow, prefer, require, verify-ca or verify-full"
        );
        assert!(e("postgresql://h/db?frobnicate=1").starts_with("ledger NAME: unknown parameter \"frobnicate\""));
        assert_eq!(e("postgresql://h:port/db"), "ledger NAME: port \"port\" is not a port number");
        assert_eq!(e("postgresql://a,b/db"), "ledger NAME: several hosts in one URI are not supported; name one");
    }

    #[test]
    fn env_fills_what_the_uri_leaves() {
        let mut s = parse("postgresql://ann@db/team");
        let env = |k: &str| match k {
            "PGUSER" => Some("bob".to_string()),
            "PGPORT" => Some("7000".to_string()),
            "PGPASSWORD" => Some("pw".to_string()),
            "PGSSLMODE" => Some("require".to_string()),
            _ => None,
        };
        s.fill_from_env(env, "t").unwrap();
        assert_eq!(s.user.as_deref(), Some("ann"));
        assert_eq!(s.port, Some(7000));
        assert_eq!(s.password.as_deref(), Some("pw"));
        assert_eq!(s.ssl, Ssl::Require);
        let mut s = parse("postgresql://db/team?sslmode=disable");
        s.fill_from_env(env, "t").unwrap();
        assert_eq!(s.ssl, Ssl::Disable, "the URI's sslmode wins over PGSSLMODE");
    }

    #[test]
    fn redacted_names_hold_no_password() {
        assert_eq!(redact("postgresql://ann:hunter2@db:5432/tt"), "postgresql://ann@db:5432/tt");
        assert_eq!(redact("postgres://db/tt?password=hunter2&sslmode=require"), "postgres://db/tt?sslmode=require");
        assert_eq!(redact("postgresql:///tt"), "postgresql:///tt");
        assert_eq!(redact("postgresql://ann:pw@db"), "postgresql://ann@db");
    }

    #[test]
    fn pgpass_matches_like_libpq() {
        let mut s = parse("postgresql://ann@db:5432/team");
        let text = "# comment\nother:*:*:*:no\ndb:5432:team:ann:pa\\:ss:word\n*:*:*:*:fallback\n";
        assert_eq!(pgpass_find(text, &s).as_deref(), Some("pa:ss:word"));
        s.dbname = Some("else".into());
        assert_eq!(pgpass_find(text, &s).as_deref(), Some("fallback"));
        let sock = parse("postgresql:///team?host=/tmp&user=ann");
        assert_eq!(pgpass_find("localhost:5432:team:ann:local\n", &sock).as_deref(), Some("local"));
    }

    #[test]
    fn only_postgres_schemes_are_ledgers() {
        assert!(is_uri("postgresql://x") && is_uri("POSTGRES://x"));
        assert!(!is_uri("usage.jsonl") && !is_uri("postgres:/x") && !is_uri("/tmp/postgresql://x"));
    }
}
