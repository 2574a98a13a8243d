//! `yun dev` as its own process, as a newcomer starts it: stopped with SIGTERM when dropped.

use crate::PortBlock;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct DevProcess {
    child: Child,
    /// What it printed up to (and just after) "yun is ready".
    pub lines: Vec<String>,
    /// What it prints after that.
    later: std::sync::mpsc::Receiver<String>,
}

impl Drop for DevProcess {
    fn drop(&mut self) {
        // SIGTERM, as Ctrl-C would: the platform stops cleanly.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl DevProcess {
    /// Starts `yun dev` on `data_dir` with host ports from `ports` and reads its output until
    /// it says it is ready. `config` is a yun.toml to pass with `--config`.
    pub fn start(
        yun_bin: &str,
        data_dir: &Path,
        ports: &PortBlock,
        admin_password: Option<&str>,
        config: Option<&Path>,
    ) -> Self {
        Self::start_logged(yun_bin, data_dir, ports, admin_password, config, None)
    }

    /// As `start`; with `logged`, it logs at that `RUST_LOG` into that file (its stderr)
    /// instead of the test's, and `stop` answers what it printed on stdout.
    pub fn start_logged(
        yun_bin: &str,
        data_dir: &Path,
        ports: &PortBlock,
        admin_password: Option<&str>,
        config: Option<&Path>,
        logged: Option<(&str, &Path)>,
    ) -> Self {
        let http = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut cmd = Command::new(yun_bin);
        cmd.args(["dev", "--http", &http.to_string(), "--port-range"])
            .arg(format!("{}-{}", ports.start, ports.end))
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("YUN_ADMIN_PASSWORD")
            .stdout(Stdio::piped());
        match logged {
            Some((filter, file)) => {
                cmd.env("RUST_LOG", filter)
                    .env("NO_COLOR", "1")
                    .stderr(std::fs::File::create(file).expect("the log file"));
            }
            None => {
                cmd.env("RUST_LOG", crate::child_log_filter())
                    .stderr(Stdio::inherit());
            }
        }
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        if let Some(p) = admin_password {
            cmd.env("YUN_ADMIN_PASSWORD", p);
        }
        let mut child = cmd.spawn().expect("spawning yun dev");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut dev = Self {
            child,
            lines: Vec::new(),
            later: rx,
        };
        loop {
            let line = dev
                .later
                .recv_timeout(Duration::from_secs(30))
                .expect("yun dev prints that it is ready within 30 s");
            let ready = line.starts_with("yun is ready");
            dev.lines.push(line);
            if ready {
                // The admin line, when there is one, follows at once.
                if let Ok(l) = dev.later.recv_timeout(Duration::from_millis(300)) {
                    dev.lines.push(l);
                }
                return dev;
            }
        }
    }

    /// Stops it (SIGTERM, as Ctrl-C) and answers everything it printed on stdout.
    pub fn stop(mut self) -> Vec<String> {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let mut all = std::mem::take(&mut self.lines);
        all.extend(self.later.try_iter());
        all
    }

    /// The API's URL, as the ready line prints it (`http://…/api/v1`).
    pub fn api_url(&self) -> String {
        let ready = self
            .lines
            .iter()
            .find(|l| l.starts_with("yun is ready"))
            .unwrap();
        ready.rsplit(' ').next().unwrap().to_string()
    }

    /// The master's root address (what `yun_api::Client::new` takes).
    pub fn root_url(&self) -> String {
        let api = self.api_url();
        api.split("/api/").next().unwrap_or(&api).to_string()
    }
}

/// Removes a cluster's Docker objects when dropped, whatever the test did.
pub struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        crate::remove_labelled(&self.0);
    }
}

/// The admin password every `DevSite` starts with.
pub const DEV_ADMIN_PASSWORD: &str = "dev-site-admin-rides-a-blue-tram";

/// A fresh `yun dev` as its own process, and the operator's client. Its containers are removed
/// when it is dropped (fields drop in order: the cleanup first, the process after).
pub struct DevSite {
    /// The console's root, `http://localhost:PORT`.
    pub root: String,
    pub anon: yun_api::Client,
    pub admin: yun_api::Client,
    _cleanup: Cleanup,
    pub dev: DevProcess,
    _ports: PortBlock,
    pub data: tempfile::TempDir,
}

impl DevSite {
    /// Starts `yun dev` (the binary `yun_bin`) on a fresh data directory; `config` is the text
    /// of a yun.toml.
    pub async fn start(yun_bin: &str, config: Option<&str>) -> Self {
        crate::docker().await;
        let data = tempfile::tempdir().unwrap();
        let config = config.map(|text| {
            let path = data.path().join("yun.toml");
            std::fs::write(&path, text).unwrap();
            path
        });
        let ports = PortBlock::claim();
        let dev = DevProcess::start(
            yun_bin,
            data.path(),
            &ports,
            Some(DEV_ADMIN_PASSWORD),
            config.as_deref(),
        );
        let root = dev.root_url();
        let anon = yun_api::Client::new(&root).unwrap();
        let token = anon
            .login("admin", DEV_ADMIN_PASSWORD, None)
            .await
            .unwrap()
            .token;
        let admin = anon.with_token(&token);
        let cleanup = Cleanup(admin.fleet().await.unwrap().cluster_id);
        Self {
            root,
            anon,
            admin,
            _cleanup: cleanup,
            dev,
            _ports: ports,
            data,
        }
    }

    /// A renter's account (password NAME-rides-a-blue-tram), signed up and logged in.
    pub async fn renter(&self, name: &str) -> yun_api::Client {
        let password = format!("{name}-rides-a-blue-tram");
        self.anon.register(name, &password).await.unwrap();
        let token = self.anon.login(name, &password, None).await.unwrap().token;
        self.anon.with_token(&token)
    }
}
