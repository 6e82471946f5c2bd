//! Engine configurations for metamorphic testing: option sets that change how an engine
//! stores data (page and block sizes, caches, memtables, durability) but never what the
//! contract says it returns. The gate runs each case under a configuration drawn per case and
//! compares it with the oracle, so one op sequence exercises code paths (flushes, page
//! splits, cache eviction, overflow pages) that the default options only reach at sizes no
//! generated case has. This is Pebble's metamorphic test in the small.

use super::Opener;

/// One configuration of an engine besides its default.
#[derive(Clone, Copy, Debug)]
pub struct Configuration {
    /// Short name, joined to the engine's with `+` in labels (`fjall+tiny-memtable`).
    pub name: &'static str,
    /// What it changes, and which code path that pushes small cases into.
    pub what: &'static str,
    /// Makes an opener of the engine under this configuration.
    pub opener: fn() -> Box<dyn Opener>,
    /// Opens the engine's raw key-value backend under this configuration, for the KV level
    /// (`None`: the engine has no key-value backend).
    pub kv: Option<crate::kv::KvOpen>,
    /// A race of the engine's upstream that the concurrent phase finds under this
    /// configuration (what it is, and where the README records it): the phase does not draw
    /// the configuration by default, so a known upstream bug does not fail every gate; pinned
    /// with `--engines`, it runs.
    pub known_race: Option<&'static str>,
}

/// The separator of an engine's name and a configuration's in a label.
pub const CONFIGURATION_SEPARATOR: char = '+';

/// The label of `engine` under `configuration` (`None`: its default).
pub fn configuration_label(engine: &str, configuration: Option<&str>) -> String {
    match configuration {
        None => engine.to_string(),
        Some(c) => format!("{engine}{CONFIGURATION_SEPARATOR}{c}"),
    }
}

/// Splits a label into the engine's name and the configuration's (`None`: the default).
pub fn split_label(label: &str) -> (&str, Option<&str>) {
    match label.split_once(CONFIGURATION_SEPARATOR) {
        Some((e, c)) => (e, Some(c)),
        None => (label, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        assert_eq!(configuration_label("fjall", None), "fjall");
        assert_eq!(configuration_label("fjall", Some("tiny")), "fjall+tiny");
        assert_eq!(split_label("fjall+tiny"), ("fjall", Some("tiny")));
        assert_eq!(split_label("fjall"), ("fjall", None));
    }
}
