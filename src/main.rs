//! The provider binary Terraform starts: serves tfplugin6 over gRPC with
//! go-plugin's handshake (AutoMTLS when Terraform asks for it).

use matbakh::provider::MatbakhProvider;

#[tokio::main]
async fn main() {
    matbakh::tf::logging::init();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "terraform-provider-matbakh starting"
    );
    // tonic (Terraform's AutoMTLS) and the AWS SDK bring different rustls
    // crypto back ends; with two compiled in, rustls needs to be told.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Err(e) = tf_provider::serve("matbakh", MatbakhProvider::new()).await {
        tracing::error!(error = %e, "provider server stopped");
        eprintln!("terraform-provider-matbakh: {e}");
        std::process::exit(1);
    }
}
