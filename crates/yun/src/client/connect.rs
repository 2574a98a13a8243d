//! Which master a command talks to and with which session: a flag beats the environment
//! (`YUN_ADDR`, `YUN_TOKEN`, `YUN_CACERT`), which beats the saved context. A token or a
//! password never goes over plain `http://` to anything but this machine unless `--insecure`.

use super::contexts::Contexts;
use super::fail::Failure;
use clap::Args;
use std::net::IpAddr;
use yun_api::Client;

/// Where the master is; shared by every client command.
#[derive(Args, Debug, Clone, Default)]
pub struct Target {
    /// The master's address, e.g. https://cloud.example.com [default: the current context's,
    /// else http://localhost:8088]
    #[arg(long, global = true, env = "YUN_ADDR")]
    pub addr: Option<String>,
    /// A PEM file of the CA that signed the master's certificate, for a private CA.
    #[arg(long, global = true, env = "YUN_CACERT")]
    pub cacert: Option<String>,
    /// Send the token (or a password) over plain http:// to a host other than this machine.
    #[arg(long, global = true)]
    pub insecure: bool,
}

pub const DEFAULT_ADDR: &str = "http://localhost:8088";

/// A master to talk to: its address and a client, signed in when a session is known.
pub struct Master {
    pub addr: String,
    pub client: Client,
}

impl Target {
    /// The address: the flag or `YUN_ADDR`, else the current context's, else the default.
    pub fn address(&self, contexts: &Contexts) -> String {
        self.addr
            .clone()
            .or_else(|| contexts.current().map(|c| c.addr.clone()))
            .unwrap_or_else(|| DEFAULT_ADDR.to_string())
            .trim_end_matches('/')
            .to_string()
    }

    /// A client of the master, without a session (to log in).
    pub fn anonymous(&self, contexts: &Contexts) -> Result<Master, Failure> {
        let addr = self.address(contexts);
        refuse_user_info(&addr)?;
        let cacert = self
            .cacert
            .clone()
            .or_else(|| contexts.for_addr(&addr).and_then(|c| c.cacert.clone()));
        let client = match &cacert {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    Failure::error(format!("cannot read the CA certificate {path}: {e}"))
                })?;
                Client::with_ca(&addr, &pem)
            }
            None => Client::new(&addr),
        }
        .map_err(|e| Failure::from_client(&addr, e))?;
        Ok(Master { addr, client })
    }

    /// A client with the session: `YUN_TOKEN`, else the saved login for this address.
    pub fn signed_in(&self, contexts: &Contexts) -> Result<Master, Failure> {
        let master = self.anonymous(contexts)?;
        let token = std::env::var("YUN_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .or_else(|| contexts.for_addr(&master.addr).map(|c| c.token.clone()))
            .ok_or_else(|| {
                Failure::unusable(format!("not logged in to {}; run yun login", master.addr))
            })?;
        self.check_secrets_may_go(&master.addr)?;
        Ok(Master {
            client: master.client.with_token(&token),
            addr: master.addr,
        })
    }

    /// Refuses to send a secret over plain http to another machine.
    pub fn check_secrets_may_go(&self, addr: &str) -> Result<(), Failure> {
        refuse_user_info(addr)?;
        let plain = url::Url::parse(addr).map_or(true, |u| u.scheme() != "https");
        if self.insecure || !plain || is_this_machine(addr) {
            return Ok(());
        }
        Err(Failure::error(format!(
            "refusing to send your credentials over plain http to {addr}, where anyone on the way can read them; use https:// or pass --insecure"
        )))
    }
}

/// An address with user info (`http://[::1]@host`) names another host than it seems to: it
/// is refused, not read by hand.
fn refuse_user_info(addr: &str) -> Result<(), Failure> {
    match url::Url::parse(addr) {
        Ok(u) if !u.username().is_empty() || u.password().is_some() => Err(Failure::error(format!(
            "the address {addr} has a user name or password before '@'; give the master as scheme://host:port alone and log in with yun login"
        ))),
        _ => Ok(()),
    }
}

/// Whether the address names this machine (loopback), decided on the host the URL parser
/// finds, as the HTTP client will connect to it.
fn is_this_machine(addr: &str) -> bool {
    let Ok(url) = url::Url::parse(addr) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_takes_secrets_over_plain_http() {
        for addr in [
            "http://localhost:8088",
            "http://127.0.0.1:8088",
            "http://[::1]:8088",
        ] {
            assert!(is_this_machine(addr), "{addr}");
        }
        for addr in [
            "http://10.0.0.5:8088",
            "http://cloud.example.com",
            "http://localhost.example.com",
        ] {
            assert!(!is_this_machine(addr), "{addr}");
        }
        let t = Target::default();
        assert!(t.check_secrets_may_go("http://10.0.0.5:8088").is_err());
        // The red-team's bypass: the host is what follows the '@'.
        for sneaky in [
            "http://[::1]@10.0.0.5:8088",
            "http://localhost@cloud.example.com",
            "http://127.0.0.1:8088@cloud.example.com/",
            "https://user:secret@cloud.example.com",
        ] {
            assert!(
                !is_this_machine(sneaky) || sneaky.contains("https"),
                "{sneaky}"
            );
            assert!(t.check_secrets_may_go(sneaky).is_err(), "{sneaky}");
        }
        assert!(t.check_secrets_may_go("https://10.0.0.5").is_ok());
        let insecure = Target {
            insecure: true,
            ..Target::default()
        };
        assert!(insecure
            .check_secrets_may_go("http://10.0.0.5:8088")
            .is_ok());
    }
}
