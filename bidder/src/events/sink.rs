//! Where event lines go: the one interface the shipper drives and each sink (rotating
//! files, Kinesis, and test doubles) implements.

/// Why a whole batch failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct SinkError(pub(crate) String);

/// A destination for event lines.
pub(crate) trait Sink {
    /// Delivers `batch`. On `Ok`, `failed` holds the positions of records the sink
    /// refused (to be retried); on `Err`, nothing was delivered.
    fn send(&mut self, batch: &[Vec<u8>], failed: &mut Vec<usize>) -> Result<(), SinkError>;
}
