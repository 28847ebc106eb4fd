//! The built provider binary as Terraform sees it: go-plugin's handshake on
//! stdout, a gRPC server on a local TCP port (with AutoMTLS when asked), and
//! — when Terraform is installed — the schema and diagnostics through the
//! real CLI.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-matbakh");
const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const TERRAFORM: &str = "/usr/local/bin/terraform";
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A started provider: the child, its handshake line and, once the child
/// has been killed, everything else it wrote to stdout.
struct Plugin {
    child: Child,
    handshake: String,
    rest: mpsc::Receiver<Vec<u8>>,
}

impl Plugin {
    fn start(client_cert: Option<&str>) -> Plugin {
        let mut cmd = Command::new(BINARY);
        cmd.env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env_remove("PLUGIN_CLIENT_CERT")
            .env_remove("PLUGIN_LOG_FILE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(pem) = client_cert {
            cmd.env("PLUGIN_CLIENT_CERT", pem);
        }
        let mut child = cmd.spawn().expect("start the provider binary");
        let stdout = child.stdout.take().unwrap();
        let (line_tx, line_rx) = mpsc::channel();
        let (rest_tx, rest_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = line_tx.send(line);
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
            let _ = rest_tx.send(rest);
        });
        let handshake = match line_rx.recv_timeout(HANDSHAKE_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("no handshake line within {HANDSHAKE_TIMEOUT:?}");
            }
        };
        Plugin {
            child,
            handshake,
            rest: rest_rx,
        }
    }

    fn fields(&self) -> Vec<&str> {
        self.handshake.trim_end_matches('\n').split('|').collect()
    }

    fn address(&self) -> SocketAddr {
        self.fields()[3]
            .parse()
            .expect("address field is host:port")
    }

    /// Stop the child and return what it wrote to stdout after the handshake.
    fn stop(mut self) -> Vec<u8> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.rest
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default()
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64, padded or not (go-plugin's line has no padding).
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or_else(|| format!("{:?} is not a base64 character", c as char))?
            as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if text.len() % 4 == 1 {
        return Err("truncated base64".into());
    }
    Ok(out)
}

/// Whether `der` is one complete DER SEQUENCE (what an X.509 certificate is).
fn is_der_sequence(der: &[u8]) -> bool {
    if der.len() < 2 || der[0] != 0x30 {
        return false;
    }
    let (len, header) = match der[1] {
        n if n < 0x80 => (n as usize, 2),
        0x81 if der.len() > 2 => (der[2] as usize, 3),
        0x82 if der.len() > 3 => (((der[2] as usize) << 8) | der[3] as usize, 4),
        _ => return false,
    };
    header + len == der.len()
}

fn client_certificate() -> (String, Vec<u8>) {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("generate a certificate");
    (key.cert.pem(), key.cert.der().to_vec())
}

#[test]
fn handshake_with_auto_mtls_offers_a_server_certificate() {
    let (pem, client_der) = client_certificate();
    let plugin = Plugin::start(Some(&pem));
    let fields = plugin.fields();
    assert_eq!(fields.len(), 6, "handshake line {:?}", plugin.handshake);
    assert_eq!(fields[0], "1", "core protocol version");
    assert_eq!(fields[1], "6", "plugin protocol version");
    assert_eq!(fields[2], "tcp");
    assert_eq!(fields[4], "grpc");
    let addr = plugin.address();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0);
    TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .expect("the advertised port accepts connections");

    assert!(
        !fields[5].is_empty(),
        "no server certificate in {:?}",
        plugin.handshake
    );
    let der = base64_decode(fields[5]).expect("the certificate field is base64");
    assert!(
        is_der_sequence(&der),
        "not a DER certificate: {} bytes starting {:02x?}",
        der.len(),
        &der[..der.len().min(8)]
    );
    assert_ne!(
        der, client_der,
        "the server offers its own certificate, not the client's"
    );
    drop(plugin);
}

#[test]
fn handshake_without_a_client_certificate_has_an_empty_certificate_field() {
    let plugin = Plugin::start(None);
    let fields = plugin.fields();
    assert_eq!(fields.len(), 6, "handshake line {:?}", plugin.handshake);
    assert_eq!(&fields[..3], ["1", "6", "tcp"]);
    assert_eq!(fields[4], "grpc");
    assert_eq!(fields[5], "", "plain gRPC has no certificate");
    assert!(
        plugin.handshake.ends_with("|grpc|\n"),
        "{:?}",
        plugin.handshake
    );
    TcpStream::connect_timeout(&plugin.address(), Duration::from_secs(5))
        .expect("the advertised port accepts connections");
}

#[test]
fn stdout_carries_nothing_but_the_handshake() {
    for cert in [None, Some(client_certificate().0)] {
        let plugin = Plugin::start(cert.as_deref());
        assert!(
            plugin.handshake.starts_with("1|6|tcp|127.0.0.1:"),
            "{:?}",
            plugin.handshake
        );
        assert!(plugin.handshake.ends_with('\n'));
        assert_eq!(plugin.handshake.matches('\n').count(), 1);
        // Give it a moment and a connection to write anything it would.
        let _conn = TcpStream::connect_timeout(&plugin.address(), Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(300));
        let rest = plugin.stop();
        assert!(
            rest.is_empty(),
            "unexpected stdout after the handshake: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
}

// Through the Terraform CLI, when it is installed.

/// A throwaway working directory with a CLI config pointing Terraform at
/// the freshly built binary.
struct Workspace {
    dir: PathBuf,
}

impl Workspace {
    fn new(name: &str, main_tf: &str) -> Option<Workspace> {
        if !Path::new(TERRAFORM).exists() {
            eprintln!("skipping: {TERRAFORM} is not installed");
            return None;
        }
        let dir =
            std::env::temp_dir().join(format!("matbakh-protocol-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let plugin_dir = Path::new(BINARY).parent().unwrap();
        let cli_config = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"matbakh/matbakh\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            plugin_dir.display()
        );
        std::fs::write(dir.join("cli.tfrc"), cli_config).unwrap();
        let main = format!(
            "terraform {{\n  required_providers {{\n    matbakh = {{ source = \"matbakh/matbakh\" }}\n  }}\n}}\n\n{main_tf}"
        );
        std::fs::write(dir.join("main.tf"), main).unwrap();
        Some(Workspace { dir })
    }

    fn terraform(&self, args: &[&str]) -> Output {
        self.terraform_with(args, &[])
    }

    /// `terraform` with extra environment variables (the provider inherits
    /// them).
    fn terraform_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(TERRAFORM)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", self.dir.join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .output()
            .expect("run terraform")
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const PLATFORM: &str = r#"
provider "matbakh" {
  region = "us-east-1"
}

resource "matbakh_platform" "main" {
  name   = "matbakh"
  vpc_id = "vpc-1234abcd"
}
"#;

#[test]
fn terraform_reads_the_provider_schema() {
    let Some(ws) = Workspace::new("schema", PLATFORM) else {
        return;
    };
    let out = ws.terraform(&["providers", "schema", "-json"]);
    assert!(
        out.status.success(),
        "terraform providers schema failed:\n{}",
        text(&out)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("schema output is JSON");
    let provider = &json["provider_schemas"]["registry.terraform.io/matbakh/matbakh"];
    assert!(provider.is_object(), "provider missing from {json}");

    let config = &provider["provider"]["block"];
    for attr in [
        "region",
        "environment",
        "profile",
        "endpoint",
        "default_tags",
    ] {
        assert!(
            config["attributes"][attr]["optional"] == true,
            "provider attribute {attr}: {}",
            config["attributes"][attr]
        );
    }
    let endpoints = &config["block_types"]["endpoints"]["block"]["attributes"];
    for service in [
        "ecs",
        "appmesh",
        "servicediscovery",
        "cloudwatch",
        "logs",
        "applicationautoscaling",
    ] {
        assert!(
            endpoints[service].is_object(),
            "endpoints.{service} missing"
        );
    }

    let platform = &provider["resource_schemas"]["matbakh_platform"]["block"];
    assert!(platform.is_object(), "matbakh_platform missing");
    let attrs = &platform["attributes"];
    assert_eq!(attrs["name"]["required"], true, "name: {}", attrs["name"]);
    // vpc_id: app_mesh only (a Service Connect HTTP namespace has no VPC);
    // the backend is checked at plan.
    assert_eq!(
        attrs["vpc_id"]["optional"], true,
        "vpc_id: {}",
        attrs["vpc_id"]
    );
    assert!(
        attrs["service_mesh"]["computed"] == true,
        "service_mesh: {}",
        attrs["service_mesh"]
    );
    for optional in ["namespace", "container_insights", "mesh_egress"] {
        assert_eq!(
            attrs[optional]["optional"], true,
            "{optional}: {}",
            attrs[optional]
        );
    }
    for computed in [
        "id",
        "cluster_arn",
        "mesh_name",
        "namespace_id",
        "namespace_arn",
    ] {
        assert_eq!(
            attrs[computed]["computed"], true,
            "{computed}: {}",
            attrs[computed]
        );
    }
    for op in ["create", "update", "delete"] {
        assert!(
            platform["block_types"]["timeouts"]["block"]["attributes"][op].is_object(),
            "timeouts.{op}"
        );
    }
}

#[test]
fn terraform_plan_rejects_an_unknown_environment_before_calling_aws() {
    let config = r#"
provider "matbakh" {
  region      = "us-east-1"
  environment = "prod"
  endpoint    = "http://127.0.0.1:9"
}

resource "matbakh_platform" "main" {
  name   = "matbakh"
  vpc_id = "vpc-1234abcd"
}
"#;
    let Some(ws) = Workspace::new("environment", config) else {
        return;
    };
    let out = ws.terraform(&["plan", "-no-color", "-input=false", "-lock=false"]);
    let output = text(&out);
    assert!(
        !out.status.success(),
        "plan with environment = \"prod\" succeeded:\n{output}"
    );
    assert!(output.contains("environment"), "{output}");
    assert!(output.contains("Invalid environment"), "{output}");
    // It failed on the configuration, not on reaching the endpoint.
    for symptom in [
        "connection refused",
        "Connection refused",
        "dispatch failure",
        "Cannot configure AWS access",
    ] {
        assert!(!output.contains(symptom), "{output}");
    }
}

#[test]
fn terraform_validate_rejects_a_bad_platform_name() {
    let config = r#"
provider "matbakh" {
  region = "us-east-1"
}

resource "matbakh_platform" "main" {
  name   = "bad name!"
  vpc_id = "vpc-1234abcd"
}
"#;
    let Some(ws) = Workspace::new("name", config) else {
        return;
    };
    let out = ws.terraform(&["validate", "-no-color"]);
    let output = text(&out);
    assert!(
        !out.status.success(),
        "validate accepted a bad name:\n{output}"
    );
    assert!(output.contains("name"), "{output}");
    assert!(output.contains("Invalid platform name"), "{output}");
    assert!(output.contains("bad name!"), "{output}");

    // The same configuration with a good name validates.
    std::fs::write(
        ws.dir.join("main.tf"),
        std::fs::read_to_string(ws.dir.join("main.tf"))
            .unwrap()
            .replace("bad name!", "matbakh"),
    )
    .unwrap();
    let out = ws.terraform(&["validate", "-no-color"]);
    assert!(out.status.success(), "{}", text(&out));
}

/// A panic inside one resource operation reaches Terraform as that
/// operation's error diagnostic (naming the operation and the panic), not
/// as a gRPC error, and the provider goes on serving: the other platform's
/// validation, in the same provider process, still reports its own error.
/// The panic comes from a test hook only debug builds honour
/// (`MATBAKH_TEST_PANIC_ON_PLATFORM`, src/tf/boundary.rs).
#[test]
fn a_panic_in_an_operation_is_an_error_diagnostic_and_the_provider_keeps_serving() {
    let config = r#"
provider "matbakh" {
  region = "us-east-1"
}

resource "matbakh_platform" "boom" {
  name = "boom"
}

resource "matbakh_platform" "bad" {
  name = "Not A Valid Name!"
}
"#;
    let Some(ws) = Workspace::new("panic", config) else {
        return;
    };
    let out = ws.terraform_with(
        &["validate", "-no-color"],
        &[("MATBAKH_TEST_PANIC_ON_PLATFORM", "boom")],
    );
    let output = text(&out);
    assert!(!out.status.success(), "validate succeeded:\n{output}");
    assert!(
        output.contains("Error: The provider failed in ValidateResourceConfig: it panicked"),
        "{output}"
    );
    assert!(
        output.contains("MATBAKH_TEST_PANIC_ON_PLATFORM=boom: a deliberate panic"),
        "{output}"
    );
    // An error diagnostic, not a gRPC failure or a crashed plugin.
    for symptom in [
        "rpc error",
        "plugin exited",
        "Plugin did not respond",
        "panic: ",
    ] {
        assert!(!output.contains(symptom), "{symptom}:\n{output}");
    }
    // The provider kept serving: the other resource was validated too.
    assert!(output.contains("Invalid platform name"), "{output}");
    // Without the hook, the same configuration fails only on the bad name.
    let out = ws.terraform(&["validate", "-no-color"]);
    let output = text(&out);
    assert!(!output.contains("panicked"), "{output}");
    assert!(output.contains("Invalid platform name"), "{output}");
}
