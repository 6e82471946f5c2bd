//! SIGKILL at random instants while a child process writes syncs; every call acknowledged
//! after a flush must survive, no batch may be half visible, and the store must verify.
//! `SYNCPROOF_CRASH_KILLS` sets kills per engine (default 3; the full run uses 100).

use std::process::{Command, Stdio};
use std::time::Duration;

use syncproof_engine::EngineConfig;
use syncproof_harness::crash::check;

fn kills() -> u64 {
    std::env::var("SYNCPROOF_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let mut summary = Vec::new();
    for info in syncproof_harness::engines::all()
        .into_iter()
        .filter(|e| e.name != "memory")
    {
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("store");
        std::fs::create_dir_all(&store_dir).unwrap();
        let store = format!("{}:{}", info.name, store_dir.display());
        let log = dir.path().join("acks.log");
        let (mut acked, mut visible) = (0, 0);
        for k in 0..kills() {
            let mut child = Command::new(env!("CARGO_BIN_EXE_syncproof"))
                .args(["crash-writer", &store, "--log", log.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let wait = 30 + syncproof_engine::sync_run::splitmix64(k ^ 0x6b) % 400;
            std::thread::sleep(Duration::from_millis(wait));
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
                panic!(
                    "{}: the writer stopped by itself ({status}): {err}",
                    info.name
                );
            }
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            let e = (info.opener)()
                .open(&store_dir, EngineConfig::default())
                .unwrap();
            let s = check(
                e.as_ref(),
                &std::fs::read_to_string(&log).unwrap_or_default(),
            )
            .unwrap();
            assert!(
                s.problems.is_empty(),
                "{} after kill {k} ({wait} ms): {:#?}",
                info.name,
                s.problems
            );
            acked = s.acked_batches;
            visible = s.visible_batches;
        }
        summary.push(format!(
            "{:<7} {} kills survived, {acked} acknowledged batches, {visible} visible",
            info.name,
            kills()
        ));
    }
    eprintln!("{}", summary.join("\n"));
}
