//! Running a child process with a time limit: its output read as it comes (so a chatty child
//! cannot block on a full pipe), killed when the limit passes.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a child ended.
pub struct Exit {
    /// What it wrote to stdout.
    pub stdout: String,
    /// What it wrote to stderr.
    pub stderr: String,
    /// What went wrong, if anything: a signal, a non-zero exit, or the time limit.
    pub trouble: Option<String>,
    /// Whether it was killed for taking too long.
    pub timed_out: bool,
}

/// Runs `cmd` (its stdout and stderr captured) for at most `timeout`.
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<Exit, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {:?}: {e}", cmd.get_program()))?;
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let (trouble, timed_out) = loop {
        match child.try_wait().map_err(|e| format!("wait: {e}"))? {
            Some(status) => {
                use std::os::unix::process::ExitStatusExt;
                break (
                    (!status.success()).then(|| match status.signal() {
                        Some(sig) => format!("was killed by signal {sig}"),
                        None => format!("exited with {status}"),
                    }),
                    false,
                );
            }
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break (
                    Some(format!("did not finish within {} s", timeout.as_secs())),
                    true,
                );
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    Ok(Exit {
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        trouble,
        timed_out,
    })
}
