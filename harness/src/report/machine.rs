//! The machine a report was made on, read from `/proc` and the toolchain.

use syncproof_engine::scratch::mount_of;

/// What the report states about the machine; each field says "unknown" when unreadable.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: String,
    pub memory: String,
    pub os: String,
    pub kernel: String,
    /// The filesystem holding the temp dir, where the benchmark stores live.
    pub temp_fs: String,
    pub rustc: String,
}

const UNKNOWN: &str = "unknown";

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The value after `key:` (or `key=`) on the first line that starts with `key`.
fn field(text: &str, key: &str, sep: char) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(sep))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
}

/// This machine's physical memory (`MemTotal`), in bytes; `None` where it cannot be read.
pub fn memory_bytes() -> Option<u64> {
    read("/proc/meminfo")
        .and_then(|m| field(&m, "MemTotal", ':'))
        .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<u64>().ok())
        .and_then(|kb| kb.checked_mul(1024))
}

impl Machine {
    pub fn this() -> Self {
        let or = |v: Option<String>| v.unwrap_or_else(|| UNKNOWN.into());
        let cpuinfo = read("/proc/cpuinfo").unwrap_or_default();
        let memory =
            memory_bytes().map(|b| format!("{:.1} GiB", b as f64 / (1024.0 * 1024.0 * 1024.0)));
        let rustc = std::process::Command::new("rustc")
            .arg("-V")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        let temp = std::env::temp_dir();
        Machine {
            cpu: or(field(&cpuinfo, "model name", ':')),
            cores: or(std::thread::available_parallelism()
                .ok()
                .map(|n| format!("{n} logical"))),
            memory: or(memory),
            os: or(read("/etc/os-release").and_then(|t| field(&t, "PRETTY_NAME", '='))),
            kernel: or(read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string())),
            temp_fs: or(read("/proc/mounts")
                .and_then(|m| mount_of(&m, &temp))
                .map(|fs| format!("{}: {fs}", temp.display()))),
            rustc: or(rustc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse() {
        assert_eq!(
            field(
                "processor\t: 0\nmodel name\t: Fast CPU\n",
                "model name",
                ':'
            )
            .as_deref(),
            Some("Fast CPU")
        );
        assert_eq!(
            field("NAME=x\nPRETTY_NAME=\"Debian 12\"\n", "PRETTY_NAME", '=').as_deref(),
            Some("Debian 12")
        );
    }
}
