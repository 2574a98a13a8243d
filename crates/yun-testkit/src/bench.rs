//! What the benchmarks on the real engine share: a master and one worker as processes, with a
//! tiny plan so hundreds of containers fit two cores' CPU reservation, and idle containers
//! made eight at a time.

use crate::{container_spec, PortBlock, ProcessCluster, WorkerProcess};
use yun_api::containers::CreateContainer;
use yun_api::Client;

/// A benchmark's setting: the environment variable `name` as a number, else `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A cluster of `yun master` and one `yun worker` ("w1", started with `worker_args`) whose
/// default plan is tiny (0.01 CPU, 16 MiB) and whose renters may hold a thousand containers,
/// with the testbox image in the catalog.
pub struct TinyFleet {
    pub cluster: ProcessCluster,
    pub worker: WorkerProcess,
    pub image: String,
    _ports: PortBlock,
}

impl TinyFleet {
    pub async fn start(yun_bin: &str, worker_args: &[&str]) -> Self {
        let cluster = ProcessCluster::start_with_file(
            yun_bin,
            "default_plan = \"tiny\"\n[[plans]]\nname = \"tiny\"\ncpu_millis = 10\nmemory_mib = 16\npids = 16\n",
            &["--max-containers-per-user", "1000", "--max-ports-per-user", "1000"],
        )
        .await;
        let ports = PortBlock::claim();
        let worker = cluster.spawn_worker("w1", &ports, worker_args);
        cluster.wait_ready("w1").await;
        let image = cluster.publish_testbox().await;
        Self {
            cluster,
            worker,
            image,
            _ports: ports,
        }
    }

    /// The benchmarks' renter, "bench", signed up (its password: `bench-rides-a-blue-tram`).
    pub async fn renter(&self) -> crate::Api {
        self.cluster
            .api
            .sign_up("bench", "bench-rides-a-blue-tram")
            .await
    }

    /// `n` containers that sleep, named PREFIX0…, the i-th owned by `owners[i % len]`;
    /// answers each one's owner index and id.
    pub async fn idle_containers(
        &self,
        owners: &[Client],
        n: usize,
        prefix: &str,
    ) -> Vec<(usize, String)> {
        eprintln!("creating {n} containers …");
        let mut made = Vec::new();
        for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
            made.extend(
                futures::future::join_all(chunk.iter().map(|i| {
                    let owner = i % owners.len();
                    let (client, image) = (owners[owner].clone(), self.image.clone());
                    async move {
                        let spec = CreateContainer {
                            name: Some(format!("{prefix}{i:03}")),
                            ports: Some(vec![]),
                            ..container_spec(&image, &["sleep", "0"])
                        };
                        (
                            owner,
                            client.create_container(&spec, None).await.unwrap().0.id,
                        )
                    }
                }))
                .await,
            );
        }
        made
    }
}
