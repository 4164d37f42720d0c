//! Names the build in `--version`: the commit it was built from and the build date.
//!
//! `TT_BUILD_COMMIT` is the short hash of HEAD, or `unknown` outside a git checkout (a source tarball). No
//! `-dirty` mark: the script reruns when HEAD moves, not on every edit, so such a mark would go stale. `TT_BUILD_DATE` is the UTC date of the build, or of
//! `SOURCE_DATE_EPOCH` when that is set, so a reproducible build names a fixed date. Both can be given from
//! outside (a packager's own values win).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=TT_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=TT_BUILD_DATE");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // Rebuilt when HEAD moves (a commit, a checkout): HEAD itself and the ref it points at.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        let dir = std::path::PathBuf::from(dir);
        println!("cargo:rerun-if-changed={}", dir.join("HEAD").display());
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            let common = git(&["rev-parse", "--git-common-dir"]).map(std::path::PathBuf::from).unwrap_or(dir);
            // A branch's ref is a file of its own, or a line of `packed-refs` once git has packed it. Only a path
            // that exists may be watched: cargo takes a missing one as changed, and would rerun this script (and
            // rebuild tt-core and every tool) on every build.
            let loose = common.join(&r);
            let watched = if loose.exists() { loose } else { common.join("packed-refs") };
            if watched.exists() {
                println!("cargo:rerun-if-changed={}", watched.display());
            }
        }
    }
    let commit = std::env::var("TT_BUILD_COMMIT").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| {
        git(&["rev-parse", "--short=12", "HEAD"]).filter(|h| !h.is_empty()).unwrap_or_else(|| "unknown".to_string())
    });
    let date = std::env::var("TT_BUILD_DATE").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| {
        let epoch = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse::<i64>().ok());
        let secs = epoch.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
        });
        civil_date(secs.div_euclid(86_400))
    });
    println!("cargo:rustc-env=TT_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=TT_BUILD_DATE={date}");
}

/// `YYYY-MM-DD` of a count of days since 1970-01-01 (Howard Hinnant's civil-from-days), so the build script
/// needs no date crate.
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
