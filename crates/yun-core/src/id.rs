//! Platform ids: short, lowercase, safe inside a Docker name (`yun-<id>`) and a URL, and
//! ordered by the time they were made.

use rand::Rng;
use std::sync::Mutex;

const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters for the millisecond (45 bits: until the year 3085) and for the sequence.
const TIME_CHARS: usize = 9;
const SEQUENCE_CHARS: usize = 7;

/// A new id of 16 characters, e.g. `0jb4q7m2x4k9x2m0`. The first nine encode the millisecond
/// it was made, so ids sort by age and the indexes keyed by them grow at one end instead of
/// touching a random page for every new row (a large part of each write at scale). The last
/// seven are a sequence that starts at a random value each millisecond and counts up within
/// it, so a process never issues one id twice, even when the clock steps back.
pub fn new_id() -> String {
    static LAST: Mutex<(u64, u64)> = Mutex::new((0, 0));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let (ms, sequence) = {
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if now > last.0 {
            // Half the sequence's range is left to count up in.
            *last = (
                now,
                rand::thread_rng().gen_range(0..1u64 << (5 * SEQUENCE_CHARS - 1)),
            );
        } else {
            last.1 += 1;
        }
        *last
    };
    let mut id = String::with_capacity(TIME_CHARS + SEQUENCE_CHARS);
    push_base32(&mut id, ms, TIME_CHARS);
    push_base32(&mut id, sequence, SEQUENCE_CHARS);
    id
}

/// Appends the low `chars` × 5 bits of `value`, most significant first.
fn push_base32(out: &mut String, value: u64, chars: usize) {
    for i in (0..chars).rev() {
        out.push(ALPHABET[((value >> (5 * i)) & 31) as usize] as char);
    }
}

/// Whether `s` could be an id we issued; lets handlers answer 404 without a lookup.
pub fn looks_like_id(s: &str) -> bool {
    s.len() == TIME_CHARS + SEQUENCE_CHARS && s.bytes().all(|b| ALPHABET.contains(&b))
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

    #[test]
    fn ids_sort_by_the_order_they_were_made() {
        let ids: Vec<String> = (0..10_000).map(|_| new_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, ids, "in order and all distinct");
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_id() > ids[ids.len() - 1]);
    }
}
