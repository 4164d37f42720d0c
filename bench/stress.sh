#!/usr/bin/env bash
# Stress test (opt-in, not part of the test command): reproduces items 1–6 of issue 11 at scale against the
# release binaries and exits 1 if any invariant breaks, 0 if all hold. A few minutes with the defaults.
#
#   1. tt-export -o aimed at the log, a symlink or hard link to it, its side files, in every format: refused,
#      the log's SHA-256 and inode (and the side files) unchanged.
#   2. A damaged --enforce index (window lines zeroed or garbled, truncated, emptied, body dropped, deleted
#      mid-race) with a nearly full budget, then PROCS concurrent `tt-log --enforce`: exactly the records that
#      fit are admitted (computed from the log), every other call is refused with exit 1.
#   3. `--enforce --ts` far in the past and future, last month, a few minutes ahead, against a full month
#      budget: refused; a record without a session against a session budget: checked as its own session.
#   4. Writers appending records longer than 64 KiB (tt-log --import, and a raw writer under the log lock
#      that writes each line in 4 KiB pieces) while tt-sum, tt-budget, tt-export and tt-optimize read the log
#      over and over: no reader ever exits 2 (or 1).
#   5. Symlinks planted at the old predictable temp names (<log>.tt-index.tmp<PID>,
#      <log>.tt-import.json.tmp<PID>, -o's .<name>.tmp.<PID>) for the next PIDS process ids, and at the side
#      files (.torn, .tt-history.jsonl, .tt-import.json, .tt-holds, .tt-index): the victim files unchanged.
#   6. A file-size limit (ulimit -f) cutting `tt-log --import FILE` part-way, SIGXFSZ default and ignored:
#      the log byte-for-byte unchanged and readable afterwards; then the full import gives every record.
#
# Usage: bench/stress.sh            (ONLY=2,4 to run some items; TT_BIN=DIR to test binaries in DIR, unbuilt)
# Scale: RECORDS=200000 (log size for 1–2) PROCS=64 FIT=200 ATTEMPTS=5×FIT (2) TS_RANDOM=200 (3)
#        DURATION=60 READ_RECORDS=50000 (4, seconds and log size) PIDS=1500 (5) IMPORT_RECORDS=50000 CUTS=8 (6)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TT_BIN:-}" ]; then
  cargo build --release --quiet -p tt-log -p tt-sum -p tt-budget -p tt-export -p tt-gen -p tt-optimize
  TT_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"
fi
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
python3 - "$TT_BIN" "$TMP" <<'PY'
import concurrent.futures as cf, datetime, fcntl, hashlib, json, os, random, re, shutil, subprocess, sys
import threading, time, uuid

BIN, TMP = sys.argv[1], sys.argv[2]
E = os.environ
RECORDS, PROCS, FIT = int(E.get("RECORDS", 200000)), int(E.get("PROCS", 64)), int(E.get("FIT", 200))
ATTEMPTS = int(E.get("ATTEMPTS", 5 * FIT))
TS_RANDOM, DURATION = int(E.get("TS_RANDOM", 200)), float(E.get("DURATION", 60))
READ_RECORDS, PIDS = int(E.get("READ_RECORDS", 50000)), int(E.get("PIDS", 1500))
IMPORT_RECORDS, CUTS = int(E.get("IMPORT_RECORDS", 50000)), int(E.get("CUTS", 8))
ONLY = {int(x) for x in E["ONLY"].split(",")} if E.get("ONLY") else {1, 2, 3, 4, 5, 6}
failures = []

def tool(name):
    return os.path.join(BIN, name)

def fail(item, msg):
    failures.append(f"[{item}] {msg}")
    print(f"  FAIL: {msg}", flush=True)

def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()

def lines(path):
    with open(path, "rb") as f:
        return sum(b.count(b"\n") for b in iter(lambda: f.read(1 << 20), b""))

class Env:
    """An isolated home: its own log, config (budgets) and directories."""
    def __init__(self, name, budgets=""):
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "usage.jsonl")
        self.config = os.path.join(self.dir, "budgets.toml")
        open(self.config, "w").write(budgets)
        self.env = dict(os.environ, HOME=self.dir, XDG_CONFIG_HOME=self.dir, XDG_DATA_HOME=self.dir,
                        TT_LOG=self.log, TT_CONFIG=self.config, NO_COLOR="1")
        for k in ("TT_AGENT", "TT_MODEL", "TT_SESSION", "TT_RESERVATION", "GITHUB_ACTIONS"):
            self.env.pop(k, None)

    def run(self, argv, **kw):
        kw.setdefault("capture_output", True)
        return subprocess.run(argv, env=self.env, cwd=self.dir, stdin=subprocess.DEVNULL, **kw)

    def log_record(self, *extra, tokens=(900, 100), agent="STRESS", enforce=False):
        argv = [tool("tt-log"), "--no-git", "-q", "--agent", agent, "--model", "sonnet-4.5",
                "--input", str(tokens[0]), "--output", str(tokens[1]), *extra]
        return self.run(argv + (["--enforce"] if enforce else []))

def gen(path, n, seed, *extra):
    with open(path, "wb") as f:
        subprocess.run([tool("tt-gen"), "log", "--records", str(n), "--seed", str(seed), *extra], stdout=f, check=True)

def total_tokens(env):
    out = env.run([tool("tt-sum"), env.log], check=True).stdout.decode().splitlines()
    return json.loads(out[-1])["total_tokens"]

def header(item, title):
    print(f"\n== {item}. {title}", flush=True)

t_all = time.perf_counter()
print(f"tt stress test: {os.cpu_count()} CPUs, binaries {BIN}")
base = os.path.join(TMP, "base.jsonl")
if ONLY & {1, 2}:
    gen(base, RECORDS, 11)
    print(f"base log: {RECORDS:,} records, {os.path.getsize(base) / 1e6:.0f} MB")

# ---------------------------------------------------------------------------------------------------------
if 1 in ONLY:
    header(1, "tt-export -o aimed at the log, links to it and its side files")
    t = time.perf_counter()
    e = Env("export", '[[budget]]\nname = "all"\nperiod = "total"\nlimit_tokens = 100000000000000\n')
    shutil.copy(base, e.log)
    e.log_record(enforce=True)                                               # .tt-index
    gen(os.path.join(e.dir, "other.jsonl"), 100, 12)
    e.run([tool("tt-log"), "--import", os.path.join(e.dir, "other.jsonl"), "-q"], check=True)  # .tt-history.jsonl
    e.run([tool("tt-budget"), "--estimate-usd", "0.01", "--reserve"], check=True)           # .tt-holds
    for side in (".torn", ".tt-import.json"):                                # made by tt in rarer cases: stand-ins
        open(e.log + side, "w").write('{"stand-in": true}\n')
    sides = [e.log + s for s in (".tt-index", ".tt-holds", ".tt-history.jsonl", ".torn", ".tt-import.json")]
    missing = [s for s in sides if not os.path.exists(s)]
    if missing:
        fail(1, f"side files not made by the set-up: {missing}")
    os.symlink(e.log, os.path.join(e.dir, "link"))
    os.link(e.log, os.path.join(e.dir, "hard"))
    os.makedirs(os.path.join(e.dir, "sub"))
    os.symlink(e.dir, os.path.join(e.dir, "dirlink"))
    os.symlink(e.log + ".tt-index", os.path.join(e.dir, "index-link"))
    targets = [e.log, "usage.jsonl", "./sub/../usage.jsonl", os.path.join(e.dir, "link"), os.path.join(e.dir, "hard"),
               os.path.join(e.dir, "dirlink", "usage.jsonl"), os.path.join(e.dir, "index-link")] + sides \
              + [os.path.join(e.dir, "dirlink", "usage.jsonl.tt-index")]
    formats = [["--format", "jsonl", "--agent", "ATLAS"], ["--format", "csv"], ["--format", "json"],
               ["--bundle"], ["--format", "markdown"], ["--format", "prometheus"], ["--format", "csv", "--csv-exact"]]
    inputs = [[], [e.log], [os.path.join(e.dir, "other.jsonl")]]   # the default log, the log named, another file
    before = {p: sha(p) for p in [e.log] + sides}
    ino = os.stat(e.log).st_ino
    tried = refused = 0
    for target in targets:
        for fmt in formats:
            for inp in inputs:
                r = e.run([tool("tt-export"), *fmt, "-o", target, *inp])
                tried += 1
                refused += r.returncode == 2
                if r.returncode != 2:
                    fail(1, f"tt-export {' '.join(fmt)} -o {target} {' '.join(inp)}: exit {r.returncode} (expected 2)")
                if os.stat(e.log).st_ino != ino:
                    fail(1, f"the log's inode changed after -o {target}"); ino = os.stat(e.log).st_ino
        now = {p: sha(p) for p in [e.log] + sides}
        for p in now:
            if now[p] != before[p]:
                fail(1, f"{os.path.basename(p)} changed after tt-export -o {target}"); before[p] = now[p]
    # Control: an ordinary -o still works.
    ok = e.run([tool("tt-export"), "--format", "csv", "-o", os.path.join(e.dir, "sub", "out.csv")])
    if ok.returncode != 0:
        fail(1, f"control: tt-export -o sub/out.csv exit {ok.returncode}: {ok.stderr.decode()[:200]}")
    print(f"  {tried} exports aimed at the log ({len(targets)} paths × {len(formats)} formats × {len(inputs)} inputs): "
          f"{refused} refused with exit 2; log {sha(e.log)[:16]}… inode {ino} unchanged: "
          f"{'yes' if not [f for f in failures if f.startswith('[1]')] else 'NO'}  ({time.perf_counter() - t:.1f} s)")
    shutil.rmtree(e.dir)

# ---------------------------------------------------------------------------------------------------------
if 2 in ONLY:
    header(2, f"damaged enforce index, nearly full budget, {PROCS} concurrent tt-log --enforce")
    R = 1000   # tokens per enforced record (900 in, 100 out)
    def zero(text):
        return "".join(re.sub(r"^(\d+\t[^\t\n]*)\t.*$", r"\1\t0\t0\t0\t0", l) if not l.startswith("#") else l
                       for l in text.splitlines(True))
    def garble(text):
        return "".join(re.sub(r"^(\d+\t[^\t\n]*)\t.*$", r"\1\tx\t-\tNaN\t", l) if not l.startswith("#") else l
                       for l in text.splitlines(True))
    damages = {
        "window lines zeroed": lambda t: zero(t),
        "window lines garbled": lambda t: garble(t),
        "one window line halved": lambda t: re.sub(r"(?m)^(\d+\t[^\t\n]*\t\d+)\t[^\n]*$", r"\1", t, count=1),
        "truncated to half": lambda t: t[: len(t) // 2],
        "truncated to its last commit line": lambda t: t[t.rstrip("\n").rfind("\n#") + 1:],
        "truncated mid-commit": lambda t: t[:-40],
        "emptied": lambda t: "",
        "garbage": lambda t: "0\t\t0\t0\t0\t0\n#{}\n",
        "deleted during the race": None,
    }
    for name, damage in damages.items():
        e = Env("enforce")
        shutil.copy(base, e.log)
        s0 = total_tokens(e)
        month_fit = FIT + 3   # the month budget has room for a few more: the total budget is the one that bites
        e_budgets = (f'[[budget]]\nname = "total"\nperiod = "total"\nlimit_tokens = {s0 + (FIT + 1) * R + R // 2}\n'
                     f'[[budget]]\nname = "month"\nperiod = "month"\nscope = {{ agent = "STRESS" }}\n'
                     f'limit_tokens = {(month_fit + 1) * R + R // 2}\n')
        open(e.config, "w").write(e_budgets)
        first = e.log_record(enforce=True)        # admitted; builds the index
        if first.returncode != 0:
            fail(2, f"{name}: the first enforced record was refused: {first.stderr.decode()[:200]}")
        idx = e.log + ".tt-index"
        if damage is not None:
            text = open(idx, encoding="utf-8", errors="replace").read()
            open(idx, "w").write(damage(text))
        n_before = lines(e.log)
        stop = threading.Event()
        def deleter():
            while not stop.is_set():
                try: os.unlink(idx)
                except FileNotFoundError: pass
                time.sleep(0.005)
        th = threading.Thread(target=deleter) if damage is None else None
        if th: th.start()
        t = time.perf_counter()
        with cf.ThreadPoolExecutor(PROCS) as ex:
            codes = list(ex.map(lambda i: e.log_record("--session", f"s{i % 7}", enforce=True).returncode, range(ATTEMPTS)))
        stop.set()
        if th: th.join()
        took = time.perf_counter() - t
        admitted, refused, other = codes.count(0), codes.count(1), [c for c in codes if c not in (0, 1)]
        added = lines(e.log) - n_before
        spent = total_tokens(e)
        ok = admitted == FIT and added == FIT and not other and spent == s0 + (FIT + 1) * R
        print(f"  {name:34}: {ATTEMPTS} calls in {took:.1f} s, admitted {admitted} (fit exactly {FIT}), refused {refused}, "
              f"other exits {sorted(set(other))}, log +{added}, spent {spent - s0:,} of {(FIT + 1) * R + R // 2:,} tokens "
              f"{'ok' if ok else 'BROKEN'}", flush=True)
        if not ok:
            fail(2, f"{name}: admitted {admitted}, appended {added}, expected {FIT}; other exits {other[:5]}")
        b = e.run([tool("tt-budget"), "--fail-over"])
        if b.returncode != 0:
            fail(2, f"{name}: tt-budget --fail-over afterwards exit {b.returncode}")
        shutil.rmtree(e.dir)

# ---------------------------------------------------------------------------------------------------------
if 3 in ONLY:
    header(3, "--enforce --ts against a full month budget; records without a session against a session budget")
    e = Env("ts", '[[budget]]\nname = "month"\nperiod = "month"\nlimit_usd = 0.01\n')
    e.log_record(tokens=(5000, 1000))          # $0.03 this month, over the $0.01 limit (not enforced)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    first_of_month = now.replace(day=1, hour=0, minute=0, second=0)
    fixed = ["9999-12-31T00:00:00Z", "2000-01-01T00:00:00Z", "2000-01-01", (now - datetime.timedelta(days=40)).date().isoformat(),
             (first_of_month - datetime.timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
             (first_of_month - datetime.timedelta(days=1)).date().isoformat(),
             (now + datetime.timedelta(minutes=6)).isoformat().replace("+00:00", "Z"),
             (now + datetime.timedelta(days=1)).isoformat().replace("+00:00", "Z"),
             (now + datetime.timedelta(days=40)).isoformat().replace("+00:00", "Z"),
             (now - datetime.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")]
    rnd = random.Random(3)
    span = int((datetime.datetime(9999, 1, 1, tzinfo=datetime.timezone.utc) - now).total_seconds())
    for _ in range(TS_RANDOM):
        if rnd.random() < 0.5:
            d = datetime.timedelta(seconds=rnd.randint(1, int((now - datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds())))
            fixed.append((now - d).isoformat().replace("+00:00", "Z"))
        else:
            fixed.append((now + datetime.timedelta(seconds=rnd.randint(301, span))).isoformat().replace("+00:00", "Z"))
    h = sha(e.log)
    admitted = []
    codes = {}
    for ts in fixed:
        r = e.log_record("--ts", ts, tokens=(100, 10), enforce=True)
        codes[r.returncode] = codes.get(r.returncode, 0) + 1
        if r.returncode == 0:
            admitted.append(ts)
        elif r.returncode not in (1, 2) or (r.returncode == 2 and ts < now.isoformat()):
            # Refused: exit 1 over the budget; a time ahead of now is an error (exit 2), never a pass.
            fail(3, f"--ts {ts}: exit {r.returncode} (expected 1, or 2 ahead of now): {r.stderr.decode()[:160]}")
    if admitted:
        fail(3, f"{len(admitted)} back- or forward-dated records admitted over a full month budget: {admitted[:5]}")
    if sha(e.log) != h:
        fail(3, "the log changed")
    print(f"  {len(fixed)} dated records (fixed + {TS_RANDOM} random, 2000…9999) against the full month: exits {codes}; "
          f"admitted {len(admitted)}; log unchanged: {'yes' if sha(e.log) == h else 'NO'}")
    # Session budgets: a record without a session is a session of its own.
    open(e.config, "w").write('[[budget]]\nname = "per-session"\nperiod = "session"\nlimit_tokens = 1500\n')
    big = e.log_record(tokens=(1800, 100), enforce=True)        # alone over 1,500: refused with or without a session
    small = [e.log_record(tokens=(900, 100), enforce=True).returncode for _ in range(3)]   # each its own session: fit
    ts_ok = e.log_record("--session", "x", "--ts", (now - datetime.timedelta(minutes=2)).isoformat().replace("+00:00", "Z"),
                         tokens=(900, 100), enforce=True).returncode
    same = [e.log_record("--session", "x", tokens=(900, 100), enforce=True).returncode]   # 2nd in session x: over
    print(f"  session budget 1,500 tokens: 1,900 without a session → exit {big.returncode} (want 1); three of 1,000 "
          f"without a session → {small} (want [0, 0, 0]); 1,000 in session x dated 2 min ago → {ts_ok} (want 0), "
          f"then 1,000 more in x → {same} (want [1])")
    if big.returncode != 1 or small != [0, 0, 0] or ts_ok != 0 or same != [1]:
        fail(3, "session budget rule for records without a session (or the controls) broken")
    shutil.rmtree(e.dir)

# ---------------------------------------------------------------------------------------------------------
if 4 in ONLY:
    header(4, f"readers while writers append records > 64 KiB, {DURATION:.0f} s")
    e = Env("readers", '[[budget]]\nname = "all"\nperiod = "total"\nlimit_tokens = 100000000000000\n'
                       '[[budget]]\nname = "month"\nperiod = "month"\nlimit_usd = 100000000\n')
    gen(e.log, READ_RECORDS, 21)
    template = json.loads(open(e.log).readline())
    stop = threading.Event()
    wrote = {"tt-log --import": 0, "raw, 4 KiB pieces under the lock": 0}
    def big_record(agent):
        r = dict(template, id=str(uuid.uuid4()), agent=agent,
                 ts=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        r["blob"] = "ü" + "x" * (65536 + random.randint(0, 200000)) + "\\\"é"
        return json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n"
    def importer():
        path = os.path.join(e.dir, "big.jsonl")
        while not stop.is_set():
            open(path, "w").write(big_record("W-import"))
            r = e.run([tool("tt-log"), "--import", path, "-q"])
            if r.returncode != 0:
                fail(4, f"writer tt-log --import exit {r.returncode}: {r.stderr.decode()[:200]}")
            wrote["tt-log --import"] += 1
            time.sleep(0.02)
    def raw_writer():
        while not stop.is_set():
            data = big_record("W-raw").encode()
            with open(e.log, "ab") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                for k in range(0, len(data), 4096):
                    f.write(data[k:k + 4096]); f.flush(); time.sleep(0.0005)
                fcntl.flock(f, fcntl.LOCK_UN)
            wrote["raw, 4 KiB pieces under the lock"] += 1
            time.sleep(0.02)
    readers = {
        "tt-sum": [tool("tt-sum"), "--by", "agent", e.log],
        "tt-sum (default log)": [tool("tt-sum"), "--by", "session"],
        "tt-budget": [tool("tt-budget")],
        "tt-budget (records)": [tool("tt-budget"), e.log],
        "tt-export": [tool("tt-export"), "--format", "csv", e.log],
        "tt-optimize": [tool("tt-optimize"), "--format", "jsonl", e.log],
    }
    runs = {k: 0 for k in readers}
    bad = {k: [] for k in readers}
    def reader(name):
        while not stop.is_set():
            r = e.run(readers[name], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, capture_output=False)
            runs[name] += 1
            if r.returncode != 0:
                bad[name].append((r.returncode, r.stderr.decode()[:200]))
    threads = [threading.Thread(target=importer), threading.Thread(target=raw_writer)] + \
              [threading.Thread(target=reader, args=(k,)) for k in readers]
    for th in threads: th.start()
    time.sleep(DURATION)
    stop.set()
    for th in threads: th.join()
    print(f"  writers: {wrote}; log now {lines(e.log):,} lines, {os.path.getsize(e.log) / 1e6:.0f} MB")
    for k in readers:
        print(f"  {k:22}: {runs[k]} runs, {len(bad[k])} failed" + (f" — e.g. exit {bad[k][0][0]}: {bad[k][0][1]}" if bad[k] else ""))
        if bad[k]:
            fail(4, f"{k}: {len(bad[k])} of {runs[k]} runs failed, e.g. exit {bad[k][0][0]}: {bad[k][0][1]}")
    final = e.run([tool("tt-sum"), e.log])
    if final.returncode != 0:
        fail(4, f"tt-sum after the writers stopped: exit {final.returncode}")
    else:
        n = json.loads(final.stdout.decode().splitlines()[-1])["records"]
        want = READ_RECORDS + sum(wrote.values())
        print(f"  after: tt-sum counts {n:,} records (want {want:,})")
        if n != want:
            fail(4, f"records after the run: {n}, want {want}")
    shutil.rmtree(e.dir)

# ---------------------------------------------------------------------------------------------------------
if 5 in ONLY:
    header(5, f"symlinks planted at predictable temp names (next {PIDS} PIDs) and at the side files")
    e = Env("links", '[[budget]]\nname = "all"\nperiod = "total"\nlimit_tokens = 100000000000000\n')
    gen(e.log, 2000, 31)
    out = os.path.join(e.dir, "out"); os.makedirs(out)
    tree = os.path.join(e.dir, "claude")
    subprocess.run([tool("tt-gen"), "claude-tree", "--out", tree, "--files", "6", "--mb", "1"], check=True, capture_output=True)
    bundle = os.path.join(e.dir, "b.ttb")
    victims = {}
    def victim(name):
        p = os.path.join(TMP, "victim-" + name)
        if p not in victims:
            open(p, "w").write(f"victim {name}: must never change\n")
            os.chmod(p, 0o644)
            victims[p] = sha(p)
        return p
    start = int(open("/proc/sys/kernel/ns_last_pid").read())
    planted = set()
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    for k in range(1, PIDS + 1):
        pid = (start + k) % pid_max
        planted.add(pid)
        for name, path in (("index-tmp", f"{e.log}.tt-index.tmp{pid}"), ("import-tmp", f"{e.log}.tt-import.json.tmp{pid}"),
                           ("export-tmp", os.path.join(out, f".out.jsonl.tmp.{pid}")),
                           ("export-tmp", os.path.join(out, f".out.jsonl.tmp{pid}"))):
            os.symlink(victim(name), path)
    sides = {".torn": "torn", ".tt-history.jsonl": "history", ".tt-import.json": "import-state", ".tt-holds": "holds",
             ".tt-index": "index"}
    def plant_sides():
        n = 0
        for s, v in sides.items():
            p = e.log + s
            if not os.path.islink(p):
                if os.path.exists(p): os.unlink(p)
                os.symlink(victim(v), p); n += 1
        return n
    replanted = 0
    ops = {
        "tt-log (repairs a torn last line)": None,
        "tt-log --enforce": [tool("tt-log"), "--no-git", "-q", "--enforce", "STRESS", "haiku-4.5", "10", "10"],
        "tt-log --import bundle": [tool("tt-log"), "--import", bundle, "-q"],
        "tt-log --import claude-code": [tool("tt-log"), "--import", "claude-code", tree, "--finished", "-q"],
        "tt-export -o": [tool("tt-export"), "-o", os.path.join(out, "out.jsonl")],
        "tt-budget --reserve": [tool("tt-budget"), "--estimate-usd", "0.001", "--reserve"],
        "tt-budget": [tool("tt-budget")],
    }
    # Phase 1 (the temp names): the side files are tt's own, so each operation goes as far as writing its temp
    # file (the index is deleted each round so that it is rebuilt). Phase 2: every side file is a planted link.
    exits = {k: [{}, {}] for k in ops}
    in_range = 0
    it = 0
    t = time.perf_counter()
    phase = 0
    while True:
        it += 1
        gen(bundle, 5, 1000 + it)
        if phase == 0 and os.path.exists(e.log + ".tt-index"):
            os.unlink(e.log + ".tt-index")
        for name, argv in ops.items():
            if argv is None:
                with open(e.log, "ab") as f:
                    f.write(b'{"v":1,"id":"torn-' + str(it).encode() + b'","agent":"half')
                argv = [tool("tt-log"), "--no-git", "-q", "STRESS", "haiku-4.5", "10", "10"]
            p = subprocess.Popen(argv, env=e.env, cwd=e.dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            in_range += p.pid in planted
            rc = p.wait()
            exits[name][phase][rc] = exits[name][phase].get(rc, 0) + 1
            if rc not in (0, 1, 2) or (phase == 0 and rc != 0):
                fail(5, f"{name} (phase {phase + 1}): exit {rc}")
        last = int(open("/proc/sys/kernel/ns_last_pid").read())
        if phase == 0 and ((last - start) % pid_max > PIDS * 3 // 4 or it >= 5 * PIDS):
            phase = 1
        if phase == 1:
            replanted += plant_sides()
        if (last - start) % pid_max > PIDS or it >= 5 * PIDS:
            break
    changed = [os.path.basename(p) for p, h in victims.items() if sha(p) != h]
    for name in ops:
        print(f"  {name:34}: exits {exits[name][0]} with temp-name links, {exits[name][1]} with side-file links")
    print(f"  {it} rounds in {time.perf_counter() - t:.1f} s; {in_range} tt processes ran with a PID that had links planted; "
          f"side-file links re-planted {replanted} times; victims changed: {changed or 'none'}")
    if changed:
        fail(5, f"victim files written through planted links: {changed}")
    if lines(e.log) < 2000:
        fail(5, "the log lost records")
    shutil.rmtree(e.dir)

# ---------------------------------------------------------------------------------------------------------
if 6 in ONLY:
    header(6, f"a file-size limit cutting tt-log --import of {IMPORT_RECORDS:,} records")
    e = Env("fsize")
    gen(e.log, 1000, 41)
    imp = os.path.join(e.dir, "import.jsonl")
    gen(imp, IMPORT_RECORDS, 42)
    size0, imp_size = os.path.getsize(e.log), os.path.getsize(imp)
    h0 = sha(e.log)
    rnd = random.Random(6)
    cuts = sorted(rnd.uniform(0.01, 0.99) for _ in range(CUTS))
    for mode in ("SIGXFSZ default", "SIGXFSZ ignored"):
        for frac in cuts:
            blocks = (size0 + int(imp_size * frac)) // 1024
            trap = "trap '' XFSZ; " if mode == "SIGXFSZ ignored" else ""
            r = e.run(["bash", "-c", f"{trap}ulimit -f {blocks}; exec \"$0\" --import \"$1\" -q", tool("tt-log"), imp])
            h, size = sha(e.log), os.path.getsize(e.log)
            with open(e.log, "rb") as f:
                f.seek(size0); tail = f.read()
            torn = "" if not tail or tail.endswith(b"\n") else ", the last line torn"
            s = e.run([tool("tt-sum"), e.log])
            ok = h == h0 and r.returncode != 0 and s.returncode == 0
            print(f"  {mode}, limit at {frac:5.1%} of the batch ({blocks:,} KiB): tt-log exit {r.returncode}, "
                  f"log {'unchanged' if h == h0 else f'CHANGED (+{tail.count(bytes([10])):,} records{torn})'}, tt-sum exit {s.returncode}", flush=True)
            if not ok:
                fail(6, f"{mode}, cut at {frac:.1%}: tt-log exit {r.returncode}, log {'unchanged' if h == h0 else 'changed'} "
                        f"({size - size0:+,} bytes), tt-sum exit {s.returncode}" + (f": {s.stderr.decode()[:160]}" if s.returncode else ""))
                # Start the next cut from the original log again.
                if os.path.exists(e.log + ".torn"): os.unlink(e.log + ".torn")
                with open(e.log, "r+b") as f: f.truncate(size0)
                h0 = sha(e.log)
    r = e.run([tool("tt-log"), "--import", imp, "-q"])
    n = lines(e.log)
    print(f"  then the whole import: exit {r.returncode}, {n:,} records (want {1000 + IMPORT_RECORDS:,})")
    if r.returncode != 0 or n != 1000 + IMPORT_RECORDS:
        fail(6, f"full import afterwards: exit {r.returncode}, {n} records")
    shutil.rmtree(e.dir)

print(f"\n{len(failures)} invariant(s) broken in {time.perf_counter() - t_all:.0f} s" + (":" if failures else ""))
for f in failures:
    print("  " + f)
sys.exit(1 if failures else 0)
PY
