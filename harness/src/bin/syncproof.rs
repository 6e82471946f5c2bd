//! `syncproof`: prove sync-store engines correct and measure them.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use syncproof_engine::contract::{run_check, CHECKS};
use syncproof_harness::engines;

#[derive(Parser)]
#[command(
    name = "syncproof",
    version,
    about = "Prove sync-store engines correct and measure them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance gate over engines (exit 0 clean, 1 disagreement, 2 usage error).
    Check {
        /// Comma-separated engine names, or `all`.
        #[arg(long, default_value = "all")]
        engines: String,
    },
    /// List the engines with their backend crate and durability setting.
    Engines,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Engines => {
            for e in engines::all() {
                println!(
                    "{:<8} {}\n         durability: {}",
                    e.name, e.backend, e.durability
                );
            }
            ExitCode::SUCCESS
        }
        Command::Check { engines } => match engines::select(Some(&engines)) {
            Err(e) => {
                eprintln!("syncproof check: {e}");
                ExitCode::from(2)
            }
            Ok(selected) => check(&selected),
        },
    }
}

fn check(selected: &[engines::EngineInfo]) -> ExitCode {
    let mut failed = 0;
    for info in selected {
        let opener = (info.opener)();
        let start = Instant::now();
        let mut bad = Vec::new();
        for c in CHECKS {
            if let Err(f) = run_check(opener.as_ref(), c) {
                bad.push((c, f));
            }
        }
        println!(
            "{:<8} contract: {}/{} SPEC checks passed in {:.2?}",
            info.name,
            CHECKS.len() - bad.len(),
            CHECKS.len(),
            start.elapsed()
        );
        for (c, f) in &bad {
            println!(
                "  FAILED {} ({} {}):\n    {}",
                c.name,
                c.section,
                c.rule,
                f.0.replace('\n', "\n    ")
            );
        }
        failed += bad.len();
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
