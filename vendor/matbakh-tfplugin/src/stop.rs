// Added in matbakh-tfplugin (fork of tf-provider 0.2.2): see lib.rs.

//! Terraform's StopProvider, as a process-wide signal.
//!
//! Terraform sends StopProvider on the first Ctrl-C and then waits for the
//! calls in flight to return. Upstream cancels the gRPC server's token, a
//! graceful shutdown that waits for those very calls, so nothing ends
//! early. Here StopProvider only trips this token; the provider's long waits
//! watch it and return what they have. The server itself stops when
//! go-plugin's controller asks it to (Terraform's Kill), as before.

use std::sync::OnceLock;

use tokio_util::sync::CancellationToken;

fn token() -> &'static CancellationToken {
    static TOKEN: OnceLock<CancellationToken> = OnceLock::new();
    TOKEN.get_or_init(CancellationToken::new)
}

/// Record that Terraform asked the provider to stop.
pub fn request() {
    token().cancel();
}

/// Whether Terraform has asked the provider to stop.
pub fn requested() -> bool {
    token().is_cancelled()
}

/// Resolves once Terraform asks the provider to stop.
pub async fn stopped() {
    token().cancelled().await
}
