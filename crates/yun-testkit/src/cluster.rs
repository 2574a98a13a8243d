//! A whole cluster for one test: a master on a fresh SQLite file, an in-process worker on the
//! real engine with its own port block, and an admin client. Dropping it removes every Docker
//! object labelled with its cluster id.

use crate::{testbox_image, Api, Engine, PortBlock};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use yun_master::{MasterConfig, RunningMaster};
use yun_worker::runtime::docker::DockerOptions;
use yun_worker::{RunningWorker, WorkerConfig};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// Where test workers publish renters' ports, and the host in their endpoints, as under
/// `yun dev` (the master and `localhost` are on 127.0.0.1).
pub const NODE_ADDRESS: &str = yun_worker::LOOPBACK_NODE_ADDRESS;

pub struct TestCluster {
    pub master: RunningMaster,
    pub worker: Option<RunningWorker>,
    pub api: Api,
    pub admin: Api,
    pub ports: PortBlock,
    /// Good for a day and any number of joins.
    pub join_token: String,
    pub dir: tempfile::TempDir,
    /// The master's store, as its configuration names it.
    pub database: String,
}

pub fn docker_options() -> DockerOptions {
    DockerOptions {
        endpoint: "unix:///var/run/docker.sock".into(),
        tenant_subnets: "10.210.0.0/16".parse().expect("literal subnet"),
        tenant_prefix_len: 26,
        allow_unenforced_limits: false,
        shield_host: yun_worker::runtime::docker::HostShield::Required,
        publish_address: NODE_ADDRESS.parse().expect("literal address"),
    }
}

impl TestCluster {
    pub async fn start() -> Self {
        Self::start_on(Engine::Sqlite).await
    }

    /// A cluster whose master keeps its store on `engine`.
    pub async fn start_on(engine: Engine) -> Self {
        Self::launch(engine, |_| {}, true).await
    }

    /// Starts a cluster after `tune` adjusts the master's settings.
    pub async fn start_with(tune: impl FnOnce(&mut MasterConfig)) -> Self {
        Self::start_with_on(Engine::Sqlite, tune).await
    }

    /// `start_with`, the store on `engine`.
    pub async fn start_with_on(engine: Engine, tune: impl FnOnce(&mut MasterConfig)) -> Self {
        Self::launch(engine, tune, true).await
    }

    /// A master with no worker yet: the test brings its own (`spawn_worker`).
    pub async fn master_only() -> Self {
        Self::launch(Engine::Sqlite, |_| {}, false).await
    }

    /// A master with no worker, after `tune` adjusts its settings (for tests of accounts and
    /// the HTTP listener, which need no node).
    pub async fn master_only_with(tune: impl FnOnce(&mut MasterConfig)) -> Self {
        Self::master_only_with_on(Engine::Sqlite, tune).await
    }

    /// `master_only_with`, the store on `engine`.
    pub async fn master_only_with_on(engine: Engine, tune: impl FnOnce(&mut MasterConfig)) -> Self {
        Self::launch(engine, tune, false).await
    }

    async fn launch(
        engine: Engine,
        tune: impl FnOnce(&mut MasterConfig),
        with_worker: bool,
    ) -> Self {
        crate::docker().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let database = engine.database(dir.path()).await;
        let mut cfg = MasterConfig::new(database.clone());
        // The CA lives in the test's directory whatever the engine.
        cfg.fleet.ca_cert = dir.path().join("ca.crt");
        cfg.fleet.ca_key = dir.path().join("ca.key");
        cfg.http = "127.0.0.1:0".parse().unwrap();
        cfg.rpc = "127.0.0.1:0".parse().unwrap();
        cfg.admin_password = Some(ADMIN_PASSWORD.into());
        // Tests that are not about money get enough of it not to meet its limits; billing
        // tests set their own figures in `tune`.
        cfg.pricing.signup_credits = 1_000_000_000;
        // Pulls may reach only the testbox's name and registries on loopback, so no test can
        // make the engine contact a host outside this machine.
        cfg.allowed_registries = vec![crate::docker::TESTBOX_REGISTRY.into(), "127.0.0.1".into()];
        tune(&mut cfg);
        let master = yun_master::start(cfg).await.expect("master starts");
        let join_token = master
            .join_token(Duration::from_secs(24 * 3600), None)
            .await
            .expect("a join token");
        let ports = PortBlock::claim();
        let api = Api::new(&format!("http://{}/api/v1", master.http_addr));
        let admin = api.log_in("admin", ADMIN_PASSWORD).await;
        let mut cluster = Self {
            master,
            worker: None,
            api,
            admin,
            ports,
            join_token,
            dir,
            database,
        };
        if with_worker {
            cluster.start_worker().await;
        }
        cluster
    }

    /// Starts the in-process worker `w1` on the cluster's port block.
    pub async fn start_worker(&mut self) {
        self.start_worker_with(|_| {}).await;
    }

    /// Starts `w1` after `tune` adjusts its settings (a smaller port range, other subnets).
    pub async fn start_worker_with(&mut self, tune: impl FnOnce(&mut WorkerConfig)) {
        let mut config = self.worker_config("w1", &self.join_token, &self.ports);
        tune(&mut config);
        let worker = yun_worker::start(config).await.expect("worker starts");
        assert_eq!(
            self.master.wait_for_nodes(1, Duration::from_secs(10)).await,
            1,
            "the worker registers"
        );
        self.worker = Some(worker);
    }

    /// An in-process worker `name` of this cluster on the real engine, joining with `token`
    /// and publishing on `ports`.
    pub fn worker_config(&self, name: &str, token: &str, ports: &PortBlock) -> WorkerConfig {
        WorkerConfig {
            name: name.into(),
            master: format!("https://{}", self.master.rpc_addr),
            rpc: "127.0.0.1:0".parse().unwrap(),
            advertise: None,
            public_host: Some(NODE_ADDRESS.into()),
            port_range: (ports.start, ports.end),
            join_token: Some(token.into()),
            state_dir: self.state_dir(name),
            insecure_plaintext: false,
            docker: docker_options(),
            boot_id: None,
            metrics: None,
        }
    }

    /// Where worker `name` of this cluster keeps its certificate (kept across its restarts).
    pub fn state_dir(&self, name: &str) -> std::path::PathBuf {
        worker_state_dir(self.dir.path(), name)
    }

    pub fn cluster_id(&self) -> &str {
        &self.master.cluster_id
    }

    /// Publishes the testbox image in the public catalog and returns its reference.
    pub async fn publish_testbox(&self) -> String {
        let reference = testbox_image();
        let r = self
            .admin
            .post("/admin/images", json!({"reference": reference}))
            .await;
        assert_eq!(r.status, 201, "publishing the testbox image: {}", r.text);
        reference
    }

    /// Starts a worker as its own `yun worker` process, as an operator would.
    pub fn spawn_worker(
        &self,
        yun_bin: &str,
        name: &str,
        ports: &PortBlock,
        extra_args: &[&str],
    ) -> WorkerProcess {
        WorkerProcess::spawn(
            yun_bin,
            self.master.rpc_addr,
            &self.join_token,
            &self.state_dir(name),
            name,
            ports,
            extra_args,
        )
    }

    /// Waits until `n` nodes hold a lease.
    pub async fn wait_for_nodes(&self, n: usize) {
        let got = self.master.wait_for_nodes(n, Duration::from_secs(20)).await;
        assert!(got >= n, "expected {n} ready nodes, have {got}");
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.master.shutdown.cancel();
        if let Some(w) = &self.worker {
            w.shutdown.cancel();
        }
        remove_labelled(self.cluster_id());
    }
}

/// Where worker `name` keeps its certificate under a cluster's directory.
pub(crate) fn worker_state_dir(cluster_dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    cluster_dir.join(format!("worker-{name}"))
}

/// Removes the containers and networks of one cluster, and nothing else.
pub fn remove_labelled(cluster_id: &str) {
    let filter = format!("label=yun.cluster={cluster_id}");
    let ids = Command::new("docker")
        .args(["ps", "-aq", "--filter", &filter])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if !ids.is_empty() {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v"])
            .args(&ids)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let nets = Command::new("docker")
        .args(["network", "ls", "-q", "--filter", &filter])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    let nets: Vec<&str> = nets.split_whitespace().collect();
    if !nets.is_empty() {
        let _ = Command::new("docker")
            .args(["network", "rm"])
            .args(&nets)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    for rule in host_rules(cluster_id) {
        // `iptables -S` quotes the comment; the arguments to delete it are unquoted.
        let mut delete: Vec<&str> = rule
            .split_whitespace()
            .map(|w| w.trim_matches('"'))
            .collect();
        delete[0] = "-D";
        let _ = Command::new("iptables")
            .arg("-w")
            .args(&delete)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The worker's rules in the host's INPUT chain for `cluster_id` (`iptables -S` lines; their
/// comments have no spaces, so splitting on whitespace gives the arguments back).
pub fn host_rules(cluster_id: &str) -> Vec<String> {
    let tag = format!("yun:{cluster_id}");
    let out = Command::new("iptables")
        .args(["-w", "-S", "INPUT"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    out.lines()
        .filter(|l| {
            l.split_whitespace()
                .any(|w| w == tag || w.trim_matches('"') == tag)
        })
        .map(str::to_string)
        .collect()
}

/// A `yun worker` child process; killed when dropped.
pub struct WorkerProcess {
    pub child: Child,
}

impl WorkerProcess {
    /// Starts `yun worker` with `join_token` (unused when `state_dir` already holds a
    /// certificate, as after a restart).
    pub fn spawn(
        yun_bin: &str,
        master_rpc: std::net::SocketAddr,
        join_token: &str,
        state_dir: &std::path::Path,
        name: &str,
        ports: &PortBlock,
        extra_args: &[&str],
    ) -> Self {
        let at = (yun_bin, master_rpc, join_token);
        Self::spawn_logged(at, state_dir, name, ports, extra_args, None)
    }

    /// As `spawn` (`at` is the binary, the master's RPC address and the join token); with
    /// `logged`, it logs at that `RUST_LOG` into that file instead of the test's stderr.
    pub fn spawn_logged(
        (yun_bin, master_rpc, join_token): (&str, std::net::SocketAddr, &str),
        state_dir: &std::path::Path,
        name: &str,
        ports: &PortBlock,
        extra_args: &[&str],
        logged: Option<(&str, &std::path::Path)>,
    ) -> Self {
        let mut cmd = Command::new(yun_bin);
        cmd.args(["worker", "--name", name, "--public-host", NODE_ADDRESS]);
        if !extra_args.contains(&"--rpc") {
            cmd.args(["--rpc", "127.0.0.1:0"]);
        }
        cmd.arg("--master")
            .arg(format!("https://{master_rpc}"))
            .arg("--state-dir")
            .arg(state_dir)
            .arg("--port-range")
            .arg(format!("{}-{}", ports.start, ports.end))
            .args(extra_args)
            .env("YUN_JOIN_TOKEN", join_token)
            .stdout(Stdio::null());
        match logged {
            Some((filter, file)) => cmd
                .env("RUST_LOG", filter)
                .env("NO_COLOR", "1")
                .stderr(std::fs::File::create(file).expect("the log file")),
            None => cmd
                .env("RUST_LOG", crate::child_log_filter())
                .stderr(Stdio::inherit()),
        };
        Self {
            child: cmd.spawn().expect("spawning yun worker"),
        }
    }

    /// Sends a signal by name (`STOP`, `CONT`, `KILL`).
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill -{signal} {}", self.child.id());
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
