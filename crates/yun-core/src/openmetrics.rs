//! Metrics text: the OpenMetrics rendering (what `prometheus-client` writes, and Prometheus
//! asks for) turned into the older Prometheus text format, for `promtool check metrics`,
//! `curl` and other readers that do not speak OpenMetrics.

use sha2::{Digest, Sha256};

/// What a scrape answers: OpenMetrics to a client that asks for it in `accept` (Prometheus
/// does), else the text format. Answers the content type and the body.
pub fn negotiated(openmetrics: String, accept: Option<&str>) -> (&'static str, String) {
    if accept.is_some_and(|a| a.contains("application/openmetrics-text")) {
        (
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            openmetrics,
        )
    } else {
        (
            "text/plain; version=0.0.4; charset=utf-8",
            as_text_format(&openmetrics),
        )
    }
}

/// Whether an `Authorization` header's value carries `token` as a bearer token. Digests are
/// compared, so the comparison's time says nothing about the token.
pub fn bearer_matches(authorization: Option<&str>, token: &str) -> bool {
    authorization
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|g| Sha256::digest(g.trim().as_bytes()) == Sha256::digest(token.as_bytes()))
}

/// A counter family's HELP and TYPE name its `_total` samples, and the UNIT and EOF lines go.
pub fn as_text_format(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            help = rest.split_once(' ').or(Some((rest, "")));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let name = if kind == "counter" {
                format!("{name}_total")
            } else {
                name.to_string()
            };
            if let Some((_, text)) = help.take() {
                out.push_str(&format!("# HELP {name} {text}\n"));
            }
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            continue;
        }
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::as_text_format;

    #[test]
    fn counters_are_named_by_their_samples_in_the_text_format() {
        let om = "# HELP yun_heartbeats Heartbeats.\n# TYPE yun_heartbeats counter\nyun_heartbeats_total 3\n# HELP yun_t Time.\n# TYPE yun_t_seconds histogram\n# UNIT yun_t_seconds seconds\nyun_t_seconds_count 1\n# EOF\n";
        assert_eq!(
            as_text_format(om),
            "# HELP yun_heartbeats_total Heartbeats.\n# TYPE yun_heartbeats_total counter\nyun_heartbeats_total 3\n# HELP yun_t_seconds Time.\n# TYPE yun_t_seconds histogram\nyun_t_seconds_count 1\n"
        );
    }
}
