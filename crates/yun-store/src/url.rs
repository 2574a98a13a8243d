//! A database URL as it may be shown: in an error or a log line, its password is replaced,
//! whether it sits in the authority (`postgres://user:secret@host`) or in the query
//! (`?password=secret`).

const HIDDEN: &str = "***";

pub fn redacted(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => format!("{user}:{HIDDEN}@{host}"),
                    None => format!("{userinfo}@{host}"),
                },
                None => authority.to_string(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => head.to_string(),
    };
    if let Some(q) = query {
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}={HIDDEN}"),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_are_hidden_wherever_they_sit() {
        assert_eq!(
            redacted("postgres://yun:s3cret@db:5432/yun"),
            "postgres://yun:***@db:5432/yun"
        );
        assert_eq!(
            redacted("postgres://yun:p@ss@db/yun?sslmode=require&password=x&user=y"),
            "postgres://yun:***@db/yun?sslmode=require&password=***&user=y"
        );
        assert_eq!(
            redacted("sqlite:///var/lib/yun/yun.db?mode=rwc"),
            "sqlite:///var/lib/yun/yun.db?mode=rwc"
        );
        assert_eq!(redacted("sqlite://yun.db"), "sqlite://yun.db");
        assert_eq!(redacted("postgres://yun@db/yun"), "postgres://yun@db/yun");
    }
}
