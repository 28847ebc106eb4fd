//! The provider binary Terraform starts: serves tfplugin6 over gRPC with
//! go-plugin's handshake (AutoMTLS when Terraform asks for it).

use matbakh::provider::MatbakhProvider;

#[tokio::main]
async fn main() {
    matbakh::tf::logging::init();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        // A debug build's peak RSS is about twice a release build's, most
        // of it the pages of its 4.5 times larger code: the benchmark reads
        // this to say which one it measured (acceptance-tests/harness/bench.py).
        build = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        "terraform-provider-matbakh starting"
    );
    // tonic (Terraform's AutoMTLS) and the AWS SDK bring different rustls
    // crypto back ends; with two compiled in, rustls needs to be told.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Ctrl-C in a terminal reaches the whole process group, this process
    // included. Like go-plugin's providers, do not die of it (Terraform
    // sends StopProvider and then waits for our answers): take it as the
    // same stop request, so waits end and every call returns its state.
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("interrupt received; stopping waits and returning what exists");
            matbakh::tf::stop::request();
        }
    });
    if let Err(e) = tf_provider::serve("matbakh", MatbakhProvider::new()).await {
        tracing::error!(error = %e, "provider server stopped");
        eprintln!("terraform-provider-matbakh: {e}");
        std::process::exit(1);
    }
}
