//! A registry that lies, on loopback, for the pull tests: it answers the distribution API
//! just enough for a pull to begin and then leads it somewhere else (a token realm or a
//! redirect to another address), serves a gzip bomb, or a layer that is not the one its
//! manifest names. A `Witness` is a listener that only counts who connects to it.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the registry misbehaves.
#[derive(Debug, Clone)]
pub enum Trick {
    /// Every request asks for a token at this realm URL.
    RealmAt(String),
    /// The manifest is a redirect to this URL.
    ManifestRedirect(String),
    /// An honest manifest whose layer is a redirect to this URL.
    BlobRedirect(String),
    /// One gzip layer that unpacks to this many MiB of zeros (from about a thousandth of it).
    Bomb { mib: u64 },
    /// A layer whose bytes are not those of the digest its manifest names.
    WrongDigest,
}

/// A registry on 127.0.0.1 that plays `Trick`; dropped, it stops.
pub struct RogueRegistry {
    pub port: u16,
    /// Requests it answered.
    pub requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RogueRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// A gzip stream of `mib` MiB of zeros: one member of 16 MiB, repeated.
fn bomb(mib: u64) -> Vec<u8> {
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![0u8; 16 << 20]).unwrap();
    let member = member.finish().unwrap();
    member.repeat(mib.div_ceil(16) as usize)
}

/// What the registry serves: (path, status, headers, body).
struct Routes {
    trick: Trick,
    manifest: Vec<u8>,
    config: (String, Vec<u8>),
    layer: (String, Vec<u8>),
}

impl Routes {
    fn new(trick: Trick) -> Self {
        let (layer_digest, layer_body) = match &trick {
            Trick::Bomb { mib } => {
                let body = bomb(*mib);
                (digest(&body), body)
            }
            Trick::WrongDigest => {
                let honest = gzip(b"the layer the manifest names");
                let served = gzip(b"the layer nobody ever named!");
                assert_eq!(honest.len(), served.len());
                (digest(&honest), served)
            }
            _ => {
                let body = b"a small layer".to_vec();
                (digest(&body), body)
            }
        };
        let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#.to_vec();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": config.len(), "digest": digest(&config)},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": layer_body.len(), "digest": layer_digest}],
        });
        Self {
            trick,
            manifest: serde_json::to_vec(&manifest).unwrap(),
            config: (digest(&config), config),
            layer: (layer_digest, layer_body),
        }
    }

    fn answer(&self, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        if let Trick::RealmAt(realm) = &self.trick {
            return (
                401,
                vec![(
                    "www-authenticate".into(),
                    format!(r#"Bearer realm="{realm}",service="rogue",scope="repository:x:pull""#),
                )],
                b"{}".to_vec(),
            );
        }
        if path.contains("/manifests/") {
            if let Trick::ManifestRedirect(to) = &self.trick {
                return (307, vec![("location".into(), to.clone())], Vec::new());
            }
            return (
                200,
                vec![(
                    "content-type".into(),
                    "application/vnd.docker.distribution.manifest.v2+json".into(),
                )],
                self.manifest.clone(),
            );
        }
        if path.ends_with(&self.config.0) {
            return (200, Vec::new(), self.config.1.clone());
        }
        if path.ends_with(&self.layer.0) {
            if let Trick::BlobRedirect(to) = &self.trick {
                return (307, vec![("location".into(), to.clone())], Vec::new());
            }
            return (200, Vec::new(), self.layer.1.clone());
        }
        if path == "/v2/" {
            return (200, Vec::new(), b"{}".to_vec());
        }
        (404, Vec::new(), b"{}".to_vec())
    }
}

/// Reads a request's head; answers its path.
async fn request_path(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() > 64 << 10 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head).lines().next()?.to_string();
    Some(line.split(' ').nth(1)?.split('?').next()?.to_string())
}

impl RogueRegistry {
    pub async fn start(trick: Trick) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes = Arc::new(Routes::new(trick));
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (routes, counted) = (routes.clone(), counted.clone());
                tokio::spawn(async move {
                    let Some(path) = request_path(&mut stream).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::Relaxed);
                    let (status, headers, body) = routes.answer(&path);
                    let mut head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&body).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            port,
            requests,
            task,
        }
    }

    /// `127.0.0.1:PORT/NAME:1`, a reference to this registry.
    pub fn reference(&self, name: &str) -> String {
        format!("127.0.0.1:{}/{name}:1", self.port)
    }
}

/// A listener on 127.0.0.1 that counts the connections it accepts (and answers none).
pub struct Witness {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Witness {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Witness {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::Relaxed);
                drop(stream);
            }
        });
        Self {
            port,
            connections,
            task,
        }
    }

    pub fn seen(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}
