//! The `yun` client as a user runs it: the built binary against a real `yun dev` on the real
//! engine, with its own home directory (so its contexts file is the test's), reading what it
//! prints and how it exits.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use yun_testkit::{testbox_image, DevSite};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

/// What one command did.
#[derive(Debug)]
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The client with a home of its own, pointed at one master.
struct Yun {
    home: tempfile::TempDir,
    addr: String,
}

impl Yun {
    fn new(addr: &str) -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            addr: addr.to_string(),
        }
    }

    /// The command with this client's home and master; its standard streams are left as
    /// they are (a pseudo-terminal's, under `in_terminal`).
    fn bare(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(YUN);
        cmd.args(args)
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TERM", "xterm")
            .env("YUN_ADDR", &self.addr)
            // Run in the home: a server's yun.toml in the working directory must not matter.
            .current_dir(self.home.path());
        cmd
    }

    /// The command with its standard streams piped to the test.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.bare(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// The command in a pseudo-terminal of its own.
    fn in_terminal(&self, args: &[&str]) -> expectrl::Session {
        let mut term = expectrl::Session::spawn(self.bare(args)).expect("a pseudo-terminal");
        term.set_expect_timeout(Some(std::time::Duration::from_secs(15)));
        term
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Ran {
        let mut child = self.command(args).spawn().expect("the yun binary runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Ran {
        self.run_with_stdin(args, "")
    }

    /// Runs and expects success.
    fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 0, "yun {args:?}: {r:?}");
        r.stdout
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("yun {args:?} -o json: {e}: {out}"))
    }

    fn login(&self, user: &str, password: &str) {
        let r = self.run_with_stdin(
            &["login", "-u", user, "--password-stdin"],
            &format!("{password}\n"),
        );
        assert_eq!(r.code, 0, "login: {r:?}");
    }

    fn contexts_file(&self) -> std::path::PathBuf {
        self.home.path().join(".config/yun/contexts.toml")
    }
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renter_logs_in_runs_lists_follows_stops_and_removes_from_the_command_line() {
    let site = DevSite::start(YUN, None).await;
    let image = testbox_image();
    site.admin.publish_image(&image).await.unwrap();
    site.renter("cleo").await;
    let yun = Yun::new(&site.root);
    // A server's settings file where the client runs is not the client's: it is never read.
    std::fs::write(yun.home.path().join("yun.toml"), "not = [valid toml").unwrap();

    // Not logged in yet: 125, and it says what to do.
    let r = yun.run(&["ps"]);
    assert_eq!(r.code, 125, "{r:?}");
    assert!(
        r.stderr.contains("not logged in") && r.stderr.contains("yun login"),
        "{r:?}"
    );

    // Login keeps the session in a 0600 file in a 0700 directory, and never prints the token.
    let r = yun.run_with_stdin(
        &["login", "-u", "cleo", "--password-stdin"],
        "cleo-rides-a-blue-tram\n",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let file = yun.contexts_file();
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    let saved = std::fs::read_to_string(&file).unwrap();
    let token = saved
        .lines()
        .find_map(|l| l.strip_prefix("token = \""))
        .map(|t| t.trim_end_matches('"').to_string())
        .expect("a token in the file");
    assert!(!r.stdout.contains(&token) && !r.stderr.contains(&token));
    assert!(yun.ok(&["whoami"]).starts_with("cleo (renter)"));
    let version = yun.json(&["version", "-o", "json"]);
    assert_eq!(version["client"], version["server"], "{version}");

    // Run two in the background; ps lists them, -o json parses, -q gives ids.
    let web = yun.ok(&[
        "run", "-d", "--name", "web", "-p", "8080", &image, "serve", "8080", "hi",
    ]);
    let web = web.trim().to_string();
    yun.ok(&[
        "run",
        "-d",
        "--read-only",
        "--name",
        "db",
        &image,
        "sleep",
        "0",
    ]);
    let listed = yun.json(&["ps", "-o", "json"]);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"web") && names.contains(&"db"), "{listed}");
    let table = yun.ok(&["ps"]);
    assert!(
        table.starts_with("ID ") && table.contains("web") && table.contains("->8080/tcp"),
        "{table}"
    );
    let ids = yun.ok(&["ps", "-q"]);
    assert!(ids.lines().any(|l| l == web), "{ids}");
    let endpoint = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web")
        .unwrap()["ports"][0]["endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    yun_testkit::fetch_eventually(&endpoint).await;

    // Names and id prefixes resolve; an unknown one is 1.
    let inspected = yun.json(&["inspect", "-o", "json", &web[..10]]);
    assert_eq!(inspected["name"], "web");
    assert_eq!(inspected["read_only"], false);
    assert_eq!(yun.json(&["inspect", "db"])["read_only"], true);
    assert_eq!(yun.json(&["inspect", "web"])["id"], web.as_str());
    let r = yun.run(&["inspect", "nothing-like-it"]);
    assert_eq!(r.code, 1, "{r:?}");

    // Logs: stdout to stdout, a line written now is there.
    reqwest::get(format!("http://{endpoint}/log/marker-from-the-test"))
        .await
        .unwrap();
    let logs = yun.ok(&["logs", "web"]);
    assert!(
        logs.contains("serving on 8080") && logs.contains("marker-from-the-test"),
        "{logs}"
    );
    let lines: Vec<serde_json::Value> = yun
        .ok(&["logs", "-o", "jsonl", "--tail", "1", "web"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["stream"], "stdout");

    // A followed log keeps the connection and shows what comes later.
    let follow = yun.command(&["logs", "-f", "web"]).spawn().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    reqwest::get(format!("http://{endpoint}/log/later-line"))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let _ = Command::new("kill").arg(follow.id().to_string()).status();
    let out = follow.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("later-line"));

    // Stop, start, and rm (which wants -f for a running one).
    assert_eq!(yun.ok(&["stop", "web"]).trim(), "web");
    let all = yun.json(&["ps", "-a", "--filter", "state=stopped", "-o", "json"]);
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert!(
        !yun.ok(&["ps"]).contains(" web "),
        "ps shows running ones only"
    );
    yun.ok(&["start", "web"]);
    let r = yun.run(&["rm", "web"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("yun rm -f"), "{r:?}");
    yun.ok(&["rm", "-f", "web", "db"]);
    assert_eq!(yun.ok(&["ps", "-aq"]), "");

    // An attached run follows the log and ends with the command's exit code.
    let r = yun.run(&["run", "--rm", &image, "print", "2", "attached", "exit", "3"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stdout.contains("attached 1") && r.stderr.contains("err attached 1"),
        "{r:?}"
    );
    assert_eq!(yun.ok(&["ps", "-aq"]), "", "--rm removed it");

    // Logout ends the session on the server too.
    yun.ok(&["logout"]);
    let old = site.anon.with_token(&token);
    assert_eq!(old.me().await.unwrap_err().status(), Some(401));
    assert_eq!(yun.run(&["whoami"]).code, 125);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_s_exit_codes_tell_errors_refusals_and_an_unusable_master_apart() {
    let site = DevSite::start(YUN, None).await;
    let image = testbox_image();
    site.admin.publish_image(&image).await.unwrap();

    // Nothing listens here: 125, with the cause and what to do.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = Yun::new(&format!("http://127.0.0.1:{port}"));
    let r = nowhere.run_with_stdin(&["login", "-u", "x", "--password-stdin"], "x\n");
    assert_eq!(r.code, 125, "{r:?}");
    assert_eq!(
        r.stderr.trim(),
        format!("yun: cannot reach http://127.0.0.1:{port} (connection refused); is the master running? (yun dev)")
    );

    // A wrong password is an error (1); the operator starts with no credit, so a run is a
    // refusal they can act on (2).
    let yun = Yun::new(&site.root);
    let r = yun.run_with_stdin(
        &["login", "-u", "admin", "--password-stdin"],
        "wrong-rides-a-blue-tram\n",
    );
    assert_eq!(r.code, 1, "{r:?}");
    yun.login("admin", yun_testkit::DEV_ADMIN_PASSWORD);
    let r = yun.run(&["run", "-d", &image, "sleep", "0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("balance"), "{r:?}");

    // Bad input is refused before anything is sent.
    let r = yun.run(&["run", "-d", "-p", "http", &image]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("-p http is not a port"), "{r:?}");

    // The operator's commands, and a renter's refusal of them.
    yun.ok(&["admin", "user", "credit", "admin", "1000", "to try a run"]);
    let nodes = yun.json(&["admin", "nodes", "-o", "json"]);
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 1);
    // An operator opens an account for someone; its owner logs in with it.
    let r = yun.run_with_stdin(
        &["admin", "user", "create", "newbie", "--password-stdin"],
        "newbie-rides-a-blue-tram\n",
    );
    assert_eq!((r.code, r.stdout.trim()), (0, "newbie"), "{r:?}");
    let users = yun.json(&["admin", "users", "-o", "json"]);
    assert!(users.to_string().contains("\"newbie\""), "{users}");
    // The table shows the master's calls to each node (the refused run made none: refused
    // before any node was asked), and the JSON counts them.
    let table = yun.ok(&["admin", "nodes"]);
    assert!(table.lines().next().unwrap().contains("CALLS"), "{table}");
    assert!(
        nodes["nodes"][0]["calls"]["total"].as_u64().is_some(),
        "{nodes}"
    );
    // yun dev's fleet is on mutual TLS; a join token names its CA and prints alone on stdout.
    assert_eq!(nodes["insecure_plaintext"], false);
    let digest = nodes["ca_digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let token = yun.ok(&["admin", "join-token", "--ttl", "1h", "--uses", "2"]);
    assert!(
        token.trim().starts_with(&format!("YUN1-{digest}-")),
        "{token}"
    );
    let listed = yun.json(&["admin", "join-token", "ls", "-o", "json"]);
    let id = listed[0]["id"].as_str().unwrap().to_string();
    assert_eq!(listed[0]["max_uses"], 2);
    assert_eq!(listed[0]["state"], "active");
    yun.ok(&["admin", "join-token", "revoke", &id]);
    let listed = yun.json(&["admin", "join-token", "ls", "-o", "json"]);
    assert_eq!(listed[0]["state"], "revoked");
    let r = yun.run(&["admin", "join-token", "--ttl", "10s"]);
    assert_eq!(r.code, 1, "bad input: {r:?}");
    assert!(r.stderr.contains("between 1 minute and 365 days"), "{r:?}");
    site.renter("rex").await;
    let renter = Yun::new(&site.root);
    renter.login("rex", "rex-rides-a-blue-tram");
    let r = renter.run(&["admin", "users"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("only an operator"), "{r:?}");

    // A renter's sessions, access tokens and password from the command line.
    let laptop = Yun::new(&site.root);
    laptop.login("rex", "rex-rides-a-blue-tram");
    let sessions = renter.json(&["session", "ls", "-o", "json"]);
    let sessions = sessions.as_array().unwrap();
    assert!(sessions.len() >= 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(renter.ok(&["session", "ls"]).contains(" *"));
    let token = renter.ok(&["token", "create", "ci-deploy", "--days", "7"]);
    let token = token.trim();
    assert!(token.starts_with("yunpat_"), "alone on stdout: {token}");
    let as_script = |args: &[&str]| {
        let script = Yun::new(&site.root);
        let out = script
            .command(args)
            .env("YUN_TOKEN", token)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(
        as_script(&["whoami"]),
        (Some(0), format!("rex (renter) at {}\n", site.root))
    );
    let listed = renter.json(&["token", "ls", "-o", "json"]);
    assert_eq!(listed[0]["name"], "ci-deploy");
    assert!(!listed.to_string().contains(token));
    let r = renter.run_with_stdin(
        &["passwd", "--password-stdin"],
        "rex-rides-a-blue-tram\nrex-sails-past-red-buoys\n",
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("other session(s) ended"), "{r:?}");
    assert_eq!(laptop.run(&["whoami"]).code, 125, "the other session ended");
    renter.ok(&["whoami"]);
    let r = renter.run_with_stdin(&["passwd", "--password-stdin"], "wrong-old-password\nx\n");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("current password is wrong"), "{r:?}");
    // The CLI keeps this machine's device token past a logout and brings it to the next
    // login, so a stranger's flood against the account never holds it back (the throttle
    // itself is tested in accounts.rs); a failure from it is audited as a known device's.
    renter.ok(&["logout"]);
    let contexts = std::fs::read_to_string(renter.contexts_file()).unwrap();
    assert!(
        contexts.contains("[devices]") && contexts.contains("rex@"),
        "{contexts}"
    );
    let r = renter.run_with_stdin(
        &["login", "-u", "rex", "--password-stdin"],
        "not-the-password\n",
    );
    assert_eq!(r.code, 1, "{r:?}");
    let audit = site
        .admin
        .audit(&yun_api::client::Page::first(100))
        .await
        .unwrap();
    assert!(
        audit
            .entries
            .iter()
            .any(|e| e.action == "login_failed" && e.detail.contains("a known device")),
        "{audit:?}"
    );
    renter.login("rex", "rex-sails-past-red-buoys");
    let id = listed[0]["id"].as_str().unwrap();
    renter.ok(&["token", "revoke", id]);
    assert_eq!(
        as_script(&["whoami"]).0,
        Some(125),
        "a revoked token opens nothing"
    );

    // The help shows the exit table.
    let help = yun.ok(&["--help"]);
    assert!(
        help.contains("Exit status:") && help.contains("insufficient_balance"),
        "{help}"
    );
}

/// Reads a child's stdout until `want` shows or 15 s pass; answers all it read.
fn read_until(child: &mut std::process::Child, want: &str) -> String {
    use std::io::Read;
    let mut out = child.stdout.take().expect("a piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(want) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.extend(chunk),
            Err(_) => panic!(
                "no {want:?} within 15 s; read {:?}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_stats_events_pull_and_completions_from_the_command_line() {
    let registry = yun_testkit::LocalRegistry::start().await;
    let site = DevSite::start(YUN, Some("allowed_registries = [\"127.0.0.1\"]\n")).await;
    let busybox = yun_testkit::busybox_image();
    site.admin.publish_image(&busybox).await.unwrap();
    // An account made from the command line, logged in at once.
    let yun = Yun::new(&site.root);
    let r = yun.run_with_stdin(
        &["signup", "-u", "tao", "--password-stdin"],
        "tao-rides-a-blue-tram\n",
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(yun.ok(&["whoami"]).starts_with("tao (renter)"));
    let r = yun.run_with_stdin(
        &["signup", "-u", "tao", "--password-stdin"],
        "tao-rides-a-blue-tram\n",
    );
    assert_eq!(r.code, 2, "a taken name is a refusal: {r:?}");
    yun.ok(&["run", "-d", "--name", "box", &busybox]);

    // Without a terminal: stdout and stderr apart, stdin piped, the command's exit code.
    let r = yun.run(&["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 5"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (5, "out\n", "err\n"),
        "{r:?}"
    );
    let r = yun.run_with_stdin(&["exec", "-i", "box", "cat"], "piped in\n");
    assert_eq!((r.code, r.stdout.as_str()), (0, "piped in\n"), "{r:?}");
    let r = yun.run(&["exec", "-t", "box", "true"]);
    assert_eq!(r.code, 1, "-t without a terminal is refused: {r:?}");

    // Stats once, as JSON: a sample for the container.
    let stats = yun.json(&["stats", "--no-stream", "-o", "json", "box"]);
    let (id, sample) = stats.as_object().unwrap().iter().next().expect("a sample");
    assert!(id.starts_with("1"), "{stats}");
    assert!(
        sample["memory_limit_bytes"].as_u64().unwrap() > 0,
        "{stats}"
    );
    let table = yun.ok(&["stats", "--no-stream", "box"]);
    assert!(
        table.contains("CPU % (PLAN)") && table.contains("box"),
        "{table}"
    );

    // Events as JSON lines: a stop shows as it happens.
    let mut events = yun.command(&["events", "-o", "jsonl"]).spawn().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    yun.ok(&["stop", "box"]);
    let seen = read_until(&mut events, "\"stopped\"");
    assert!(
        seen.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "{seen}"
    );
    let _ = events.kill();
    let _ = events.wait();
    yun.ok(&["start", "box"]);

    // A pull: progress then the image, as JSON lines.
    let reference = registry.push_fresh("tao/box", 2);
    let lines: Vec<serde_json::Value> = yun
        .ok(&["pull", "-o", "jsonl", &reference])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines
        .iter()
        .any(|l| l["type"] == "progress" && !l["layer"].as_str().unwrap().is_empty()));
    assert_eq!(lines.last().unwrap()["type"], "done", "{lines:?}");
    assert!(yun.ok(&["images", "-q"]).contains(&reference));
    yun.ok(&["rmi", &reference]);

    // Completion scripts.
    assert!(yun.ok(&["completions", "bash"]).contains("_yun"));
    assert!(yun.ok(&["completions", "fish"]).contains("complete -c yun"));
}

/// Whether the pseudo-terminal edits lines (ICANON), as a terminal does until a program puts
/// it in raw mode.
fn line_editing(term: &expectrl::Session) -> bool {
    use std::os::fd::AsRawFd;
    let master = term.get_process().get_raw_handle().unwrap();
    let mut modes: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr fills the struct it is given from an open terminal descriptor.
    assert_eq!(
        unsafe { libc::tcgetattr(master.as_raw_fd(), &mut modes) },
        0
    );
    modes.c_lflag & libc::ICANON != 0
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_it_and_stats_in_a_real_terminal() {
    use expectrl::ControlCode;
    let site = DevSite::start(YUN, None).await;
    let busybox = yun_testkit::busybox_image();
    site.admin.publish_image(&busybox).await.unwrap();
    site.renter("uma").await;
    let yun = Yun::new(&site.root);
    yun.login("uma", "uma-rides-a-blue-tram");
    yun.ok(&["run", "-d", "--name", "box", &busybox]);

    // exec -it: a shell in this terminal, raw while it runs, its size following the window,
    // and the shell's exit code.
    let mut term = yun.in_terminal(&["exec", "-it", "box", "/bin/sh"]);
    term.expect("# ").unwrap();
    assert!(
        !line_editing(&term),
        "the local terminal is raw while the shell runs"
    );
    term.send_line("echo hi").unwrap();
    term.expect("\r\nhi\r\n").unwrap();
    term.get_process_mut().set_window_size(101, 31).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    term.send_line("stty size").unwrap();
    term.expect("31 101").unwrap();
    term.send_line("exit 4").unwrap();
    let status = term.get_process().wait().unwrap();
    assert_eq!(
        status,
        expectrl::WaitStatus::Exited(term.get_process().pid(), 4),
        "the client ends with the shell's code"
    );
    assert!(line_editing(&term), "the terminal's modes are restored");

    // On a terminal a running container's state is green.
    let mut ps = yun.in_terminal(&["ps"]);
    ps.expect("\x1b[32mrunning").unwrap();

    // An attached run follows the log until Ctrl-C, which detaches and leaves it running.
    let mut attached = yun.in_terminal(&[
        "run",
        "--name",
        "kept",
        &busybox,
        "sh",
        "-c",
        "echo ready; sleep 600",
    ]);
    attached.expect("ready").unwrap();
    attached.send(ControlCode::EndOfText).unwrap();
    attached.expect("still running and billed").unwrap();
    let status = attached.get_process().wait().unwrap();
    assert_eq!(
        status,
        expectrl::WaitStatus::Exited(attached.get_process().pid(), 0)
    );
    let kept = yun.json(&["inspect", "kept"]);
    assert_eq!(kept["state"], "running", "{kept}");

    // With NO_COLOR the cursor stays still: the table is printed once a second instead.
    let mut plain = yun.bare(&["stats", "box"]);
    plain.env("NO_COLOR", "1");
    let mut plain = expectrl::Session::spawn(plain).unwrap();
    plain.set_expect_timeout(Some(std::time::Duration::from_secs(15)));
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.extend_from_slice(plain.expect("box").unwrap().before());
    }
    plain.send(ControlCode::EndOfText).unwrap();
    let _ = std::io::Read::read_to_end(&mut plain, &mut seen);
    let printed = String::from_utf8_lossy(&seen);
    assert!(
        !printed.contains('\x1b'),
        "no escape codes with NO_COLOR: {printed:?}"
    );

    // stats: the table redrawn in place (home, then the rows) until Ctrl-C.
    let mut stats = yun.in_terminal(&["stats", "box"]);
    for _ in 0..2 {
        stats.expect("\x1b[HID").unwrap();
        stats.expect("box").unwrap();
    }
    stats.send(ControlCode::EndOfText).unwrap();
    stats.expect("\x1b[?25h").unwrap();
    let status = stats.get_process().wait().unwrap();
    assert_eq!(
        status,
        expectrl::WaitStatus::Exited(stats.get_process().pid(), 0)
    );
}
