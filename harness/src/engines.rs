//! The registry of engines syncproof knows: the one place that lists them.

use syncproof_engine::contract::{configuration_label, split_label, Configuration, Opener};
pub use syncproof_gate::run::kv::KvOpen;
pub use syncproof_gate::run::repro::NamedOpener;

/// What the CLI, the tests and the reports need to know about one engine.
pub struct EngineInfo {
    /// Short name used on the command line (`--engines memory,sqlite`).
    pub name: &'static str,
    /// The crate (and upstream version) the engine is built on.
    pub backend: String,
    /// The durability setting the engine is opened with, in words.
    pub durability: &'static str,
    /// Settings that differ from the upstream defaults, and why (for reports).
    pub settings: fn() -> String,
    /// Makes an opener for this engine.
    pub opener: fn() -> Box<dyn Opener>,
    /// For key-value engines: opens the raw backend in a directory (the KV level).
    pub kv: Option<KvOpen>,
    /// Its configurations besides the default, for metamorphic testing: `check` draws one
    /// per case ([`Configuration`]).
    pub configurations: &'static [Configuration],
    /// The configuration a selection by label (`fjall+tiny-memtable`) pinned: then
    /// [`Self::opener`] makes it and [`Self::configurations`] is empty.
    pub pinned: Option<&'static Configuration>,
    /// Files the engine rebuilds after a crash, so crash states leave them out (and a shared
    /// writable mapping of one is allowed): `syncproof crash` says which and why.
    pub volatile_files: &'static [VolatileFile],
}

/// A store file an engine rebuilds when it opens after a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VolatileFile {
    /// The end of its name.
    pub suffix: &'static str,
    /// Why the engine does not need its contents.
    pub why: &'static str,
}

/// SQLite's wal-index.
const SQLITE_SHM: VolatileFile = VolatileFile {
    suffix: "-shm",
    why: "SQLite's WAL index, mapped shared and writable; the first connection after a crash \
          rebuilds it from the WAL (https://sqlite.org/walformat.html#the_wal_index_or_shm_file)",
};

/// libmdbx's lock file.
const MDBX_LCK: VolatileFile = VolatileFile {
    suffix: "mdbx.lck",
    why: "libmdbx's lock file (reader table and lock state), mapped shared and writable; the \
          first process to open the environment after a crash reinitialises it",
};

impl EngineInfo {
    /// The name endings of [`Self::volatile_files`]: what a copy or a crash state of a store
    /// of this engine leaves out.
    pub fn volatile_suffixes(&self) -> Vec<&'static str> {
        self.volatile_files.iter().map(|v| v.suffix).collect()
    }

    /// The label it runs under: its name, or `name+configuration` when pinned.
    pub fn label(&self) -> String {
        configuration_label(self.name, self.pinned.map(|c| c.name))
    }

    /// The labels of its configurations with a known upstream race, each with what it is
    /// ([`Configuration::known_race`]); none when pinned, which runs whatever it knows.
    pub fn known_races(&self) -> Vec<(String, String)> {
        self.configurations
            .iter()
            .filter_map(|c| {
                c.known_race.map(|why| {
                    (
                        configuration_label(self.name, Some(c.name)),
                        why.to_string(),
                    )
                })
            })
            .collect()
    }

    /// Its configurations' labels and openers, the default (or the pinned one) first.
    pub fn configured_openers(&self) -> Vec<(String, Box<dyn Opener>)> {
        let mut out = vec![(self.label(), (self.opener)())];
        out.extend(
            self.configurations
                .iter()
                .map(|c| (configuration_label(self.name, Some(c.name)), (c.opener)())),
        );
        out
    }

    /// `self` pinned to its configuration `name`.
    fn pin(self, name: &str) -> Result<EngineInfo, String> {
        let c = self
            .configurations
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                let known: Vec<_> = self.configurations.iter().map(|c| c.name).collect();
                format!(
                    "engine {} has no configuration {name:?}; its configurations: {}",
                    self.name,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            })?;
        Ok(EngineInfo {
            opener: c.opener,
            configurations: &[],
            pinned: Some(c),
            volatile_files: self.volatile_files,
            ..self
        })
    }
}

/// Every engine, the oracle first.
pub fn all() -> Vec<EngineInfo> {
    const KV_FLUSH: &str = "flush: commits are atomic, fsynced by flush() and on close";
    vec![
        EngineInfo {
            name: "memory",
            backend: concat!(
                "syncproof-memory ",
                env!("CARGO_PKG_VERSION"),
                " (BTreeMap, the oracle)"
            )
            .into(),
            durability: "none: data lives as long as the process",
            settings: || "none".into(),
            opener: || Box::new(syncproof_memory::MemoryOpener::default()),
            kv: None,
            configurations: &[],
            pinned: None,
            volatile_files: &[],
        },
        EngineInfo {
            name: "sqlite",
            backend: syncproof_sqlite::upstream(),
            durability:
                "flush: WAL with synchronous=NORMAL, wal_checkpoint(FULL) on flush() and on close",
            settings: || {
                "bundled SQLite; WAL journal; ids stored as BLOBs (bytewise order); one table \
                 per record kind with an index per list filter"
                    .into()
            },
            opener: || Box::new(syncproof_sqlite::SqliteOpener::default()),
            kv: None,
            configurations: syncproof_sqlite::CONFIGURATIONS,
            pinned: None,
            volatile_files: &[SQLITE_SHM],
        },
        EngineInfo {
            name: "sled",
            backend: syncproof_sled::UPSTREAM.into(),
            durability: KV_FLUSH,
            settings: || "defaults (cache 1 GiB, no compression)".into(),
            opener: || Box::new(syncproof_sled::opener()),
            kv: Some(|dir| Ok(Box::new(syncproof_sled::open(dir)?))),
            configurations: syncproof_sled::CONFIGURATIONS,
            pinned: None,
            volatile_files: &[],
        },
        EngineInfo {
            name: "mdbx",
            backend: syncproof_mdbx::UPSTREAM.into(),
            durability: "flush: SafeNoSync commits, mdbx_env_sync on flush() and on close",
            settings: || match syncproof_mdbx::page_size() {
                Ok(p) => format!(
                    "{} KiB pages: the smallest whose key-size limit holds the longest \
                     key SPEC allows (default 4 KiB pages refuse keys over ~2 KB)",
                    p / 1024
                ),
                Err(e) => format!("page size unavailable: {e}"),
            },
            opener: || Box::new(syncproof_mdbx::opener()),
            kv: Some(|dir| Ok(Box::new(syncproof_mdbx::open(dir)?))),
            configurations: syncproof_mdbx::CONFIGURATIONS,
            pinned: None,
            volatile_files: &[MDBX_LCK],
        },
        EngineInfo {
            name: "redb",
            backend: syncproof_redb::UPSTREAM.into(),
            durability:
                "flush: Durability::None commits, an Immediate commit on flush() and on close",
            settings: || "defaults".into(),
            opener: || Box::new(syncproof_redb::opener()),
            kv: Some(|dir| Ok(Box::new(syncproof_redb::open(dir)?))),
            configurations: syncproof_redb::CONFIGURATIONS,
            pinned: None,
            volatile_files: &[],
        },
        EngineInfo {
            name: "fjall",
            backend: syncproof_fjall::UPSTREAM.into(),
            durability: "flush: PersistMode::Buffer commits, SyncAll on flush() and on close",
            settings: || "defaults".into(),
            opener: || Box::new(syncproof_fjall::opener()),
            kv: Some(|dir| Ok(Box::new(syncproof_fjall::open(dir)?))),
            configurations: syncproof_fjall::CONFIGURATIONS,
            pinned: None,
            volatile_files: &[],
        },
    ]
}

/// The opener of the in-tree engine called `label` (`None` for an unknown one): the
/// [`syncproof_gate::OpenerFn`] that replays and printed regression tests use.
///
/// A label names an engine (`fjall`) or one of its configurations (`fjall+tiny-memtable`).
pub fn opener(label: &str) -> Option<Box<dyn Opener>> {
    select(Some(label))
        .ok()
        .and_then(|s| s.into_iter().next())
        .filter(|e| e.label() == label)
        .map(|e| (e.opener)())
}

/// The Rust path of [`opener`], for printed regression tests.
pub const OPENER_PATH: &str = "syncproof_harness::engines::opener";

/// The raw backends of the key-value engines among `selected`, as the KV level runs them:
/// each engine's default and every configuration of it, each a target of its own that runs
/// every case (a pinned engine, `fjall+tiny-memtable`, only that configuration).
pub fn kv_targets(
    selected: &[EngineInfo],
    bug: Option<syncproof_gate::faults::kv::KvBug>,
) -> Vec<syncproof_gate::run::kv::KvTarget> {
    kv_targets_with(selected, bug, true)
}

/// [`kv_targets`] without the configurations: exactly the labels selected (a replay of a
/// repro that names its culprits, a fuzz target that runs one backend).
pub fn kv_targets_as_named(
    selected: &[EngineInfo],
    bug: Option<syncproof_gate::faults::kv::KvBug>,
) -> Vec<syncproof_gate::run::kv::KvTarget> {
    kv_targets_with(selected, bug, false)
}

fn kv_targets_with(
    selected: &[EngineInfo],
    bug: Option<syncproof_gate::faults::kv::KvBug>,
    configurations: bool,
) -> Vec<syncproof_gate::run::kv::KvTarget> {
    let target = |label: String, open| syncproof_gate::run::kv::KvTarget { label, open, bug };
    let mut out = Vec::new();
    for e in selected {
        let default = match e.pinned {
            Some(c) => c.kv,
            None => e.kv,
        };
        let Some(open) = default else { continue };
        out.push(target(e.label(), open));
        for c in e.configurations.iter().filter(|_| configurations) {
            if let Some(open) = c.kv {
                out.push(target(configuration_label(e.name, Some(c.name)), open));
            }
        }
    }
    out
}

/// Looks engines up by comma-separated names, in the order given, each once; `None` or
/// `"all"` selects every engine. A name may pin a configuration (`fjall+tiny-memtable`).
pub fn select(names: Option<&str>) -> Result<Vec<EngineInfo>, String> {
    let Some(names) = names.filter(|n| *n != "all") else {
        return Ok(all());
    };
    let mut pool: Vec<Option<EngineInfo>> = all().into_iter().map(Some).collect();
    let mut out = Vec::new();
    for label in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let (name, configuration) = split_label(label);
        if out.iter().any(|e: &EngineInfo| e.name == name) {
            continue;
        }
        let slot = pool
            .iter_mut()
            .find(|e| e.as_ref().is_some_and(|e| e.name == name))
            .ok_or_else(|| {
                let known: Vec<_> = all().iter().map(|e| e.name).collect();
                format!(
                    "unknown engine {name:?}; known engines: {}",
                    known.join(", ")
                )
            })?;
        match (slot.take(), configuration) {
            (Some(e), Some(c)) => out.push(e.pin(c)?),
            (Some(e), None) => out.push(e),
            (None, _) => {}
        }
    }
    if out.is_empty() {
        return Err("no engine selected".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_by_name() {
        assert_eq!(select(None).unwrap().len(), all().len());
        assert_eq!(select(Some("all")).unwrap().len(), all().len());
        let s = select(Some("memory, memory")).unwrap();
        assert_eq!(s.iter().map(|e| e.name).collect::<Vec<_>>(), ["memory"]);
        match select(Some("nope")) {
            Err(e) => assert!(e.contains("known engines: memory, sqlite, sled"), "{e}"),
            Ok(_) => panic!("unknown engine accepted"),
        }
        assert!(select(Some(",")).is_err_and(|e| e.contains("no engine")));
    }

    #[test]
    fn configurations_by_label() {
        for e in all() {
            for c in e.configurations {
                let label = configuration_label(e.name, Some(c.name));
                let pinned = select(Some(&label)).unwrap();
                assert_eq!(pinned.len(), 1);
                assert_eq!(pinned[0].label(), label);
                assert!(pinned[0].configurations.is_empty());
                assert!(opener(&label).is_some(), "{label}");
            }
            assert!(opener(e.name).is_some());
        }
        assert!(all().iter().any(|e| !e.configurations.is_empty()));
        match select(Some("fjall+nope")) {
            Err(e) => assert!(e.contains("tiny-memtable"), "{e}"),
            Ok(_) => panic!("unknown configuration accepted"),
        }
        assert!(opener("memory+x").is_none());
        assert!(opener("nope").is_none());
    }
}
