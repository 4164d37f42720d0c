//! A real PostgreSQL server for the ledger tests: the one `.ci/run` started (`TT_TEST_POSTGRES`, its
//! directory), else one this test binary starts itself with `scripts/test-postgres.sh` from the machine's
//! packages, stopped when the binary exits. Each test gets a database of its own.
//!
//! When no server can be started the tests say `skipped: …` once and pass, unless `TT_TEST_REQUIRE_POSTGRES`
//! (or `TT_TEST_REQUIRE_TOOLS`) is set: then they fail, so CI cannot silently stop checking the ledger.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use super::repo_root;

/// A running server.
pub struct Pg {
    /// Its directory: the Unix socket is here.
    pub dir: PathBuf,
    /// Its TCP port on 127.0.0.1 (and the socket's number).
    pub port: u16,
    /// The CA of its TLS certificate (for localhost and 127.0.0.1), when it speaks TLS; the role `tt_tls`
    /// (password `tt-test`) may log in only over TLS.
    pub tls_ca: Option<PathBuf>,
    bin: PathBuf,
}

/// One test's database on the server.
pub struct Db {
    /// Its name.
    pub name: String,
    /// The ledger URI over the Unix socket (trust: no password).
    pub uri: String,
    /// The ledger URI over TCP with the role's password.
    pub tcp_uri: String,
    pg: &'static Pg,
}

/// The server, or `None` (after one visible `skipped:` line) when none can be started.
pub fn server() -> Option<&'static Pg> {
    static PG: OnceLock<Option<Pg>> = OnceLock::new();
    let pg = PG.get_or_init(|| match std::env::var_os("TT_TEST_POSTGRES").filter(|v| !v.is_empty()) {
        Some(dir) => Pg::from_dir(Path::new(&dir)),
        None => start(),
    });
    if pg.is_none() {
        let line = "skipped: ledger tests: no PostgreSQL server could be started (Debian: apt-get install \
                    postgresql; see CONTRIBUTING.md)";
        let required = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
        if required("TT_TEST_REQUIRE_POSTGRES") || required("TT_TEST_REQUIRE_TOOLS") {
            panic!("{line}, and TT_TEST_REQUIRE_POSTGRES is set");
        }
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write;
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        });
    }
    pg.as_ref()
}

/// A fresh database on the server, or `None` when there is no server (see [`server`]).
pub fn db() -> Option<Db> {
    server().map(Pg::create_db)
}

fn start() -> Option<Pg> {
    let script = repo_root().join("scripts/test-postgres.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = String::from_utf8(out.stdout).ok()?;
    Pg::from_dir(Path::new(dir.trim()))
}

impl Pg {
    fn from_dir(dir: &Path) -> Option<Pg> {
        let env = std::fs::read_to_string(dir.join("env")).ok()?;
        let get = |k: &str| env.lines().find_map(|l| l.strip_prefix(&format!("{k}=")).map(str::to_string));
        Some(Pg {
            dir: dir.to_path_buf(),
            port: get("PGPORT")?.parse().ok()?,
            tls_ca: get("TLSCA").filter(|c| !c.is_empty()).map(PathBuf::from),
            bin: PathBuf::from(get("PGBIN")?),
        })
    }

    /// Run SQL as the superuser in `db`; its output (unaligned, tuples only).
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", "tt", "-d", db, "-c", sql])
            .env_remove("PGPASSWORD")
            .output()
            .expect("psql runs");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn create_db(&'static self) -> Db {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("tt_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        Db {
            uri: format!("postgresql:///{name}?host={}&port={}&user=tt", self.dir.display(), self.port),
            tcp_uri: format!("postgresql://tt:tt-test@127.0.0.1:{}/{name}?sslmode=disable", self.port),
            name,
            pg: self,
        }
    }
}

impl Db {
    /// Run SQL in this database as the superuser.
    pub fn sql(&self, sql: &str) -> String {
        self.pg.psql(&self.name, sql)
    }

    /// Take advisory lock `key` in a session of its own and hold it until the returned guard is dropped (what
    /// a writer on another machine holding that lock looks like).
    pub fn hold_lock(&self, key: i64) -> HeldLock {
        let mut session = self.session();
        session.run(&format!("SELECT pg_advisory_lock({key});"));
        session.lock
    }

    /// A psql session of its own, kept open (another machine's connection, mid-transaction): see
    /// [`Session::run`].
    pub fn session(&self) -> Session {
        let mut child = Command::new(self.pg.bin.join("psql"))
            .args(["-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.pg.dir)
            .args(["-p", &self.pg.port.to_string(), "-U", "tt", "-d", &self.name])
            .env_remove("PGPASSWORD")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("psql runs");
        let stdin = child.stdin.take().unwrap();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        Session { lock: HeldLock { child, stdin: Some(stdin) }, out }
    }
}

/// An open psql session ([`Db::session`]); dropping it ends the session (an open transaction rolls back).
pub struct Session {
    lock: HeldLock,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl Session {
    /// Run `sql` in the session and wait until the server has answered it; its output.
    pub fn run(&mut self, sql: &str) -> String {
        use std::io::{BufRead, Write};
        let stdin = self.lock.stdin.as_mut().unwrap();
        writeln!(stdin, "{sql}\nSELECT 'tt-session-done';").unwrap();
        stdin.flush().unwrap();
        let (mut all, mut line) = (String::new(), String::new());
        loop {
            line.clear();
            assert!(self.out.read_line(&mut line).unwrap() > 0, "psql ended (an error in {sql:?}?)");
            if line.trim() == "tt-session-done" {
                return all;
            }
            all.push_str(&line);
        }
    }
}

/// An advisory lock held by a psql session ([`Db::hold_lock`]); dropping it ends the session and frees the lock.
pub struct HeldLock {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
