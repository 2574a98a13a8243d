//! Which error codes the integration tests produced: every master a test ran (in-process or as
//! `yun dev`/`yun master`) appended the codes it answered to `$YUN_ERROR_CODE_LOG`. This test
//! prints the table and fails on a code that no test produced. `scripts/test` runs it last,
//! after the whole suite (it is ignored in a plain `cargo test`, which cannot order it last).

use std::collections::BTreeMap;
use yun_api::ErrorCode;

/// Codes no test may produce: each one is a bug where it happens.
const NEVER_PRODUCED: &[ErrorCode] = &[ErrorCode::Internal];

/// Codes no test produces yet, each needing a fault no test stages so far; listed so that the
/// table shows them and any other code that loses its test fails the run. Shrink this list.
const NOT_YET_PRODUCED: &[(ErrorCode, &str)] = &[];

#[test]
#[ignore = "run by scripts/test after the whole suite"]
fn every_error_code_is_produced_by_some_test() {
    let dir = std::env::var_os("YUN_ERROR_CODE_LOG")
        .expect("YUN_ERROR_CODE_LOG names the directory the suite's masters wrote to (scripts/test sets it)");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("the suite wrote its codes") {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for code in text.lines() {
            *seen.entry(code.to_string()).or_default() += 1;
        }
    }
    println!("{:<28} {:>6} {:>8}", "code", "status", "answers");
    let mut missing = Vec::new();
    for code in ErrorCode::ALL {
        let n = seen.get(code.as_str()).copied().unwrap_or(0);
        println!("{:<28} {:>6} {:>8}", code.as_str(), code.status(), n);
        let excused = NOT_YET_PRODUCED.iter().any(|(c, _)| c == code);
        if n == 0 && !NEVER_PRODUCED.contains(code) && !excused {
            missing.push(code.as_str());
        }
        if let Some((_, why)) = NOT_YET_PRODUCED.iter().find(|(c, _)| c == code) {
            println!("    not produced yet: needs {why}");
        }
    }
    for code in NEVER_PRODUCED {
        assert_eq!(
            seen.get(code.as_str()),
            None,
            "{code} was answered during the tests: a server error to fix"
        );
    }
    assert!(missing.is_empty(), "no test produces: {missing:?}");
}
