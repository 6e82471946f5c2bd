//! Helpers shared by the integration tests that drive the `syncproof` binary.

use std::process::Command;

/// Runs `syncproof ARGS`; its exit code, stdout and stderr.
pub fn syncproof(args: &[&str]) -> (i32, String, String) {
    syncproof_with(args, |_| {})
}

/// [`syncproof`], with `set_up` given the command first (environment, extra arguments).
pub fn syncproof_with(args: &[&str], set_up: impl FnOnce(&mut Command)) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncproof"));
    cmd.args(args);
    set_up(&mut cmd);
    let out = cmd.output().expect("run syncproof");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
