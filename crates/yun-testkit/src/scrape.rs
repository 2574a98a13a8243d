//! Reading a `/metrics` answer in tests: fetching it (with the operator's token), one
//! series' value, and promtool's opinion of the whole.

use std::process::{Command, Stdio};

/// GETs `url` (a `/metrics`), with `token` as the bearer when given: the status and the text.
pub async fn scrape(url: &str, token: Option<&str>) -> (u16, String) {
    let mut r = reqwest::Client::new().get(url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.expect("the metrics endpoint answers");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("a text answer"))
}

/// The value of the series written exactly `series` (name and labels), if present.
pub fn series_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Runs `promtool check metrics` (Debian's prometheus package) on a scrape's text; answers
/// what it said when it finds fault.
pub fn promtool_check_metrics(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the metrics tests need promtool: apt-get install prometheus (scripts/test installs it)");
    check
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(text.as_bytes())
        .expect("writing to promtool");
    let out = check.wait_with_output().expect("promtool ran");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
