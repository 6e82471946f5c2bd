//! The relational layout: a table per record kind with its key and index columns, and the
//! indexes that serve each filter of SPEC §4 in key order.
//!
//! Ids are stored as BLOBs so every comparison is `memcmp` on UTF-8 bytes (SPEC §4 order),
//! whatever bytes (`\0` included) they hold. `data` holds the record's envelope with
//! `discovered_at` zeroed and NaNs canonical, so two rows have equal `data` exactly when the
//! records agree in everything but `discovered_at` (what diff compares).

/// Statements run on every open; idempotent.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sync_runs (
    id BLOB PRIMARY KEY, sync_type TEXT NOT NULL, parent BLOB,
    started_at INTEGER NOT NULL, ended_at INTEGER, token BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sync_runs_by_start ON sync_runs (started_at, id);
CREATE TABLE IF NOT EXISTS resource_types (
    sync_id BLOB NOT NULL, id BLOB NOT NULL, discovered_at INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (sync_id, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resources (
    sync_id BLOB NOT NULL, resource_type BLOB NOT NULL, resource BLOB NOT NULL,
    parent_type BLOB, parent_id BLOB, discovered_at INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (sync_id, resource_type, resource)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (sync_id, parent_type, parent_id, resource_type, resource);
CREATE TABLE IF NOT EXISTS entitlements (
    sync_id BLOB NOT NULL, id BLOB NOT NULL, resource_type BLOB NOT NULL, resource BLOB NOT NULL,
    discovered_at INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (sync_id, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entitlements_by_resource ON entitlements (sync_id, resource_type, resource, id);
CREATE TABLE IF NOT EXISTS grants (
    sync_id BLOB NOT NULL, id BLOB NOT NULL, entitlement_id BLOB NOT NULL,
    ent_resource_type BLOB NOT NULL, ent_resource BLOB NOT NULL,
    principal_type BLOB NOT NULL, principal_id BLOB NOT NULL,
    discovered_at INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (sync_id, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS grants_by_resource ON grants (sync_id, ent_resource_type, ent_resource, id);
CREATE INDEX IF NOT EXISTS grants_by_entitlement ON grants (sync_id, entitlement_id, id);
CREATE INDEX IF NOT EXISTS grants_by_entitlement_principal ON grants (sync_id, entitlement_id, principal_type, principal_id, id);
CREATE INDEX IF NOT EXISTS grants_by_principal ON grants (sync_id, principal_type, principal_id, id);
CREATE INDEX IF NOT EXISTS grants_by_resource_type ON grants (sync_id, ent_resource_type, id);
CREATE TABLE IF NOT EXISTS assets (
    sync_id BLOB NOT NULL, id BLOB NOT NULL, discovered_at INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (sync_id, id)
) WITHOUT ROWID;
";

/// Every record table, in `RecordKind::ALL` order.
pub(crate) const RECORD_TABLES: [&str; 5] = [
    "resource_types",
    "resources",
    "entitlements",
    "grants",
    "assets",
];
