//! The deploy kit (`deploy/`) checked by the tools that will read it: promtool checks the
//! scrape configuration and the alert rules and runs each alert's unit test; systemd-analyze
//! verifies both units and holds their exposure under a threshold. (The dashboard's
//! expressions are evaluated by a real Prometheus in `prometheus.rs`.)

use std::path::{Path, PathBuf};
use std::process::Command;

const YUN: &str = env!("CARGO_BIN_EXE_yun");

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn run(tool: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("the deploy kit's test needs {tool} (scripts/test installs it): {e}")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} {args:?}: {text}");
    text
}

#[test]
fn prometheus_config_alerts_and_their_unit_tests_pass_promtool() {
    let dir = deploy().join("prometheus");
    // --syntax-only: the token files named in it live on the Prometheus host, not here.
    run(
        "promtool",
        &["check", "config", "--syntax-only", "prometheus.yml"],
        &dir,
    );
    let rules = run("promtool", &["check", "rules", "alerts.yml"], &dir);
    assert!(rules.contains("SUCCESS: 10 rules found"), "{rules}");
    let tests = run("promtool", &["test", "rules", "alerts-test.yml"], &dir);
    assert!(tests.contains("SUCCESS"), "{tests}");
    // Every alert has its unit test.
    let alerts = std::fs::read_to_string(dir.join("alerts.yml")).unwrap();
    let cases = std::fs::read_to_string(dir.join("alerts-test.yml")).unwrap();
    for name in alerts
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
    {
        assert!(
            cases.contains(&format!("alertname: {name}")),
            "{name} has no case in alerts-test.yml"
        );
    }
}

#[test]
fn the_systemd_units_verify_and_stay_locked_down() {
    let tmp = tempfile::tempdir().unwrap();
    for (unit, threshold) in [("yun-master.service", "20"), ("yun-worker.service", "30")] {
        // The unit names the installed binary; here it is the one just built.
        let text = std::fs::read_to_string(deploy().join("systemd").join(unit))
            .unwrap()
            .replace("/usr/local/bin/yun", YUN);
        let path = tmp.path().join(unit);
        std::fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap();
        run("systemd-analyze", &["verify", "--man=no", path], tmp.path());
        let security = run(
            "systemd-analyze",
            &[
                "security",
                "--offline=true",
                &format!("--threshold={threshold}"),
                path,
            ],
            tmp.path(),
        );
        assert!(security.contains("Overall exposure level"), "{security}");
    }
    let worker = std::fs::read_to_string(deploy().join("systemd/yun-worker.service")).unwrap();
    assert!(
        worker.contains("root-equivalent"),
        "the unit says what the docker group gives"
    );
}
