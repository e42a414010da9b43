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
        let write = |sink: &mut FileSink| -> std::io::Result<()> {
            let current = sink.file()?;
            for line in batch {
                current.writer.write_all(line)?;
                current.bytes += line.len() as u64;
            }
            current.writer.flush()
        };
        write(self).map_err(|e| {
            // Start a fresh file next time: this one may hold a partial line.
            self.current = None;
            SinkError(format!("writing events to {}: {e}", self.dir.display()))
        })
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
}
