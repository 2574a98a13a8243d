//! The demo image `yun dev` offers a newcomer, so a fresh platform has something to run before
//! any registry is set up: demo/hello.rs (built statically by build.rs) alone in an image,
//! loaded on the local engine at every start and put in the catalog on the first.

use sha2::{Digest, Sha256};
use yun_master::RunningMaster;
use yun_worker::runtime::docker::{DockerOptions, DockerRuntime, ScratchImage};

/// The program; empty when this binary was built on a machine that cannot link statically.
const PROGRAM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hello"));

/// The port the demo serves its page on.
pub const PORT: u16 = 8080;

/// `.invalid` never resolves (RFC 2606): the name can never be pulled from anywhere else. The
/// tag is the program's digest, so a new program is a new image.
fn reference() -> String {
    let digest = format!("{:x}", Sha256::digest(PROGRAM));
    format!("yun.invalid/hello:{}", &digest[..12])
}

/// Loads the demo image on the engine and, on the platform's first start, publishes it. Never
/// fails the start: the platform works without it, and the log says what happened.
pub async fn offer(master: &RunningMaster, docker: DockerOptions) -> Option<String> {
    if PROGRAM.is_empty() {
        tracing::warn!("this yun was built without its demo image (the build could not link it statically); publish an image from the console's Catalog page");
        return None;
    }
    let reference = reference();
    let image = ScratchImage {
        reference: &reference,
        files: vec![("hello", PROGRAM, 0o755)],
        command: vec!["/hello".into()],
        exposed_tcp: vec![PORT],
    };
    let loaded = match DockerRuntime::connect(docker).await {
        Ok(engine) => engine.load_scratch_image(&image).await,
        Err(e) => Err(e),
    };
    if let Err(e) = loaded {
        tracing::warn!(error = %e, "could not load the demo image; the catalog starts empty");
        return None;
    }
    if master.first_start {
        if let Err(e) = master.publish_image(&reference).await {
            tracing::warn!(error = %e, "could not publish the demo image; the catalog starts empty");
            return None;
        }
    }
    Some(reference)
}
