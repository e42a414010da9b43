//! The spend journal: every billing notice this bidder accepts, appended to a file
//! in `budget.state_dir` before the notice is answered, so spend accepted but not
//! yet flushed to the ledger survives the process dying (even by SIGKILL: the
//! write is in the page cache once `write` returns).
//!
//! Each record is one line: notice id, issue time, budget day, cost in micros,
//! whose lease it settles against, campaign id. A record's **position** is the
//! journal generation and the byte offset where it ends, `generation << 40 |
//! offset`, so positions only grow. A flush to the ledger stores the position of
//! the last record it includes; on start the bidder replays the records past it.
//! Files rotate at `ROTATE_BYTES` (and at each start); a generation is deleted
//! once every record in it has been flushed and is older than `notice.max_age_s`
//! (a restarted bidder re-learns from the journal which notices it counted).
//!
//! Records are also kept in memory as pending deltas per campaign, which the
//! budget service takes on each flush. Writes go through one mutex: notices are a
//! small fraction of requests and a write to the page cache is a few
//! microseconds.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use tern_engine::notice::NoticeId;

/// A generation's file is rotated once it passes this size.
const ROTATE_BYTES: u64 = 8 << 20;
/// Bits of a position holding the byte offset.
const OFFSET_BITS: u32 = 40;

/// Whose lease a spend settles against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeaseOwner {
    /// The lease of the bidder process that made the bid: the digest of the
    /// bidder's id and the process's number (recorded as such even for this
    /// process's own bids, so a replay after a restart books them right).
    Lease(u64, u32),
    /// Unknown (a token from before origins).
    Unknown,
}

/// One accepted billing notice's spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendRecord {
    /// The notice's identity (for counting it once across restarts).
    pub notice_id: NoticeId,
    /// When the bid was made, seconds since the epoch.
    pub issued_at_s: u64,
    /// The campaign's budget day of the bid.
    pub day: u32,
    /// What the impression cost, micros of the campaign's currency.
    pub cost_micros: u64,
    /// Whose lease it settles against.
    pub owner: LeaseOwner,
    /// The campaign.
    pub campaign_id: String,
}

/// Spend of one campaign not yet in the ledger, by lease owner and budget day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendDelta {
    /// Micros by (owner, day).
    pub by_owner: BTreeMap<(LeaseOwner, u32), u64>,
    /// Position of the first record included.
    pub first_position: u64,
    /// Position of the last record included: what the ledger stores once flushed.
    pub last_position: u64,
}

impl SpendDelta {
    fn add(&mut self, record: &SpendRecord, position: u64) {
        *self.by_owner.entry((record.owner, record.day)).or_default() += record.cost_micros;
        // Replayed records are added after newer ones: keep the bounds, not the
        // order of arrival.
        if self.first_position == 0 || position < self.first_position {
            self.first_position = position;
        }
        self.last_position = self.last_position.max(position);
    }

    /// Micros in all.
    pub fn total(&self) -> u64 {
        self.by_owner.values().sum()
    }
}

/// The journal (see the module).
#[derive(Debug)]
pub struct SpendJournal {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    file: File,
    generation: u64,
    offset: u64,
    line: String,
    pending: HashMap<String, SpendDelta>,
}

fn file_name(generation: u64) -> String {
    format!("spend-{generation:06}.journal")
}

fn generation_of(name: &str) -> Option<u64> {
    name.strip_prefix("spend-")?
        .strip_suffix(".journal")?
        .parse()
        .ok()
}

/// The generations on disk, oldest first.
fn generations(dir: &Path) -> io::Result<Vec<u64>> {
    let mut found: Vec<u64> = std::fs::read_dir(dir)?
        .filter_map(|entry| generation_of(entry.ok()?.file_name().to_str()?))
        .collect();
    found.sort_unstable();
    Ok(found)
}

/// Position of the byte `offset` of `generation`.
fn position(generation: u64, offset: u64) -> u64 {
    (generation << OFFSET_BITS) | offset
}

impl SpendJournal {
    /// Opens the journal in `dir` (created if missing) and returns every record
    /// on disk with its position, oldest first. A torn last line (the process died
    /// mid-write) is ignored: its notice was never answered.
    pub fn open(dir: &Path) -> io::Result<(SpendJournal, Vec<(SpendRecord, u64)>)> {
        std::fs::create_dir_all(dir)?;
        let on_disk = generations(dir)?;
        let mut records = Vec::new();
        for &generation in &on_disk {
            let file = File::open(dir.join(file_name(generation)))?;
            let mut offset = 0;
            for line in BufReader::new(file).split(b'\n') {
                let line = line?;
                offset += line.len() as u64 + 1;
                if let Some(record) = std::str::from_utf8(&line).ok().and_then(parse_line) {
                    records.push((record, position(generation, offset)));
                }
            }
        }
        // Always start a fresh generation: a torn line stays at the end of its own.
        let generation = on_disk.last().map_or(1, |g| g + 1);
        let file = open_append(&dir.join(file_name(generation)))?;
        let journal = SpendJournal {
            dir: dir.to_owned(),
            inner: Mutex::new(Inner {
                file,
                generation,
                offset: 0,
                line: String::new(),
                pending: HashMap::new(),
            }),
        };
        Ok((journal, records))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends `record` and adds it to the campaign's pending delta. The delta
    /// is updated even when the write fails (the spend still reaches the ledger;
    /// only a crash before the flush could lose it), and the error is returned.
    pub fn record(&self, record: &SpendRecord) -> io::Result<()> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.line.clear();
        write_line(&mut inner.line, record);
        let written = inner.file.write_all(inner.line.as_bytes());
        match written {
            Ok(()) => inner.offset += inner.line.len() as u64,
            // Part of the line may be on disk: later lines go to a new file, so
            // only this one is torn.
            Err(_) => inner.offset = ROTATE_BYTES,
        }
        let at = position(inner.generation, inner.offset);
        inner
            .pending
            .entry(record.campaign_id.clone())
            .or_default()
            .add(record, at);
        if inner.offset >= ROTATE_BYTES {
            self.rotate(inner)?;
        }
        written
    }

    fn rotate(&self, inner: &mut Inner) -> io::Result<()> {
        let generation = inner.generation + 1;
        inner.file = open_append(&self.dir.join(file_name(generation)))?;
        inner.generation = generation;
        inner.offset = 0;
        Ok(())
    }

    /// Puts a replayed record (not yet in the ledger) back into pending.
    pub fn restore(&self, record: &SpendRecord, position: u64) {
        self.lock()
            .pending
            .entry(record.campaign_id.clone())
            .or_default()
            .add(record, position);
    }

    /// Takes the pending delta of `campaign_id`, if any.
    pub fn take(&self, campaign_id: &str) -> Option<SpendDelta> {
        self.lock().pending.remove(campaign_id)
    }

    /// Campaigns with pending spend.
    pub fn pending_campaigns(&self) -> Vec<String> {
        self.lock().pending.keys().cloned().collect()
    }

    /// The first position not yet flushed, given the deltas the caller has taken
    /// but not flushed (`in_flight`): every record before it is in the ledger.
    pub fn unflushed_from(&self, in_flight: impl IntoIterator<Item = u64>) -> u64 {
        let inner = self.lock();
        inner
            .pending
            .values()
            .map(|d| d.first_position)
            .chain(in_flight)
            .min()
            .unwrap_or(position(inner.generation, inner.offset) + 1)
    }

    /// Deletes the generations whose every record lies before `unflushed_from`
    /// and that were last written before `written_before`: the journal is also
    /// what a restarted bidder remembers counted notices by, so a file stays
    /// until every notice in it is too old to be accepted again.
    pub fn forget_flushed(
        &self,
        unflushed_from: u64,
        written_before: SystemTime,
    ) -> io::Result<()> {
        let current = self.lock().generation;
        for generation in generations(&self.dir)? {
            let ends_before = position(generation + 1, 0) <= unflushed_from;
            if generation >= current || !ends_before {
                continue;
            }
            let path = self.dir.join(file_name(generation));
            if std::fs::metadata(&path)?.modified()? < written_before {
                std::fs::remove_file(path)?;
            }
        }
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn write_line(out: &mut String, r: &SpendRecord) {
    for byte in r.notice_id {
        let _ = write!(out, "{byte:02x}");
    }
    let owner = match r.owner {
        LeaseOwner::Lease(bidder, process) => format!("{bidder:016x}-{process:08x}"),
        LeaseOwner::Unknown => "-".to_owned(),
    };
    let _ = writeln!(
        out,
        " {} {} {} {owner} {}",
        r.issued_at_s, r.day, r.cost_micros, r.campaign_id
    );
}

fn parse_line(line: &str) -> Option<SpendRecord> {
    let mut fields = line.split(' ');
    let id_hex = fields.next()?;
    let mut notice_id = [0u8; 16];
    if id_hex.len() != 32 {
        return None;
    }
    for (i, byte) in notice_id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(id_hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    let issued_at_s = fields.next()?.parse().ok()?;
    let day = fields.next()?.parse().ok()?;
    let cost_micros = fields.next()?.parse().ok()?;
    let owner = match fields.next()? {
        "-" => LeaseOwner::Unknown,
        lease => {
            let (bidder, process) = lease.split_once('-')?;
            LeaseOwner::Lease(
                u64::from_str_radix(bidder, 16).ok()?,
                u32::from_str_radix(process, 16).ok()?,
            )
        }
    };
    let campaign_id = fields.next().filter(|id| !id.is_empty())?.to_owned();
    if fields.next().is_some() {
        return None;
    }
    Some(SpendRecord {
        notice_id,
        issued_at_s,
        day,
        cost_micros,
        owner,
        campaign_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u8, campaign: &str, owner: LeaseOwner, cost: u64) -> SpendRecord {
        SpendRecord {
            notice_id: [n; 16],
            issued_at_s: 1_796_000_000 + u64::from(n),
            day: 20_787,
            cost_micros: cost,
            owner,
            campaign_id: campaign.to_owned(),
        }
    }

    #[test]
    fn records_survive_a_restart_with_their_positions() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, replayed) = SpendJournal::open(dir.path()).unwrap();
        assert!(replayed.is_empty());
        let written = [
            record(1, "c1", LeaseOwner::Lease(1, 1), 1_500),
            record(2, "c2", LeaseOwner::Lease(0xabc, 7), 700),
            record(3, "c1", LeaseOwner::Unknown, 20),
        ];
        for r in &written {
            journal.record(r).unwrap();
        }
        let c1 = journal.take("c1").unwrap();
        assert_eq!(c1.total(), 1_520);
        assert!(c1.first_position < c1.last_position);
        drop(journal);
        let (_journal, replayed) = SpendJournal::open(dir.path()).unwrap();
        let records: Vec<_> = replayed.iter().map(|(r, _)| r.clone()).collect();
        assert_eq!(records, written);
        assert_eq!(replayed[2].1, c1.last_position, "the same positions");
        assert!(replayed.windows(2).all(|w| w[0].1 < w[1].1));
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = SpendJournal::open(dir.path()).unwrap();
        journal
            .record(&record(1, "c1", LeaseOwner::Lease(1, 1), 5))
            .unwrap();
        drop(journal);
        let file = dir.path().join(file_name(1));
        let mut f = OpenOptions::new().append(true).open(&file).unwrap();
        f.write_all(b"0101 17960").unwrap();
        let (_, replayed) = SpendJournal::open(dir.path()).unwrap();
        assert_eq!(replayed.len(), 1);
    }

    #[test]
    fn pending_deltas_add_up_by_owner_and_day() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = SpendJournal::open(dir.path()).unwrap();
        journal
            .record(&record(1, "c1", LeaseOwner::Lease(1, 1), 10))
            .unwrap();
        journal
            .record(&record(2, "c1", LeaseOwner::Lease(1, 1), 5))
            .unwrap();
        let mut next_day = record(3, "c1", LeaseOwner::Lease(1, 1), 1);
        next_day.day += 1;
        journal.record(&next_day).unwrap();
        journal
            .record(&record(4, "c1", LeaseOwner::Lease(9, 1), 7))
            .unwrap();
        let delta = journal.take("c1").unwrap();
        assert_eq!(delta.by_owner[&(LeaseOwner::Lease(1, 1), 20_787)], 15);
        assert_eq!(delta.by_owner[&(LeaseOwner::Lease(1, 1), 20_788)], 1);
        assert_eq!(delta.by_owner[&(LeaseOwner::Lease(9, 1), 20_787)], 7);
        assert!(journal.take("c1").is_none(), "taken once");
    }

    #[test]
    fn a_replayed_older_record_keeps_the_delta_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = SpendJournal::open(dir.path()).unwrap();
        journal
            .record(&record(1, "c1", LeaseOwner::Lease(1, 1), 10))
            .unwrap();
        journal.restore(&record(2, "c1", LeaseOwner::Lease(1, 0), 5), 7);
        let delta = journal.take("c1").unwrap();
        assert_eq!(delta.first_position, 7);
        assert!(
            delta.last_position > 7,
            "the newest record's position, not the replayed one"
        );
    }

    #[test]
    fn generations_are_deleted_once_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = SpendJournal::open(dir.path()).unwrap();
        journal
            .record(&record(1, "c1", LeaseOwner::Lease(1, 1), 10))
            .unwrap();
        let taken = journal.take("c1").unwrap();
        journal.rotate(&mut journal.lock()).unwrap();
        journal
            .record(&record(2, "c1", LeaseOwner::Lease(1, 1), 10))
            .unwrap();
        assert_eq!(generations(dir.path()).unwrap(), [1, 2]);
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        // The taken delta is still in flight: generation 1 stays.
        let from = journal.unflushed_from([taken.first_position]);
        journal.forget_flushed(from, later).unwrap();
        assert_eq!(generations(dir.path()).unwrap(), [1, 2]);
        // Flushed, but written after the cut-off (its notices could come again).
        let from = journal.unflushed_from([]);
        journal
            .forget_flushed(from, SystemTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(generations(dir.path()).unwrap(), [1, 2]);
        // Flushed and old enough: only the pending record of generation 2 is left.
        journal.forget_flushed(from, later).unwrap();
        assert_eq!(generations(dir.path()).unwrap(), [2]);
    }
}
