//! A real Chromium (Debian's `chromium` and `chromium-driver`), headless, driven over
//! WebDriver. A test that needs it and finds none fails and says what to install.

use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// One browser session; chromedriver (and so Chromium) stops when it is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    /// The profile (a cold cache each time); its path names this browser's processes.
    profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        // Chromium detaches from chromedriver and would outlive it: its processes are the ones
        // naming this browser's profile.
        let profile = self.profile.path().display().to_string();
        for pid in crate::procfs::pids_with_arg(&profile) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = self.driver.wait();
    }
}

/// Where screenshots go: `target/screenshots/` of the workspace.
pub fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("target/screenshots");
    dir
}

/// What a page that never finished starting had: its state, what it says, and every request
/// that completed with its timing (a module or API call missing from the list is the one
/// that hung).
const STUCK_PAGE: &str = r#"
return {
  readyState: document.readyState,
  says: document.body ? document.body.innerText.slice(0, 200) : null,
  done: performance.getEntriesByType("resource").map((r) =>
    `${new URL(r.name).pathname} ${Math.round(r.startTime)}-${Math.round(r.responseEnd)} ms ${r.responseStatus || ""}`),
};
"#;

impl Browser {
    /// Starts headless Chromium at `width` x `height` CSS pixels.
    pub async fn start(width: u32, height: u32) -> Self {
        for path in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                std::path::Path::new(path).exists(),
                "the browser tests need {path}: apt-get install chromium chromium-driver (scripts/test does)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a browser profile");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    // CI runs as root, where Chromium's sandbox cannot start.
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-extensions",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if tokio::time::Instant::now() > deadline => {
                    panic!("chromedriver did not start a session: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        let _ = client.set_window_size(width, height).await;
        Self {
            client,
            driver,
            profile,
        }
    }

    /// Sets a cookie from a script of the current page, as another page on that host could
    /// (a cookie-tossing attack), with the attributes given (`path=/api`, ...).
    pub async fn toss_cookie(&self, name: &str, value: &str, attributes: &str) {
        let set = format!("{name}={value}; {attributes}");
        self.eval(&format!("document.cookie = {set:?}; return true;"))
            .await;
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("the page opens");
    }

    /// Opens the console's page at `url` and waits until `css` shows.
    pub async fn open_page(&self, url: &str, css: &str) {
        self.goto(url).await;
        self.find(css).await;
    }

    /// The element `css` matches once it exists (within 30 s: the suite loads the machine).
    /// A console page that never started is reported with every request it completed.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(el) => el,
            Err(e) => {
                self.screenshot("failed").await;
                let url = self.client.current_url().await.map(|u| u.to_string());
                let loaded = self.eval(STUCK_PAGE).await;
                let stuck = self.stuck_loading().await;
                panic!("no {css} on {url:?} (see target/screenshots/failed.png; still at Loading: {stuck}): {e}; the page had {loaded}")
            }
        }
    }

    /// Whether the console's page is still at its "Loading…" placeholder.
    async fn stuck_loading(&self) -> bool {
        self.eval("const v = document.getElementById('view'); return !!v && v.innerText.trim() === 'Loading…';")
            .await
            == serde_json::Value::Bool(true)
    }

    /// Types `text` into the field `css`, after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.expect("clearing a field");
        el.send_keys(text).await.expect("typing");
    }

    /// Clicks `css`; a live page may redraw it between finding and clicking, so it is found
    /// again then.
    pub async fn click(&self, css: &str) {
        for _ in 0..5 {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("a click on {css}: {e}"),
            }
        }
        panic!("{css} kept being redrawn under the click");
    }

    /// Runs `script` (a function body) in the page and answers what it returns.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The rendered text of the first element `css` matches, once there is one, read in one
    /// script: a page that draws the element again between a lookup and a read would leave
    /// WebDriver's handle stale.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await;
        let read = self
            .eval(&format!(
                "const e = document.querySelector({css:?}); return e ? e.innerText : null;"
            ))
            .await;
        read.as_str()
            .unwrap_or_else(|| panic!("{css} went from the page"))
            .to_string()
    }

    /// Polls `check` (a script that returns a boolean) until it holds, for at most 30 s: a
    /// deadline for a machine busy with the whole suite on two cores (CI once missed 15 s),
    /// not a measure of speed, which is the benchmarks' business.
    pub async fn until(&self, what: &str, check: &str) {
        self.until_within(Duration::from_secs(30), what, check)
            .await
    }

    /// `until` with another limit.
    pub async fn until_within(&self, limit: Duration, what: &str, check: &str) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.eval(check).await == serde_json::Value::Bool(true) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                self.screenshot("failed").await;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "within {limit:?}: {what} (checked with `{check}`) on {} (see target/screenshots/failed.png)",
                self.client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Saves what the page looks like now as `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("writing it");
    }
}
