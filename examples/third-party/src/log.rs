//! "mine-log": the third party's persistent engine, for the fault models (`tests/crash.rs`):
//! the key-value layer over an in-memory ordered map that is rebuilt, at open, from an
//! append-only log of the batches committed to it.
//!
//! The log (`mine.log` in the store directory) is a run of records, each `[u32 length]
//! [u64 checksum][payload]` (little-endian; the checksum is FNV-1a over length and payload), a
//! payload being a batch's range deletes then its puts and deletes. A commit appends one
//! record (so a batch is wholly in the log or not); `flush()` syncs the log's data. Open reads
//! the records up to the first one that is cut short or fails its checksum (a power loss's
//! torn tail: never acknowledged, since it came after the last sync), truncates the log
//! there, and syncs. A new log's directory entry is synced, or a power loss could take the
//! file away with everything synced into it.
//!
//! After any failed write or sync the log is *poisoned*: every later write and flush fails
//! with `Io`, since what reached the disk is no longer known (after a failed `fsync` the
//! kernel may have dropped the dirty pages: the "fsyncgate" lesson). Reopening recovers.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use syncproof_engine::kv::{BTreeBackend, Durability, KvBackend, WriteBatch};
use syncproof_engine::{Error, Result};

/// The log's file name in the store directory.
pub const LOG_FILE: &str = "mine.log";

/// The backend.
pub struct LogBackend {
    map: BTreeBackend,
    log: Mutex<Log>,
}

struct Log {
    file: File,
    /// Why the log takes no more writes, after a failed write or sync.
    poisoned: Option<String>,
}

/// Record header: length and checksum.
const HEADER: usize = 12;

const TAG_PUT: u8 = 0;
const TAG_DELETE: u8 = 1;
const TAG_RANGE: u8 = 2;

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// One batch as a log record.
fn encode(batch: &WriteBatch) -> Vec<u8> {
    let mut payload = Vec::new();
    for (start, end) in batch.ranges() {
        payload.push(TAG_RANGE);
        put_bytes(&mut payload, start);
        put_bytes(&mut payload, end);
    }
    for (k, v) in batch.ops() {
        match v {
            Some(v) => {
                payload.push(TAG_PUT);
                put_bytes(&mut payload, k);
                put_bytes(&mut payload, v);
            }
            None => {
                payload.push(TAG_DELETE);
                put_bytes(&mut payload, k);
            }
        }
    }
    let len = (payload.len() as u32).to_le_bytes();
    let mut record = Vec::with_capacity(HEADER + payload.len());
    record.extend_from_slice(&len);
    record.extend_from_slice(&fnv1a(&[&len, &payload]).to_le_bytes());
    record.extend_from_slice(&payload);
    record
}

/// Reads a length-prefixed byte string off the front of `b`.
fn take<'a>(b: &mut &'a [u8]) -> Result<&'a [u8]> {
    let corrupt = || Error::corruption("mine-log: a record's entry is cut short");
    let (len, rest) = b.split_first_chunk::<4>().ok_or_else(corrupt)?;
    let (bytes, rest) = rest
        .split_at_checked(u32::from_le_bytes(*len) as usize)
        .ok_or_else(corrupt)?;
    *b = rest;
    Ok(bytes)
}

/// A record's payload as a batch (its checksum passed, so a malformed one is corruption).
fn decode(mut payload: &[u8]) -> Result<WriteBatch> {
    let mut batch = WriteBatch::new();
    while let Some((tag, rest)) = payload.split_first() {
        payload = rest;
        match *tag {
            TAG_PUT => {
                let k = take(&mut payload)?;
                let v = take(&mut payload)?;
                batch.put(k.to_vec(), v.to_vec());
            }
            TAG_DELETE => batch.delete(take(&mut payload)?.to_vec()),
            TAG_RANGE => {
                let start = take(&mut payload)?;
                let end = take(&mut payload)?;
                batch.delete_range(start.to_vec(), end.to_vec());
            }
            t => {
                return Err(Error::corruption(format!(
                    "mine-log: unknown entry tag {t}"
                )))
            }
        }
    }
    Ok(batch)
}

/// The batches of a log's valid prefix, and that prefix's length.
fn replay(bytes: &[u8]) -> Result<(Vec<WriteBatch>, usize)> {
    let mut batches = Vec::new();
    let mut at = 0;
    while let Some(rest) = bytes.get(at..) {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            break;
        };
        let Some((sum, tail)) = tail.split_first_chunk::<8>() else {
            break;
        };
        let Some(payload) = tail.get(..u32::from_le_bytes(*len) as usize) else {
            break;
        };
        if fnv1a(&[len, payload]) != u64::from_le_bytes(*sum) {
            break;
        }
        batches.push(decode(payload)?);
        at += HEADER + payload.len();
    }
    Ok((batches, at))
}

impl LogBackend {
    /// Opens (or creates) the log in `dir` and replays it.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(LOG_FILE);
        let created = !path.exists();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::from(e).context(format!("opening {}", path.display())))?;
        if created {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::from(e).context("syncing the store directory"))?;
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .map_err(|e| Error::from(e).context(format!("reading {}", path.display())))?;
        let (batches, valid) = replay(&bytes)?;
        if valid < bytes.len() {
            // The torn tail of a crash: cut it off, so that new records follow valid ones.
            file.set_len(valid as u64)
                .and_then(|()| file.sync_data())
                .map_err(|e| Error::from(e).context("truncating the log's torn tail"))?;
        }
        let map = BTreeBackend::new();
        for batch in &batches {
            map.write(batch)?;
        }
        Ok(LogBackend {
            map,
            log: Mutex::new(Log {
                file,
                poisoned: None,
            }),
        })
    }

    fn log(&self) -> Result<std::sync::MutexGuard<'_, Log>> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        match &log.poisoned {
            Some(why) => Err(Error::io(format!(
                "mine-log takes no writes after an earlier I/O error ({why}): reopen the store"
            ))),
            None => Ok(log),
        }
    }
}

impl KvBackend for LogBackend {
    type Snapshot<'a> = <BTreeBackend as KvBackend>::Snapshot<'a>;

    fn name(&self) -> &'static str {
        "mine-log"
    }
    fn durability(&self) -> Durability {
        Durability::Flush
    }
    fn snapshot(&self) -> Result<Self::Snapshot<'_>> {
        self.map.snapshot()
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        let mut log = self.log()?;
        if let Err(e) = log.file.write_all(&encode(batch)) {
            log.poisoned = Some(format!("append: {e}"));
            return Err(Error::from(e).context("appending to the log"));
        }
        // Applied while the log is held, so that readers see batches in log order.
        self.map.write(batch)
    }
    fn flush(&self) -> Result<()> {
        let mut log = self.log()?;
        if let Err(e) = log.file.sync_data() {
            log.poisoned = Some(format!("sync: {e}"));
            return Err(Error::from(e).context("syncing the log"));
        }
        Ok(())
    }
}

impl Drop for LogBackend {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_tail_is_cut_off_and_the_rest_replays() {
        let mut a = WriteBatch::new();
        a.put(b"k1".to_vec(), b"v1".to_vec());
        a.delete_range(b"a".to_vec(), b"b".to_vec());
        let mut b = WriteBatch::new();
        b.delete(b"k1".to_vec());
        let mut bytes = encode(&a);
        let whole = bytes.len();
        bytes.extend_from_slice(&encode(&b));
        for cut in whole..bytes.len() {
            let (batches, valid) = replay(&bytes[..cut]).unwrap();
            assert_eq!((batches.len(), valid), (1, whole), "cut at {cut}");
        }
        assert_eq!(replay(&bytes).unwrap().0.len(), 2);
        // A flipped byte in the second record's payload fails its checksum.
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(replay(&bytes).unwrap().1, whole);
    }
}
