//! `mu-ctl logs [-f]` runs journalctl for the right unit: a stand-in `journalctl` first on PATH
//! records the arguments it was given.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

fn fake_journalctl(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mu-ctl-logs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let bin = dir.join("journalctl");
    std::fs::write(&bin, "#!/bin/sh\necho \"journalctl $*\"\n").expect("write");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

fn logs(dir: &PathBuf, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mu-ctl"))
        .args(args)
        .env("PATH", dir)
        .output()
        .expect("run mu-ctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn logs_runs_journalctl_for_the_unit_or_the_instance() {
    let dir = fake_journalctl("unit");
    let (code, out, err) = logs(&dir, &["logs"]);
    assert_eq!(
        (code, out.trim()),
        (0, "journalctl --unit mu-serverd.service"),
        "{err}"
    );
    let (code, out, err) = logs(&dir, &["--instance", "blue", "logs", "-f"]);
    assert_eq!(
        (code, out.trim()),
        (0, "journalctl --unit mu-serverd@blue.service --follow"),
        "{err}"
    );
    // --socket names no unit: a usage error, not a guess.
    let (code, _, err) = logs(&dir, &["--socket", "/tmp/x.sock", "logs"]);
    assert_eq!(code, 64, "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
