//! Rotating NDJSON files: the embedded default's event sink.
//!
//! Files are named `events-<unix ms>-<instance>.ndjson` in the configured directory
//! and rotated by size and age; `bidder report` reads them back.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::config::EventFileConfig;
use super::sink::{Sink, SinkError};
use crate::error::ConfigError;

/// Appends events to the current file, opening a new one when it is full or old.
pub(crate) struct FileSink {
    dir: PathBuf,
    instance: String,
    max_bytes: u64,
    max_age: Duration,
    current: Option<Current>,
}

struct Current {
    writer: BufWriter<File>,
    bytes: u64,
    opened: Instant,
}

impl FileSink {
    /// Creates the directory if needed.
    pub(crate) fn new(config: &EventFileConfig, instance: &str) -> Result<FileSink, ConfigError> {
        std::fs::create_dir_all(&config.dir).map_err(|e| {
            ConfigError::new(
                "events.file.dir",
                format!("cannot create {}: {e}", config.dir.display()),
            )
        })?;
        Ok(FileSink {
            dir: config.dir.clone(),
            instance: instance
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect(),
            max_bytes: config.max_file_bytes,
            max_age: Duration::from_secs(config.max_file_age_s),
            current: None,
        })
    }

    fn file(&mut self) -> std::io::Result<&mut Current> {
        let expired = self
            .current
            .as_ref()
            .is_some_and(|c| c.bytes >= self.max_bytes || c.opened.elapsed() >= self.max_age);
        if expired && let Some(mut old) = self.current.take() {
            old.writer.flush()?;
        }
        if self.current.is_none() {
            let ms = tern_engine::clock::now_ms();
            let path = self
                .dir
                .join(format!("events-{ms:013}-{}.ndjson", self.instance));
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            self.current = Some(Current {
                writer: BufWriter::new(file),
                bytes: 0,
                opened: Instant::now(),
            });
        }
        Ok(self.current.as_mut().expect("opened above"))
    }
}

impl Sink for FileSink {
    fn send(&mut self, batch: &[Vec<u8>], _failed: &mut Vec<usize>) -> Result<(), SinkError> {
        let dir = self.dir.display().to_string();
        let error = |e: std::io::Error| SinkError(format!("writing events to {dir}: {e}"));
        let current = match self.file() {
            Ok(current) => current,
            Err(e) => {
                self.current = None;
                return Err(error(e));
            }
        };
        // Where this batch begins: the file's length, as its buffer is empty
        // between batches.
        let start = match current.writer.get_ref().metadata() {
            Ok(meta) => meta.len(),
            Err(e) => {
                self.current = None;
                return Err(error(e));
            }
        };
        let mut written = Ok(());
        for line in batch {
            written = current.writer.write_all(line);
            if written.is_err() {
                break;
            }
        }
        match written.and_then(|()| current.writer.flush()) {
            Ok(()) => {
                current.bytes += batch.iter().map(|l| l.len() as u64).sum::<u64>();
                Ok(())
            }
            Err(e) => {
                self.undo_partial_batch(start);
                Err(error(e))
            }
        }
    }
}

impl FileSink {
    /// A failed batch is sent again (the [`Sink`] contract: on `Err` nothing was
    /// delivered), so what of it reached the file before the error (a disk that
    /// filled up mid-batch) is cut off again: otherwise the file would keep a torn
    /// line, and the lines before it would be written twice. The file stays open
    /// for the retry; when it cannot be cut back, a new file is started.
    fn undo_partial_batch(&mut self, start: u64) {
        let Some(current) = self.current.take() else {
            return;
        };
        // The buffered rest of the batch is thrown away, not written.
        let (file, _unwritten) = current.writer.into_parts();
        match file.set_len(start) {
            Ok(()) => {
                self.current = Some(Current {
                    writer: BufWriter::new(file),
                    bytes: current.bytes,
                    opened: current.opened,
                });
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    dir = %self.dir.display(),
                    "could not cut a partly written event batch off its file"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let config = EventFileConfig {
            dir: dir.path().to_owned(),
            max_file_bytes: 100,
            max_file_age_s: 3600,
        };
        let mut sink = FileSink::new(&config, "host/1").unwrap();
        let line = b"{\"v\":1,\"type\":\"bid\"}\n".to_vec();
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(2));
            sink.send(&[line.clone(), line.clone()], &mut Vec::new())
                .unwrap();
        }
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(files.len() > 1, "rotated");
        assert!(
            files
                .iter()
                .all(|p| p.to_string_lossy().ends_with("-host_1.ndjson"))
        );
        let lines: usize = files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap().lines().count())
            .sum();
        assert_eq!(lines, 40);
    }

    #[test]
    fn a_batch_that_failed_part_way_is_cut_off_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = EventFileConfig {
            dir: dir.path().to_owned(),
            ..EventFileConfig::default()
        };
        let mut sink = FileSink::new(&config, "i").unwrap();
        let line = |n: u8| format!("{{\"n\":{n}}}\n").into_bytes();
        sink.send(&[line(1)], &mut Vec::new()).unwrap();
        // What a disk that fills up mid-batch leaves: a whole line and a torn one.
        let current = sink.current.as_mut().unwrap();
        current.writer.write_all(b"{\"n\":2}\n{\"n\":").unwrap();
        current.writer.flush().unwrap();
        let start = line(1).len() as u64;
        sink.undo_partial_batch(start);
        sink.send(&[line(2), line(3)], &mut Vec::new()).unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1, "the retry goes on in the same file");
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert_eq!(text, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    }
}
