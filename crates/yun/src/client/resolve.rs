//! Containers named the way people type them: an exact id, then an exact name, then a unique
//! beginning of an id. A beginning that fits several lists them.

use super::fail::Failure;
use yun_api::containers::Container;

pub fn container<'a>(all: &'a [Container], typed: &str) -> Result<&'a Container, Failure> {
    if let Some(c) = all.iter().find(|c| c.id == typed) {
        return Ok(c);
    }
    if let Some(c) = all.iter().find(|c| c.name == typed) {
        return Ok(c);
    }
    let prefixed: Vec<&Container> = all.iter().filter(|c| c.id.starts_with(typed)).collect();
    match prefixed.as_slice() {
        [one] if !typed.is_empty() => Ok(one),
        [] | [_] => Err(Failure::error(format!(
            "no container of yours is called or starts with '{typed}'; yun ps -a lists them"
        ))),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|c| format!("{} ({})", c.id, c.name))
                .collect();
            Err(Failure::error(format!(
                "'{typed}' could be any of {}; type more of the id",
                names.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(id: &str, name: &str) -> Container {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": name, "image": "i", "plan": "nano", "node": "n",
            "state": "running", "desired_state": "running", "ports": [], "command": [],
            "env": {}, "exit_code": null,
            "restart_policy": {"name": "no", "max_retries": 0, "restarts": 0},
            "status_reason": null,
            "billing": {"price_per_hour": 1, "deposit": 1, "run_seconds": 0, "charged": 0},
            "expires_at": null, "created_at": "2026-12-06T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn ids_then_names_then_unique_prefixes() {
        let all = vec![named("1aa", "web"), named("1ab", "1aa"), named("2cc", "db")];
        assert_eq!(
            container(&all, "1aa").unwrap().name,
            "web",
            "an exact id first"
        );
        assert_eq!(container(&all, "db").unwrap().id, "2cc");
        assert_eq!(container(&all, "2").unwrap().id, "2cc");
        let ambiguous = container(&all, "1a").unwrap_err();
        assert_eq!(ambiguous.code, 1);
        assert!(ambiguous.message.contains("1aa (web)") && ambiguous.message.contains("1ab (1aa)"));
        assert!(container(&all, "9").is_err());
        assert!(container(&all, "").is_err());
    }
}
