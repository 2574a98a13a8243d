//! Money as providers write it ("12.34" yuan) and as yun keeps it (1234 fen): exact decimal
//! parsing, never through a float.

/// Parses a non-negative decimal with at most two fractional digits into minor units.
pub fn parse_minor(text: &str) -> Option<i64> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty()
        || text.ends_with('.')
        || whole.len() > 15
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// Minor units as a two-decimal string: 1234 → "12.34".
pub fn format_minor(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        assert_eq!(parse_minor("12.34"), Some(1234));
        assert_eq!(parse_minor("0.1"), Some(10));
        assert_eq!(parse_minor("7"), Some(700));
        assert_eq!(parse_minor("0.07"), Some(7));
        // 0.1 + 0.2 style float error cannot happen: 10.29 stays 1029.
        assert_eq!(parse_minor("10.29"), Some(1029));
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for bad in [
            "",
            ".5",
            "1.234",
            "-1.00",
            "1e3",
            "1,00",
            " 1.00",
            "NaN",
            "1.",
            "99999999999999999",
        ] {
            assert_eq!(parse_minor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_two_decimals() {
        assert_eq!(format_minor(1234), "12.34");
        assert_eq!(format_minor(5), "0.05");
        assert_eq!(format_minor(100), "1.00");
    }
}
