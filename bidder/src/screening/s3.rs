//! Reading a lists prefix from S3: list the keys (the fingerprint: key, ETag,
//! size), then get each object. Runs on the `ivt-lists` thread's own runtime.

use aws_sdk_s3::primitives::ByteStream;
use tern_ivt::ListFile;

use super::config::S3Location;
use crate::error::{AwsError, StartError};

/// Most bytes one list file may have (a large sellers.json is tens of MB).
const MAX_FILE_BYTES: u64 = 256 << 20;

/// One version of the prefix: every key (prefix stripped) with its ETag and size.
pub(super) type Fingerprint = Vec<(String, String, u64)>;

/// An S3 client for one prefix.
pub(super) struct S3Lists {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
    location: S3Location,
}

impl S3Lists {
    /// Loads the standard AWS configuration; addresses buckets by path when an
    /// endpoint is configured (a local emulator), by virtual host otherwise.
    pub(super) fn new(location: S3Location) -> Result<S3Lists, StartError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| StartError::Thread {
                thread: "ivt-lists",
                source,
            })?;
        let timeout = std::time::Duration::from_secs(30);
        let client = runtime
            .block_on(crate::aws::s3_client(timeout, 3))
            .map_err(StartError::ListsSource)?;
        Ok(S3Lists {
            runtime,
            client,
            location,
        })
    }

    /// The prefix's keys with ETag and size, sorted; directory markers, hidden
    /// files and directories, `README*` and licence files left out.
    pub(super) fn fingerprint(&mut self) -> Result<Fingerprint, AwsError> {
        let listed =
            crate::aws::list_prefix(&self.client, &self.location, "list the screening lists");
        let mut keys = Vec::new();
        for object in self.runtime.block_on(listed)? {
            let Some(key) = object.key() else { continue };
            let Some(path) = key.strip_prefix(&self.location.prefix) else {
                continue;
            };
            let name = path.rsplit('/').next().unwrap_or(path);
            if name.is_empty()
                || path.split('/').any(|segment| segment.starts_with('.'))
                || name.starts_with("README")
                || name.starts_with("LICENSE")
                || name.ends_with(".LICENSE")
            {
                continue;
            }
            let etag = object.e_tag().unwrap_or_default().to_owned();
            let size = object.size().unwrap_or_default().max(0) as u64;
            keys.push((path.to_owned(), etag, size));
        }
        keys.sort();
        Ok(keys)
    }

    /// Gets every object the fingerprint names.
    pub(super) fn read(&mut self, fingerprint: &Fingerprint) -> Result<Vec<ListFile>, AwsError> {
        let mut files = Vec::with_capacity(fingerprint.len());
        for (path, _, size) in fingerprint {
            if *size > MAX_FILE_BYTES {
                return Err(AwsError::Call {
                    operation: format!("get {path}"),
                    text: format!("{size} bytes, over the {MAX_FILE_BYTES}-byte limit"),
                });
            }
            let key = format!("{}{path}", self.location.prefix);
            let request = self
                .client
                .get_object()
                .bucket(&self.location.bucket)
                .key(&key);
            let bytes = self.runtime.block_on(async {
                let object = request
                    .send()
                    .await
                    .map_err(|e| crate::aws::call_error(format!("get {key}"), &e))?;
                collect(object.body, &key).await
            })?;
            files.push(ListFile {
                path: path.clone(),
                bytes,
            });
        }
        Ok(files)
    }
}

async fn collect(body: ByteStream, key: &str) -> Result<Vec<u8>, AwsError> {
    body.collect()
        .await
        .map(|data| data.into_bytes().to_vec())
        .map_err(|e| AwsError::Call {
            operation: format!("read {key}"),
            text: e.to_string(),
        })
}
