//! Helpers shared by the integration tests that drive the `syncproof` binary.

use std::process::Command;

/// Runs `syncproof ARGS`; its exit code, stdout and stderr.
pub fn syncproof(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_syncproof"))
        .args(args)
        .output()
        .expect("run syncproof");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
