//! What a password must be: 10 to 128 characters and not guessable, as zxcvbn estimates it
//! (its own dictionaries, with the username among the words it tries).

use yun_core::Invalid;

/// zxcvbn's scores run 0 to 4; 3 is "safely unguessable: moderate protection from an offline
/// slow-hash scenario" (about 10^8 guesses).
const MIN_SCORE: u8 = 3;
const MIN_CHARS: usize = 10;
const MAX_CHARS: usize = 128;

const ACCEPTED: &str = "use 10 to 128 characters that are hard to guess: a few unrelated words, \
                        or a password manager's, work well";

/// Refuses a short or guessable password, saying what is accepted and, when zxcvbn knows,
/// what was wrong with this one.
pub fn check(password: &str, username: &str) -> Result<(), Invalid> {
    let n = password.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&n) {
        return Err(Invalid::new("password", ACCEPTED));
    }
    let estimate = zxcvbn::zxcvbn(password, &[username, "yun"]);
    if u8::from(estimate.score()) >= MIN_SCORE {
        return Ok(());
    }
    let why = estimate
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| format!("{w} "))
        .unwrap_or_default();
    Err(Invalid::new(
        "password",
        format!("this password is too easy to guess. {why}Please {ACCEPTED}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn short_and_guessable_passwords_are_refused_with_what_is_accepted() {
        for weak in [
            "short",
            "password1234",
            "ann-password",
            "qwertyuiop",
            "annann-ann",
        ] {
            let e = check(weak, "ann").unwrap_err();
            assert_eq!(e.field, "password");
            assert!(e.to_string().contains("10 to 128 characters"), "{e}");
        }
        assert!(check(&"x7".repeat(65), "ann").is_err(), "too long");
        for strong in ["correct-horse", "ann-rides-a-blue-tram", "Tr0ub4dor&3x"] {
            check(strong, "ann").unwrap();
        }
    }
}
