//! The limits and hardening are really on the container: read back from Docker and from the
//! kernel's cgroup files, not just from what we asked for.

use std::path::Path;
use yun_api::containers::{ContainerState, CreateContainer};
use yun_testkit::procfs::cgroup_dir;
use yun_testkit::TestCluster;

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.join(file).display()))
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_and_hardening_are_enforced_by_the_kernel() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let raw = cluster
        .api
        .sign_up("alice", "alice-rides-a-blue-tram")
        .await;
    let alice = raw.client();
    let nano = CreateContainer {
        image: image.clone(),
        plan: Some("nano".into()),
        ..Default::default()
    };
    let (c, _) = alice.create_container(&nano, None).await.unwrap();
    let id = &c.id;
    let docker = yun_testkit::docker().await;
    let info = docker
        .inspect_container(&format!("yun-{id}"), None)
        .await
        .unwrap();

    let hc = info.host_config.clone().unwrap();
    assert_eq!(hc.memory, Some(64 << 20));
    assert_eq!(
        hc.memory_swap,
        Some(64 << 20),
        "swap equals memory: no swap"
    );
    assert_eq!(hc.cpu_quota, Some(10_000));
    assert_eq!(hc.cpu_period, Some(100_000));
    assert_eq!(hc.pids_limit, Some(64));
    assert_eq!(hc.privileged, Some(false));
    assert!(hc
        .security_opt
        .unwrap()
        .iter()
        .any(|o| o.starts_with("no-new-privileges")));
    let dropped = hc.cap_drop.unwrap();
    for cap in ["NET_RAW", "MKNOD", "AUDIT_WRITE", "SETFCAP", "SYS_CHROOT"] {
        assert!(dropped.iter().any(|c| c == cap), "{cap} dropped");
    }
    assert!(hc.binds.unwrap_or_default().is_empty(), "no host mounts");
    assert!(
        info.mounts.unwrap_or_default().is_empty(),
        "no mounts at all"
    );
    let network = hc.network_mode.unwrap();
    assert_ne!(network, "host");
    let user_id = alice.me().await.unwrap().id;
    let node = info.config.as_ref().unwrap().labels.as_ref().unwrap()["yun.node"].clone();
    assert_eq!(
        network,
        format!("yun-{}-{node}-{user_id}", cluster.cluster_id())
    );
    let log = hc.log_config.unwrap();
    assert_eq!(log.typ.as_deref(), Some("json-file"));
    let log_opts = log.config.unwrap();
    assert_eq!(log_opts["max-size"], "10m");
    assert_eq!(log_opts["max-file"], "5");

    // The owner's network has a subnet from the tenant pool.
    let net = docker
        .inspect_network::<String>(&network, None)
        .await
        .unwrap();
    let subnet = net.ipam.unwrap().config.unwrap()[0].subnet.clone().unwrap();
    assert!(
        subnet.starts_with("10.210.") && subnet.ends_with("/26"),
        "{subnet}"
    );

    // And the kernel enforces it.
    let pid = info.state.unwrap().pid.unwrap();
    let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if unified {
        let dir = cgroup_dir(pid, "");
        assert_eq!(read(&dir, "memory.max"), (64u64 << 20).to_string());
        assert_eq!(read(&dir, "memory.swap.max"), "0");
        assert_eq!(read(&dir, "cpu.max"), "10000 100000");
        assert_eq!(read(&dir, "pids.max"), "64");
    } else {
        let mem = cgroup_dir(pid, "memory");
        assert_eq!(
            read(&mem, "memory.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        // memsw is memory + swap: equal to memory means no swap.
        assert_eq!(
            read(&mem, "memory.memsw.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        let cpu = cgroup_dir(pid, "cpu");
        assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "10000");
        assert_eq!(read(&cpu, "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&cgroup_dir(pid, "pids"), "pids.max"), "64");
    }

    // The limits bite: forking past the pids limit fails, and allocating past memory is killed.
    let running = |command: &[&str]| CreateContainer {
        ports: Some(Vec::new()),
        ..yun_testkit::container_spec(&image, command)
    };
    let (forker, _) = alice
        .create_container(&running(&["fork", "100"]), None)
        .await
        .unwrap();
    let logs = raw.wait_for_logs(&forker.id, "fork").await;
    assert!(
        logs.contains("fork failed after"),
        "100 forks must not fit in 64 pids: {logs}"
    );

    let (hog, _) = alice
        .create_container(&running(&["alloc", "200"]), None)
        .await
        .unwrap();
    let hid = &hog.id;
    let state = yun_testkit::until_container(&alice, hid, |c| c.state == ContainerState::Exited)
        .await
        .state;
    assert_eq!(
        state,
        ContainerState::Exited,
        "200 MiB does not fit in 64 MiB"
    );
    let oom = docker
        .inspect_container(&format!("yun-{hid}"), None)
        .await
        .unwrap();
    assert_eq!(oom.state.unwrap().oom_killed, Some(true));
}
