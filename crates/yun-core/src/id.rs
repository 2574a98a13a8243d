//! Platform ids: short, random, lowercase, safe inside a Docker name (`yun-<id>`) and a URL.

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new random id of 16 characters (80 bits), e.g. `4k9x2m0q7c1vz8ra`.
pub fn new_id() -> String {
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Whether `s` could be an id we issued; lets handlers answer 404 without a lookup.
pub fn looks_like_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_well_formed() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert!(looks_like_id(&a));
        assert!(!looks_like_id("../etc/passwd"));
    }
}
