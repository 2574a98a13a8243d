//! The client's own logins, one per master (a context), in the user's config directory
//! (`~/.config/yun/contexts.toml`): a file only its owner reads (0600) in a directory only its
//! owner enters (0700), replaced whole by a rename, so a crash never leaves half a file. Server
//! settings (yun.toml) are never read here.

use super::fail::Failure;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contexts {
    /// The context commands use when no address is given.
    pub current: Option<String>,
    #[serde(default)]
    pub contexts: BTreeMap<String, Context>,
    /// This machine's device tokens, by `username@context`: kept past a logout, so the next
    /// login is a known device's and no stranger's guesses at the account hold it back.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub devices: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// `http(s)://host:port` of the master.
    pub addr: String,
    pub username: String,
    pub token: String,
    /// A CA certificate (PEM file) that signs the master's certificate, when it is not public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cacert: Option<String>,
}

/// A context's name: the master's host and port.
pub fn name_of(addr: &str) -> String {
    let rest = addr.split_once("://").map_or(addr, |(_, r)| r);
    rest.trim_end_matches('/').to_string()
}

fn dir() -> Result<PathBuf, Failure> {
    let base = dirs::config_dir().ok_or_else(|| {
        Failure::error("cannot find your config directory; set HOME or XDG_CONFIG_HOME")
    })?;
    Ok(base.join("yun"))
}

impl Contexts {
    pub fn path() -> Result<PathBuf, Failure> {
        Ok(dir()?.join("contexts.toml"))
    }

    /// The saved contexts; none when the file does not exist yet.
    pub fn load() -> Result<Self, Failure> {
        let path = Self::path()?;
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(Failure::error(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        toml::from_str(&text).map_err(|e| {
            Failure::error(format!(
                "{} is not a contexts file ({e}); remove it and log in again",
                path.display()
            ))
        })
    }

    /// Writes the file: a new file (0600) beside the old one, synced, then renamed over it.
    pub fn save(&self) -> Result<(), Failure> {
        let dir = dir()?;
        let failed = |what: &str, e: std::io::Error| {
            Failure::error(format!("cannot {what} {}: {e}", dir.display()))
        };
        std::fs::create_dir_all(&dir).map_err(|e| failed("make", e))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| failed("restrict", e))?;
        let text = toml::to_string(self).expect("contexts are plain TOML");
        let temp = dir.join(format!(".contexts.toml.{}", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|e| failed("write in", e))?;
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&temp, dir.join("contexts.toml")));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(failed("write in", e));
        }
        Ok(())
    }

    /// The context for `addr`, when there is one.
    pub fn for_addr(&self, addr: &str) -> Option<&Context> {
        self.contexts.get(&name_of(addr))
    }

    /// Where this machine's device token for `username` at `addr` is kept.
    pub fn device_key(addr: &str, username: &str) -> String {
        format!("{username}@{}", name_of(addr))
    }

    pub fn current(&self) -> Option<&Context> {
        self.contexts.get(self.current.as_deref()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_host_and_port() {
        assert_eq!(name_of("http://localhost:8088"), "localhost:8088");
        assert_eq!(name_of("https://cloud.example.com/"), "cloud.example.com");
    }
}
