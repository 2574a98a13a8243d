//! A cluster of separate processes (`yun master`, `yun worker`), for the fault tests that kill
//! them. The master keeps its addresses and store across a restart.

use crate::{remove_labelled, Api, Engine, PortBlock, WorkerProcess};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const PROCESS_ADMIN_PASSWORD: &str = "admin-password-for-fault-tests";

pub struct ProcessCluster {
    yun_bin: String,
    dir: tempfile::TempDir,
    pub http: SocketAddr,
    pub rpc: SocketAddr,
    pub join_token: String,
    master: Option<Child>,
    pub api: Api,
    pub admin: Api,
    pub cluster_id: String,
    extra_args: Vec<String>,
    /// The store's URL, kept across restarts.
    database: String,
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

impl ProcessCluster {
    /// Starts `yun master` with fast fleet timings: 1 s heartbeats (a node is down after 7 s),
    /// a reconcile pass every second, and a 3 s orphan grace.
    pub async fn start(yun_bin: &str, extra_args: &[&str]) -> Self {
        Self::launch(Engine::Sqlite, yun_bin, None, extra_args).await
    }

    /// As `start`, the store on `engine`.
    pub async fn start_on(engine: Engine, yun_bin: &str, extra_args: &[&str]) -> Self {
        Self::launch(engine, yun_bin, None, extra_args).await
    }

    /// As `start`, with `yun_toml` as the master's settings file (`--config`).
    pub async fn start_with_file(yun_bin: &str, yun_toml: &str, extra_args: &[&str]) -> Self {
        Self::launch(Engine::Sqlite, yun_bin, Some(yun_toml), extra_args).await
    }

    /// As `start_with_file`, the store on `engine`.
    pub async fn start_with_file_on(
        engine: Engine,
        yun_bin: &str,
        yun_toml: &str,
        extra_args: &[&str],
    ) -> Self {
        Self::launch(engine, yun_bin, Some(yun_toml), extra_args).await
    }

    async fn launch(
        engine: Engine,
        yun_bin: &str,
        yun_toml: Option<&str>,
        extra_args: &[&str],
    ) -> Self {
        crate::docker().await;
        let http = free_addr();
        let api = Api::new(&format!("http://{http}/api/v1"));
        let dir = tempfile::tempdir().expect("temp dir");
        let database = engine.database(dir.path()).await;
        let mut extra_args: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        if engine != Engine::Sqlite {
            // Beside a SQLite file the master finds its CA by itself; elsewhere it is given.
            for (flag, file) in [("--ca-cert", "ca.crt"), ("--ca-key", "ca.key")] {
                extra_args.extend([
                    flag.to_string(),
                    dir.path().join(file).display().to_string(),
                ]);
            }
        }
        if let Some(text) = yun_toml {
            let path = dir.path().join("yun.toml");
            std::fs::write(&path, text).expect("writing yun.toml");
            extra_args.extend(["--config".to_string(), path.display().to_string()]);
        }
        let mut me = Self {
            yun_bin: yun_bin.to_string(),
            dir,
            http,
            rpc: free_addr(),
            join_token: String::new(),
            master: None,
            admin: api.clone(),
            api,
            cluster_id: String::new(),
            extra_args,
            database,
        };
        me.start_master().await;
        me.admin = me.api.log_in("admin", PROCESS_ADMIN_PASSWORD).await;
        me.join_token = me
            .admin
            .client()
            .create_join_token(&yun_api::admin::NewJoinToken::default())
            .await
            .expect("a join token")
            .token;
        me.cluster_id = me.admin.get("/admin/nodes").await.body["cluster_id"]
            .as_str()
            .expect("the node list names the cluster")
            .to_string();
        me
    }

    pub async fn start_master(&mut self) {
        let child = Command::new(&self.yun_bin)
            .args([
                "master",
                "--http",
                &self.http.to_string(),
                "--rpc",
                &self.rpc.to_string(),
            ])
            .arg("--database")
            .arg(self.database())
            .args([
                "--heartbeat-interval",
                "1s",
                "--reconcile-interval",
                "1s",
                "--orphan-grace",
                "3s",
            ])
            .args(&self.extra_args)
            // Tests that are not about money get enough of it not to meet its limits.
            .args(
                (!self.extra_args.iter().any(|a| a == "--signup-credits"))
                    .then_some(["--signup-credits", "1000000000"])
                    .into_iter()
                    .flatten(),
            )
            .env("YUN_ADMIN_PASSWORD", PROCESS_ADMIN_PASSWORD)
            .env("RUST_LOG", crate::child_log_filter())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning yun master");
        self.master = Some(child);
        for _ in 0..100 {
            if self
                .api
                .http
                .get(format!("http://{}/healthz", self.http))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("yun master did not answer on {}", self.http);
    }

    /// Starts the master on another store from now on (a moved one), with the CA's files of
    /// the data directory given, as a store other than SQLite needs.
    pub fn use_store(&mut self, database: &str) {
        self.database = database.to_string();
        if !database.starts_with("sqlite:") && !self.extra_args.iter().any(|a| a == "--ca-cert") {
            for (flag, file) in [("--ca-cert", "ca.crt"), ("--ca-key", "ca.key")] {
                self.extra_args.extend([
                    flag.to_string(),
                    self.dir.path().join(file).display().to_string(),
                ]);
            }
        }
    }

    /// The master's store, as its `--database` names it.
    pub fn database(&self) -> String {
        self.database.clone()
    }

    /// The directory the store (and the cluster CA beside it) lives in.
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The master process's id, while it runs.
    pub fn master_pid(&self) -> Option<u32> {
        self.master.as_ref().map(|c| c.id())
    }

    /// Sends the master process a signal (`TERM` asks it to stop).
    pub fn signal_master(&self, signal: &str) {
        let pid = self.master_pid().expect("the master runs");
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill -{signal} {pid}");
    }

    /// Waits for the master process to exit by itself.
    pub fn wait_master_exit(&mut self) -> std::process::ExitStatus {
        let mut c = self.master.take().expect("the master runs");
        c.wait().expect("waiting for the master")
    }

    /// kill -9 the master.
    pub fn kill_master(&mut self) {
        if let Some(mut c) = self.master.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn spawn_worker(
        &self,
        name: &str,
        ports: &PortBlock,
        extra_args: &[&str],
    ) -> WorkerProcess {
        WorkerProcess::spawn(
            &self.yun_bin,
            self.rpc,
            &self.join_token,
            &crate::cluster::worker_state_dir(self.dir.path(), name),
            name,
            ports,
            extra_args,
        )
    }

    /// The admin's view of one node.
    pub async fn node(&self, name: &str) -> serde_json::Value {
        self.admin.node(name).await
    }

    /// Polls until `check` holds, for at most `limit`; panics with `what` otherwise.
    /// Publishes the testbox image in the public catalog and returns its reference.
    pub async fn publish_testbox(&self) -> String {
        let image = crate::testbox_image();
        let r = self
            .admin
            .post("/admin/images", serde_json::json!({"reference": image}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        image
    }

    /// Waits until the node called `name` is ready.
    pub async fn wait_ready(&self, name: &str) {
        self.eventually(
            Duration::from_secs(15),
            &format!("{name} is ready"),
            || async { self.node(name).await["state"] == "ready" },
        )
        .await;
    }

    pub async fn eventually<F, Fut>(&self, limit: Duration, what: &str, check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        crate::eventually(limit, what, check).await
    }
}

impl Drop for ProcessCluster {
    fn drop(&mut self) {
        self.kill_master();
        remove_labelled(&self.cluster_id);
    }
}

/// A `yun master` process on loopback with its own SQLite file in `dir`, its stderr (the log)
/// written to `dir/master.log`, for tests that read what it logs.
pub struct LoggedMaster {
    pub child: Child,
    /// The API's base URL (`http://127.0.0.1:PORT/api/v1`).
    pub api_url: String,
    pub log: std::path::PathBuf,
}

impl LoggedMaster {
    /// Starts it with `global` flags before `master` (such as `--log-format json`) and `env`,
    /// and waits until it says it is ready.
    pub fn start(
        yun_bin: &str,
        dir: &std::path::Path,
        global: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        use std::io::BufRead;
        let log = dir.join("master.log");
        let mut cmd = Command::new(yun_bin);
        cmd.args(global)
            .args([
                "master",
                "--http",
                "127.0.0.1:0",
                "--rpc",
                "127.0.0.1:0",
                "--database",
            ])
            .arg(format!("sqlite://{}", dir.join("yun.db").display()))
            .env("NO_COLOR", "1")
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("the log file"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("yun master starts");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        while !line.contains("yun is ready") {
            line.clear();
            let n = out
                .read_line(&mut line)
                .expect("reading the master's stdout");
            assert!(n > 0, "the master stopped before it was ready");
        }
        let api_url = line
            .split("API at ")
            .nth(1)
            .expect("the ready line names the API")
            .trim()
            .to_string();
        Self {
            child,
            api_url,
            log,
        }
    }

    /// Stops it and answers everything it logged.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).expect("the log file")
    }
}
