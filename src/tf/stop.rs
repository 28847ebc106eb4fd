//! Terraform's stop request (StopProvider, sent on the first Ctrl-C), as a
//! process-wide signal every long wait can watch.
//!
//! The signal itself lives in our fork of the plugin crate
//! (`vendor/matbakh-tfplugin`, imported as `tf_provider`): upstream
//! tf-provider 0.2.2 answers StopProvider by starting a graceful shutdown of
//! the gRPC server, which waits for the calls in flight, so nothing ended
//! them early. A wrapper service cannot see the request (the crate builds
//! its tonic server itself and keeps the handler private), and a tfplugin6
//! layer of our own would duplicate the crate's 5,000 lines of value and
//! schema plumbing; a fork with a two-file change (`stop.rs`, `guard.rs`)
//! is the smallest honest fix. The engine ([`crate::engine`]) watches this
//! next to the deadline.

pub use tf_provider::stop::{requested, stopped};

/// Ask everything to stop, as StopProvider does (tests, and a future
/// signal handler).
pub fn request() {
    tf_provider::stop::request()
}
