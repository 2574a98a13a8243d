//! The store's URL on PostgreSQL: read from the file `YUN_DATABASE_FILE` names (so a password
//! sits neither in the environment nor on the command line), and its password is never in
//! what the master prints or logs, not at `trace`, not when the store cannot be opened.

use std::io::BufRead;
use std::process::{Command, Stdio};

const YUN: &str = env!("CARGO_BIN_EXE_yun");
const SECRET: &str = "pw-never-in-a-log-7f3a";

/// `url` with the password `SECRET` given for its user.
fn with_password(url: &str) -> String {
    url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{SECRET}@"),
        1,
    )
}

fn master(dir: &std::path::Path, url_file: &std::path::Path) -> Command {
    let mut cmd = Command::new(YUN);
    cmd.args(["master", "--http", "127.0.0.1:0", "--rpc", "127.0.0.1:0"])
        .arg("--ca-cert")
        .arg(dir.join("ca.crt"))
        .arg("--ca-key")
        .arg(dir.join("ca.key"))
        .env_remove("YUN_DATABASE")
        .env("YUN_DATABASE_FILE", url_file)
        .env("YUN_ADMIN_PASSWORD", "store-url-admin-password")
        .env("RUST_LOG", "trace")
        .env("NO_COLOR", "1");
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn the_store_url_comes_from_a_file_and_its_password_is_never_printed() {
    let server = yun_store::scratch::test_server();
    assert!(server.starts_with("postgres://postgres@"), "{server}");
    let url = with_password(&yun_store::scratch::new_database(&server).await.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("database");
    std::fs::write(&url_file, format!("{url}\n")).unwrap();

    // It runs on the URL in the file, and answers a login.
    let log = dir.path().join("master.log");
    let mut child = master(dir.path(), &url_file)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    while !printed.contains("yun is ready") {
        assert!(
            out.read_line(&mut printed).unwrap() > 0,
            "stopped before ready: {printed}"
        );
    }
    let api = printed
        .split("API at ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let root = api.trim_end_matches("/api/v1");
    let client = yun_api::Client::new(root).unwrap();
    client
        .login("admin", "store-url-admin-password", None)
        .await
        .expect("a login on the store the file names");
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.len() > 1000, "the master logged at trace");
    assert!(!logged.contains(SECRET), "the password reached the log");
    assert!(!printed.contains(SECRET), "the password was printed");

    // A store it cannot open: the error names the store, without its password.
    let missing = url.replace("/yun_test_", "/no_such_database_");
    std::fs::write(&url_file, &missing).unwrap();
    let failed = master(dir.path(), &url_file).output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&failed.stdout),
        String::from_utf8_lossy(&failed.stderr)
    );
    assert!(!failed.status.success(), "{said}");
    assert!(
        said.contains("opening the store postgres://postgres:"),
        "{said}"
    );
    assert!(!said.contains(SECRET), "the password was printed: {said}");
}
