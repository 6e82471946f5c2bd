//! Migration between any two engines, built on the clone unit (export → import): every
//! finished sync is copied into a staging directory next to the target, proven equal record by
//! record, and the staging directory is renamed into place only after that proof and the
//! target's own `verify` pass. An interrupted or failed migration leaves only
//! `<target>.partial`, never a target that looks complete.

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use syncproof_engine::contract::Opener;
use syncproof_engine::engine::all_sync_runs;
use syncproof_engine::*;

/// What a migration did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrateReport {
    pub syncs: u64,
    pub records: u64,
    /// Unfinished syncs, which cannot be cloned and were left behind.
    pub skipped_unfinished: Vec<SyncId>,
}

/// Streams both stores' copies of `id` side by side and fails at the first difference.
fn prove_equal(a: &dyn StorageEngine, b: &dyn StorageEngine, id: &SyncId) -> Result<u64> {
    if a.get_sync_run(id)? != b.get_sync_run(id)? {
        return Err(Error::corruption(format!(
            "migrate: run of sync {id} differs after copy"
        )));
    }
    let (tx, rx) = sync_channel::<Record>(EXPORT_CHUNK);
    std::thread::scope(|s| {
        let reader = s.spawn(move || -> Result<()> {
            b.export_sync(id, &mut |batch| {
                for r in batch.to_records() {
                    tx.send(r)
                        .map_err(|_| Error::io("migrate: comparison stopped"))?;
                }
                Ok(())
            })?;
            Ok(())
        });
        let mut n = 0u64;
        let compared = a.export_sync(id, &mut |batch| {
            for r in batch.to_records() {
                n += 1;
                match rx.recv() {
                    Ok(other) if other == r => {}
                    Ok(other) => {
                        return Err(Error::corruption(format!(
                            "migrate: sync {id} record {n} differs: {:?} vs {:?}",
                            r.key(),
                            other.key()
                        )))
                    }
                    Err(_) => {
                        return Err(Error::corruption(format!(
                            "migrate: the copy of sync {id} has only {} records",
                            n - 1
                        )))
                    }
                }
            }
            Ok(())
        });
        let extra = compared.is_ok() && rx.recv().is_ok();
        drop(rx);
        let read = reader
            .join()
            .map_err(|_| Error::io("migrate: comparison thread panicked"))?;
        compared?;
        if extra {
            return Err(Error::corruption(format!(
                "migrate: the copy of sync {id} has more than {n} records"
            )));
        }
        // Here the comparison succeeded, so any reader failure is real.
        read?;
        Ok(n)
    })
}

/// The staging directory of a migration into `target`.
pub fn staging(target: &Path) -> PathBuf {
    let mut name = target
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    target.with_file_name(name)
}

/// Copies every finished sync of `from` into a new store at `target` (which must not exist),
/// calling `progress(records copied)` as it goes.
pub fn migrate(
    from: &dyn StorageEngine,
    to: &dyn Opener,
    target: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<MigrateReport> {
    if target.exists() {
        return Err(Error::already_exists(format!(
            "migrate: {} exists; migrations go to a new path",
            target.display()
        )));
    }
    let stage = staging(target);
    if stage.exists() {
        std::fs::remove_dir_all(&stage)
            .map_err(|e| Error::io(format!("{}: {e}", stage.display())))?;
    }
    std::fs::create_dir_all(&stage).map_err(|e| Error::io(format!("{}: {e}", stage.display())))?;
    let mut report = MigrateReport::default();
    {
        let dest = to.open(&stage, EngineConfig::default())?;
        for run in all_sync_runs(from)? {
            if run.ended_at.is_none() {
                report.skipped_unfinished.push(run.id);
                continue;
            }
            let mut import = dest.begin_import(&run)?;
            from.export_sync(&run.id, &mut |batch| {
                report.records += batch.len() as u64;
                import.write(batch)?;
                progress(report.records);
                Ok(())
            })?;
            import.commit()?;
            prove_equal(from, dest.as_ref(), &run.id)?;
            report.syncs += 1;
        }
        let verified = dest.verify()?;
        if !verified.problems.is_empty() {
            return Err(Error::corruption(format!(
                "migrate: the copy does not verify: {}",
                verified.problems.join("; ")
            )));
        }
        dest.flush()?;
    }
    std::fs::rename(&stage, target).map_err(|e| {
        Error::io(format!(
            "migrate: rename {} to {}: {e}",
            stage.display(),
            target.display()
        ))
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{write_sync, Shape};

    fn source(dir: &Path) -> Box<dyn StorageEngine> {
        std::fs::create_dir_all(dir).unwrap();
        let e = syncproof_sqlite::SqliteOpener::default()
            .open(dir, EngineConfig::default())
            .unwrap();
        let shape = Shape {
            users: 30,
            groups: 4,
            grants: 2_500,
            assets: 2,
        };
        for v in 0..2 {
            write_sync(e.as_ref(), shape, v, &mut |_| {}).unwrap();
        }
        e.start_sync().unwrap(); // an unfinished sync, which cannot move
        e
    }

    #[test]
    fn migrates_between_engines_and_proves_the_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let src = source(&tmp.path().join("src"));
        let target = tmp.path().join("dst");
        let report = migrate(
            src.as_ref(),
            &syncproof_redb::opener(),
            &target,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((report.syncs, report.skipped_unfinished.len()), (2, 1));
        assert!(target.is_dir() && !staging(&target).exists());
        let dst = syncproof_redb::opener()
            .open(&target, EngineConfig::default())
            .unwrap();
        for run in all_sync_runs(src.as_ref())
            .unwrap()
            .into_iter()
            .filter(|r| r.ended_at.is_some())
        {
            assert_eq!(
                prove_equal(src.as_ref(), dst.as_ref(), &run.id).unwrap(),
                crate::workload::records_per_sync(&Shape {
                    users: 30,
                    groups: 4,
                    grants: 2_500,
                    assets: 2
                })
            );
        }
        // An existing target is refused, and nothing is touched.
        assert_eq!(
            migrate(
                src.as_ref(),
                &syncproof_redb::opener(),
                &target,
                &mut |_| {}
            )
            .unwrap_err()
            .kind,
            ErrorKind::AlreadyExists
        );
    }

    #[test]
    fn a_failed_migration_leaves_no_complete_looking_target() {
        let tmp = tempfile::tempdir().unwrap();
        let src = source(&tmp.path().join("src"));
        let target = tmp.path().join("dst");
        // The process dies during the copy (a panic stands in for the kill).
        let interrupted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            migrate(src.as_ref(), &syncproof_redb::opener(), &target, &mut |n| {
                if n > 1_000 {
                    panic!("interrupted");
                }
            })
        }));
        assert!(interrupted.is_err());
        assert!(!target.exists(), "an interrupted migration left a target");
        assert!(
            staging(&target).exists(),
            "the partial copy should stay where it is visibly partial"
        );
        // Running it again starts over and completes.
        let report = migrate(
            src.as_ref(),
            &syncproof_redb::opener(),
            &target,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(report.syncs, 2);
        assert!(!staging(&target).exists());
    }

    #[test]
    fn a_difference_is_detected() {
        let tmp = tempfile::tempdir().unwrap();
        let a = source(&tmp.path().join("a"));
        std::fs::create_dir_all(tmp.path().join("b")).unwrap();
        let b = syncproof_redb::opener()
            .open(&tmp.path().join("b"), EngineConfig::default())
            .unwrap();
        let run = all_sync_runs(a.as_ref()).unwrap().remove(0);
        let mut import = b.begin_import(&run).unwrap();
        let mut first = true;
        a.export_sync(&run.id, &mut |batch| {
            if std::mem::take(&mut first) {
                return Ok(()); // drop the first chunk from the copy
            }
            import.write(batch)
        })
        .unwrap();
        import.commit().unwrap();
        assert_eq!(
            prove_equal(a.as_ref(), b.as_ref(), &run.id)
                .unwrap_err()
                .kind,
            ErrorKind::Corruption
        );
    }
}
