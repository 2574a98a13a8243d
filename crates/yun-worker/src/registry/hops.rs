//! Where a pull may lead. The worker is the only registry client, and every request it makes
//! for a pull (the registry, its token realm, each redirect, each blob host) is checked here
//! against the operator's policy, on the address actually connected to, so neither a
//! registry's answers nor DNS can turn a pull toward this machine or its private networks.
//!
//! - The registry the reference names was allowed by the master; it is asked on its own
//!   authority (host and port). Its host may be internal only when an `allowed_registries`
//!   entry admits it.
//! - Any other authority (a realm, a redirect, a CDN) must be public, unless an entry names
//!   exactly that `host:port`: an entry for the registry's host does not open its other ports
//!   (the master's own API may listen there).
//! - Names are resolved by a resolver that drops internal addresses, so what is connected to
//!   is what was checked; a literal address is checked before anything is sent.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use yun_core::registry::{entry_admits, is_internal};

/// Redirects followed per request at most.
const MAX_REDIRECTS: usize = 5;

/// A request the policy refused, in words for the renter (naming only the host, never what
/// it answered).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// `host:port` of a URL, its port made explicit, lowercased.
pub fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port_or_known_default().unwrap_or(0);
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Resolves names to the addresses `admits` lets through; none left is an error.
struct Screened {
    allowed: Arc<Vec<String>>,
    /// Internal addresses pass for hosts an allow-list entry admits (the registry's client).
    listed_may_be_internal: bool,
}

impl Resolve for Screened {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let internal_ok =
            self.listed_may_be_internal && self.allowed.iter().any(|e| entry_admits(e, &host));
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| internal_ok || !is_internal(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(Refused(format!(
                    "{host} leads to this machine or a private network, which a pull may not reach"
                )))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

fn client(resolver: Screened) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(resolver))
        // Redirects are followed here, hop by hop, each one checked.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .build()
        .expect("a TLS client")
}

/// The clients of one pull and the policy that picks between them.
pub struct Hops {
    /// The registry's own authority.
    registry: String,
    allowed: Arc<Vec<String>>,
    /// For the registry and exactly listed authorities.
    trusted: reqwest::Client,
    /// For every other host: public addresses only.
    public: reqwest::Client,
}

impl Hops {
    pub fn new(registry: &Url, allowed: &[String]) -> Self {
        let allowed = Arc::new(
            allowed
                .iter()
                .map(|e| e.trim().to_ascii_lowercase())
                .collect::<Vec<_>>(),
        );
        Self {
            registry: authority(registry),
            trusted: client(Screened {
                allowed: allowed.clone(),
                listed_may_be_internal: true,
            }),
            public: client(Screened {
                allowed: allowed.clone(),
                listed_may_be_internal: false,
            }),
            allowed,
        }
    }

    /// Whether `url` is the registry itself (where its token may be sent).
    pub fn is_registry(&self, url: &Url) -> bool {
        authority(url) == self.registry
    }

    /// The client `url` may be asked with, or why it may not be asked at all.
    fn client_for(&self, url: &Url) -> Result<&reqwest::Client, Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused(format!(
                "a pull may use only http and https, not {}",
                url.scheme()
            )));
        }
        let here = authority(url);
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let trusted = here == self.registry || self.allowed.contains(&here);
        if trusted {
            // The registry's own host is internal only where an entry admits it.
            if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
                if is_internal(ip) && !self.allowed.iter().any(|e| entry_admits(e, &here)) {
                    return Err(internal(&here));
                }
            }
            return Ok(&self.trusted);
        }
        let literal = host.trim_matches(['[', ']']).parse::<IpAddr>().ok();
        if host == "localhost" || literal.is_some_and(is_internal) {
            return Err(internal(&here));
        }
        Ok(&self.public)
    }

    /// GETs `url`, following redirects hop by hop (each checked, the token sent to the
    /// registry alone). `bearer` is the registry's token, `accept` the media types asked for.
    pub async fn get(
        &self,
        url: Url,
        bearer: Option<&str>,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, HopError> {
        let mut url = url;
        for _ in 0..=MAX_REDIRECTS {
            let client = self.client_for(&url)?;
            let mut req = client.get(url.clone());
            if let Some(accept) = accept {
                req = req.header(reqwest::header::ACCEPT, accept);
            }
            if let (Some(token), true) = (bearer, self.is_registry(&url)) {
                req = req.bearer_auth(token);
            }
            let resp = req.send().await.map_err(HopError::from_reqwest)?;
            if !resp.status().is_redirection() {
                return Ok(resp);
            }
            let next = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| HopError::Failed("a redirect without a usable Location".into()))?;
            url = next;
        }
        Err(HopError::Failed(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }
}

fn internal(authority: &str) -> Refused {
    Refused(format!(
        "the registry sent the pull to {authority}, on this machine or a private network, which a pull may not reach"
    ))
}

/// Why a request of a pull did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum HopError {
    #[error("{0}")]
    Refused(#[from] Refused),
    /// A summary (never the body of what answered).
    #[error("{0}")]
    Failed(String),
}

impl HopError {
    fn from_reqwest(e: reqwest::Error) -> Self {
        // The resolver's refusal travels inside the connect error.
        let mut source: Option<&dyn std::error::Error> = Some(&e);
        while let Some(s) = source {
            if let Some(r) = s.downcast_ref::<Refused>() {
                return Self::Refused(r.clone());
            }
            source = s.source();
        }
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "the connection failed"
        };
        let host = e.url().and_then(|u| u.host_str()).unwrap_or("the registry");
        Self::Failed(format!("{host}: {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn another_port_of_a_listed_host_is_not_the_registry() {
        let hops = Hops::new(&url("http://127.0.0.1:5000/v2/"), &["127.0.0.1".into()]);
        assert!(hops.client_for(&url("http://127.0.0.1:5000/v2/x")).is_ok());
        for elsewhere in [
            "http://127.0.0.1:8088/api/v1/me",
            "http://localhost:5000/token",
            "http://10.1.2.3/token",
            "http://[::1]:5000/v2/",
            "http://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
        ] {
            assert!(hops.client_for(&url(elsewhere)).is_err(), "{elsewhere}");
        }
        assert!(hops
            .client_for(&url("https://auth.example.com/token"))
            .is_ok());
        // An entry with a port opens exactly that authority.
        let hops = Hops::new(
            &url("http://127.0.0.1:5000/v2/"),
            &["127.0.0.1:5000".into(), "127.0.0.1:5001".into()],
        );
        assert!(hops.client_for(&url("http://127.0.0.1:5001/token")).is_ok());
        assert!(hops
            .client_for(&url("http://127.0.0.1:5002/token"))
            .is_err());
    }

    #[test]
    fn an_internal_registry_needs_its_entry() {
        let hops = Hops::new(&url("http://127.0.0.1:5000/v2/"), &[]);
        assert!(hops.client_for(&url("http://127.0.0.1:5000/v2/")).is_err());
    }
}
