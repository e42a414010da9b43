//! Dropped segment files in S3: list a prefix (ListObjectsV2, every page) and
//! stream one object's body to the loader, which reads it as a file.
//!
//! The SDK runs on tokio; the loader on monoio. Listing blocks on a small
//! runtime of its own; a body is downloaded on a thread of its own and handed
//! over in chunks through a bounded channel, so an object of any size is read
//! in constant memory and never lands on disk.

use std::io::{self, Read};
use std::sync::mpsc;

use super::LoadError;
use crate::aws::S3Location;
use crate::error::AwsError;

/// Chunks of a body buffered between the download and the loader.
const CHUNKS_AHEAD: usize = 16;
/// Longest wait for one S3 call (a body's download is not bounded by it).
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Tries of one S3 call.
const CALL_ATTEMPTS: u32 = 3;
/// Longest wait for the next piece of a body before the download counts as
/// stalled (the loader would otherwise wait forever on a hung connection).
const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// An S3 client for one prefix.
pub(super) struct S3Objects {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
    /// Where the files are dropped.
    pub(super) location: S3Location,
}

/// One object under the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct S3Object {
    /// Its whole key (prefix included).
    pub(super) key: String,
    /// Its ETag, without quotes: a changed object has another.
    pub(super) etag: String,
}

impl S3Objects {
    /// Loads the standard AWS configuration (region, `AWS_ENDPOINT_URL`,
    /// credentials); addresses buckets by path when an endpoint is configured
    /// (a local emulator), by virtual host otherwise.
    pub(super) fn new(location: S3Location) -> Result<S3Objects, LoadError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(LoadError::Runtime)?;
        let client = runtime.block_on(crate::aws::s3_client(CALL_TIMEOUT, CALL_ATTEMPTS))?;
        Ok(S3Objects {
            runtime,
            client,
            location,
        })
    }

    /// The objects under the prefix, in key order; directory markers and names
    /// starting with `.` or `_` (hidden files, `_SUCCESS` markers of export
    /// jobs) left out.
    pub(super) fn list(&self) -> Result<Vec<S3Object>, AwsError> {
        let what = format!("list s3://{}", self.location.bucket);
        let listed = crate::aws::list_prefix(&self.client, &self.location, &what);
        let mut objects = Vec::new();
        for object in self.runtime.block_on(listed)? {
            let Some(key) = object.key() else { continue };
            let name = key.rsplit('/').next().unwrap_or(key);
            if name.is_empty() || name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            objects.push(S3Object {
                key: key.to_owned(),
                etag: object
                    .e_tag()
                    .unwrap_or_default()
                    .trim_matches('"')
                    .to_owned(),
            });
        }
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    /// The body of `key`, downloading on a thread of its own as it is read. A
    /// failed download shows as a read error.
    pub(super) fn open(&self, key: &str) -> io::Result<impl Read + Send + 'static> {
        let (chunks, received) = mpsc::sync_channel(CHUNKS_AHEAD);
        let client = self.client.clone();
        let bucket = self.location.bucket.clone();
        let key = key.to_owned();
        std::thread::Builder::new()
            .name("segments-s3".into())
            .spawn(move || download(&client, &bucket, &key, &chunks))?;
        Ok(Body {
            received,
            chunk: Vec::new(),
            at: 0,
            ended: false,
        })
    }
}

/// One piece of a body on its way to the loader.
enum Chunk {
    Bytes(Vec<u8>),
    End,
    Failed(String),
}

/// Downloads `bucket/key` into `chunks` until its end, a failure, or the
/// reader going away.
fn download(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    chunks: &mpsc::SyncSender<Chunk>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = chunks.send(Chunk::Failed(format!("no runtime: {e}")));
            return;
        }
    };
    runtime.block_on(async {
        let request = client.get_object().bucket(bucket).key(key);
        let mut body = match request.send().await {
            Ok(object) => object.body,
            Err(e) => {
                let error = crate::aws::call_error(format!("get s3://{bucket}/{key}"), &e);
                let _ = chunks.send(Chunk::Failed(error.to_string()));
                return;
            }
        };
        loop {
            let chunk = match body.try_next().await {
                Ok(Some(bytes)) => Chunk::Bytes(bytes.to_vec()),
                Ok(None) => Chunk::End,
                Err(e) => Chunk::Failed(format!("read s3://{bucket}/{key}: {e}")),
            };
            let last = !matches!(chunk, Chunk::Bytes(_));
            // Blocking here is the back-pressure: this runtime has nothing else to run.
            if chunks.send(chunk).is_err() || last {
                return;
            }
        }
    });
}

/// A body as the download thread hands it over.
struct Body {
    received: mpsc::Receiver<Chunk>,
    chunk: Vec<u8>,
    at: usize,
    ended: bool,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            match self.received.recv_timeout(STALL_TIMEOUT) {
                Ok(Chunk::Bytes(bytes)) => (self.chunk, self.at) = (bytes, 0),
                Ok(Chunk::End) => self.ended = true,
                Ok(Chunk::Failed(why)) => {
                    self.ended = true;
                    return Err(io::Error::other(why));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.ended = true;
                    let waited_s = STALL_TIMEOUT.as_secs();
                    return Err(io::Error::other(format!(
                        "the S3 download stalled ({waited_s} s without data)"
                    )));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.ended = true;
                    return Err(io::Error::other("the S3 download stopped"));
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body whose download sent `chunks` and went away.
    fn body(chunks: Vec<Chunk>) -> Body {
        let (send, received) = mpsc::sync_channel(chunks.len() + 1);
        for chunk in chunks {
            send.send(chunk).unwrap();
        }
        Body {
            received,
            chunk: Vec::new(),
            at: 0,
            ended: false,
        }
    }

    #[test]
    fn a_body_reads_its_chunks_in_order_to_the_end() {
        let mut read = Vec::new();
        let chunks = vec![
            Chunk::Bytes(b"ab".to_vec()),
            Chunk::Bytes(Vec::new()),
            Chunk::Bytes(b"cde".to_vec()),
            Chunk::End,
        ];
        body(chunks).read_to_end(&mut read).unwrap();
        assert_eq!(read, b"abcde");
    }

    #[test]
    fn a_failed_or_vanished_download_is_a_read_error_not_an_end() {
        let mut read = Vec::new();
        let failed = body(vec![
            Chunk::Bytes(b"ab".to_vec()),
            Chunk::Failed("reset".into()),
        ]);
        let error = failed.take(100).read_to_end(&mut read).unwrap_err();
        assert_eq!(error.to_string(), "reset");
        let vanished = body(vec![Chunk::Bytes(b"ab".to_vec())]);
        assert!(vanished.take(100).read_to_end(&mut Vec::new()).is_err());
    }
}
