//! The Docker engine the tests need, and the testbox image built from source.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// A client for the local engine; panics with a clear message when there is none, because a
/// test that needs Docker must fail, never pass by skipping.
pub async fn docker() -> bollard::Docker {
    let d = bollard::Docker::connect_with_local_defaults()
        .expect("yun's tests need a Docker engine: could not find one (start dockerd)");
    let d = d
        .negotiate_version()
        .await
        .expect("yun's tests need a running Docker engine at /var/run/docker.sock: start dockerd");
    d.ping()
        .await
        .expect("yun's tests need a running Docker engine: it did not answer a ping");
    d
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn host_target() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("running rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host target")
}

/// The registry host the testbox image is named under; it is never contacted.
pub const TESTBOX_REGISTRY: &str = "testbox.invalid";

/// Builds yun-testbox as a static binary in its own target directory and an image
/// `FROM scratch` around it, tagged by content so that parallel test processes share it.
/// Returns the image reference.
pub fn testbox_image() -> String {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(build_testbox).clone()
}

fn build_testbox() -> String {
    let root = workspace_root();
    let target = host_target();
    let target_dir = root.join("target/testbox");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "yun-testbox",
            "--target",
            &target,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .current_dir(&root)
        .status()
        .expect("running cargo to build yun-testbox");
    assert!(status.success(), "building yun-testbox failed");
    let binary = target_dir.join(&target).join("release/yun-testbox");
    let bytes = std::fs::read(&binary).expect("reading the testbox binary");
    let tag = format!("{:016x}", fnv1a(&bytes));
    // `.invalid` never resolves (RFC 2606): were the engine ever to pull it, it would reach
    // no host outside this machine.
    let reference = format!("{TESTBOX_REGISTRY}/yun-testbox:{tag}");
    let present = Command::new("docker")
        .args(["image", "inspect", &reference])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if present {
        return reference;
    }
    build_image(
        &reference,
        "FROM scratch\nCOPY testbox /testbox\nEXPOSE 8080\nENTRYPOINT [\"/testbox\"]\nCMD [\"serve\", \"8080\", \"hello from testbox\"]\n",
        &[("testbox", &binary)],
    );
    reference
}

/// Builds `reference` from `dockerfile`, with `files` (name in the context, source) beside it.
pub fn build_image(reference: &str, dockerfile: &str, files: &[(&str, &std::path::Path)]) {
    let ctx = tempfile::tempdir().expect("temp dir");
    for (name, source) in files {
        std::fs::copy(source, ctx.path().join(name)).expect("copying into the build context");
    }
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile).expect("writing Dockerfile");
    let out = Command::new("docker")
        .args(["build", "-q", "-t", reference])
        .arg(ctx.path())
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .expect("yun's tests need the docker CLI to build their images");
    assert!(
        out.status.success(),
        "docker build of {reference} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether the engine has the image `reference`.
pub async fn image_on_engine(reference: &str) -> bool {
    crate::docker().await.inspect_image(reference).await.is_ok()
}

/// Removes a platform container from the engine behind yun's back, as an operator's
/// `docker rm -f` would.
pub async fn remove_behind_yuns_back(container_id: &str) {
    docker()
        .await
        .remove_container(
            &format!("yun-{container_id}"),
            Some(bollard::container::RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await
        .expect("docker rm -f");
}

/// The testbox with a `VOLUME /data`, as images of databases declare one.
pub fn volume_testbox_image() -> String {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let base = testbox_image();
            let tag = base.rsplit(':').next().unwrap_or("latest");
            let reference = format!("{TESTBOX_REGISTRY}/yun-testbox-volume:{tag}");
            build_image(&reference, &format!("FROM {base}\nVOLUME /data\n"), &[]);
            reference
        })
        .clone()
}

/// The testbox without an entrypoint, so that a create's `command` is the program run (and can
/// name one the image does not have).
pub fn plain_testbox_image() -> String {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let base = testbox_image();
            let tag = base.rsplit(':').next().unwrap_or("latest");
            let reference = format!("{TESTBOX_REGISTRY}/yun-testbox-plain:{tag}");
            let dockerfile = format!(
                "FROM {base}\nENTRYPOINT []\nCMD [\"/testbox\", \"serve\", \"8080\", \"plain\"]\n"
            );
            build_image(&reference, &dockerfile, &[]);
            reference
        })
        .clone()
}

/// A shell image for consoles: `FROM scratch` with Debian's static busybox and its applet
/// links (`sh`, `top`, `vi`, `stty`, ...), tagged by the binary's content.
pub fn busybox_image() -> String {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let binary = std::path::Path::new("/bin/busybox");
            let bytes = std::fs::read(binary).expect(
                "the console tests need Debian's busybox-static: apt-get install busybox-static (scripts/test does)",
            );
            let reference = format!("{TESTBOX_REGISTRY}/yun-busybox:{:016x}", fnv1a(&bytes));
            let present = Command::new("docker")
                .args(["image", "inspect", &reference])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if !present {
                build_image(
                    &reference,
                    "FROM scratch\nCOPY busybox /bin/busybox\n\
                     RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
                     RUN [\"/bin/busybox\", \"mkdir\", \"-p\", \"/tmp\", \"/root\", \"/etc\"]\n\
                     ENV PATH=/bin TERM=xterm HOME=/root\nCMD [\"/bin/sh\", \"-c\", \"trap 'exit 0' TERM; while :; do sleep 1; done\"]\n",
                    &[("busybox", binary)],
                );
            }
            reference
        })
        .clone()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}
