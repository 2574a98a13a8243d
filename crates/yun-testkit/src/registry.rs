//! A real image registry on loopback (Debian's `docker-registry`), for tests of pulls and
//! private images. Each test gets its own registry process and storage.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct LocalRegistry {
    pub addr: String,
    child: Child,
    _dir: tempfile::TempDir,
    /// Tags this registry pushed, untagged from the engine when it goes.
    pushed: std::sync::Mutex<Vec<String>>,
}

impl LocalRegistry {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
                dir.path().join("data").display()
            ),
        )
        .expect("registry config");
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "yun's pull tests need Debian's docker-registry: apt-get install docker-registry",
            );
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        for _ in 0..100 {
            if http.get(format!("http://{addr}/v2/")).send().await.is_ok() {
                return Self {
                    addr,
                    child,
                    _dir: dir,
                    pushed: Default::default(),
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("docker-registry did not start on {addr}");
    }

    /// Pushes a new image (the testbox plus a layer of `blob_mib` MiB no other image has) as
    /// `repository` and removes it from the engine, so pulling it must fetch that layer.
    pub fn push_fresh(&self, repository: &str, blob_mib: u32) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let blob_file = dir.path().join("blob");
        let blob: Vec<u8> = (0..blob_mib * 1024 * 1024)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        std::fs::write(&blob_file, blob).expect("the layer's file");
        let local = format!("yun-pull-test:{}", yun_core::new_id().to_lowercase());
        let dockerfile = format!(
            "FROM {}\nCOPY blob /blob-{}\n",
            crate::testbox_image(),
            yun_core::new_id()
        );
        crate::build_image(&local, &dockerfile, &[("blob", blob_file.as_path())]);
        let reference = self.push(&local, repository);
        for tag in [&local, &reference] {
            let _ = Command::new("docker").args(["rmi", "-f", tag]).output();
        }
        reference
    }

    /// Tags a local image into this registry and pushes it; returns the pushed reference.
    pub fn push(&self, local: &str, repository: &str) -> String {
        let tag = local.rsplit(':').next().unwrap_or("latest");
        let reference = format!("{}/{repository}:{tag}", self.addr);
        let run = |args: &[&str]| {
            let out = Command::new("docker")
                .args(args)
                .output()
                .expect("docker CLI");
            assert!(
                out.status.success(),
                "docker {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&["tag", local, &reference]);
        run(&["push", &reference]);
        self.pushed
            .lock()
            .expect("pushed tags")
            .push(reference.clone());
        reference
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        for tag in self.pushed.lock().map(|p| p.clone()).unwrap_or_default() {
            let _ = Command::new("docker")
                .args(["image", "rm", "--no-prune", &tag])
                .output();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
