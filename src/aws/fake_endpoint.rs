//! A fake AWS endpoint for adapter unit tests: an HTTP server on a local
//! port that answers each operation (the `X-Amz-Target` suffix of the JSON
//! protocols: ECS, Cloud Map, Logs, Application Auto Scaling) with what a
//! test's `answer` function says, and counts the requests. Tests use it to
//! pin how many calls, and which, an adapter makes. The query protocol
//! (IAM: a form body naming its `Action`) is served too: the request is
//! handed over as a JSON object of its form fields, and an answer given as
//! a JSON string is sent as that XML.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use serde_json::Value;

use crate::aws::Clients;

/// What the fake answers: HTTP status and JSON body (errors as
/// `{"__type": "Code", "message": ...}`).
pub type Answer = (u16, Value);

/// A 200 answer of a query-protocol service (ELB, EC2, IAM): `inner`
/// wrapped in `<OpResponse><OpResult>`, as those services answer.
pub fn query_answer(op: &str, inner: String) -> Answer {
    (
        200,
        Value::String(format!(
            "<{op}Response><{op}Result>{inner}</{op}Result></{op}Response>"
        )),
    )
}

type AnswerFn = dyn Fn(&str, &Value) -> Answer + Send + Sync;

pub struct FakeEndpoint {
    url: String,
    calls: Arc<Mutex<Vec<String>>>,
}

impl FakeEndpoint {
    /// Serve on a free local port; `answer(operation, request body)`.
    pub fn start(answer: impl Fn(&str, &Value) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let answer: Arc<AnswerFn> = Arc::new(answer);
        let seen = calls.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (answer, seen) = (answer.clone(), seen.clone());
                std::thread::spawn(move || serve(stream, &*answer, &seen));
            }
        });
        FakeEndpoint { url, calls }
    }

    /// The operations asked for so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// Clients of every service pointed here, with static credentials and
    /// no retries (every call is counted once).
    pub fn clients(&self) -> Clients {
        let shared = self.shared();
        Clients {
            region: "eu-central-1".into(),
            account_id: None,
            ecs: aws_sdk_ecs::Client::new(&shared),
            appmesh: aws_sdk_appmesh::Client::new(&shared),
            cloudmap: aws_sdk_servicediscovery::Client::new(&shared),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&shared),
            logs: aws_sdk_cloudwatchlogs::Client::new(&shared),
            autoscaling: aws_sdk_applicationautoscaling::Client::new(&shared),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&shared),
            ec2: aws_sdk_ec2::Client::new(&shared),
            iam: aws_sdk_iam::Client::new(&shared),
            budgets: aws_sdk_budgets::Client::new(&shared),
            tagging: aws_sdk_resourcegroupstagging::Client::new(&shared),
            memo: None,
            ahead: Default::default(),
            gatherers: Default::default(),
            versions: Default::default(),
        }
    }

    /// An ECS client pointed here, its configuration finished by `with`
    /// (a retry policy under test).
    pub fn ecs_client_with(
        &self,
        with: impl FnOnce(aws_sdk_ecs::config::Builder) -> aws_sdk_ecs::config::Builder,
    ) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::from_conf(
            with(aws_sdk_ecs::config::Builder::from(&self.shared())).build(),
        )
    }

    fn shared(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .region(Region::new("eu-central-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "fake",
            )))
            .behavior_version(BehaviorVersion::latest())
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .endpoint_url(&self.url)
            .build()
    }
}

/// The fields of a query-protocol body (`Action=GetRole&RoleName=r&...`),
/// or `None` for any other body.
fn query_form(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.starts_with("Action=") {
        return None;
    }
    let fields = text
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), Value::String(decode_form(v))))
        .collect();
    Some(Value::Object(fields))
}

fn decode_form(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One keep-alive connection: requests until the client closes it.
fn serve(stream: TcpStream, answer: &AnswerFn, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let (mut length, mut target) = (0usize, String::new());
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "x-amz-target" => target = value.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let form = query_form(&body);
        let request: Value = match &form {
            Some(fields) => fields.clone(),
            None => serde_json::from_slice(&body).unwrap_or(Value::Null),
        };
        // CloudWatch's RPC v2 CBOR names the operation in the path
        // (`/service/NAME/operation/OP`); the answer's JSON is sent as CBOR
        // (see [`to_cbor`]), an empty map when the test gives none.
        let path = line.split_whitespace().nth(1).unwrap_or_default();
        let cbor = target.is_empty() && path.contains("/operation/");
        let operation = if let Some(action) = form.as_ref().and_then(|f| f["Action"].as_str()) {
            action.to_string()
        } else if cbor {
            path.rsplit('/').next().unwrap_or_default().to_string()
        } else {
            target.rsplit('.').next().unwrap_or_default().to_string()
        };
        seen.lock().unwrap().push(operation.clone());
        let (status, reply) = answer(&operation, &request);
        let (content_type, reply) = if cbor {
            let mut out = Vec::new();
            to_cbor(&reply, &mut out);
            ("application/cbor\r\nsmithy-protocol: rpc-v2-cbor", out)
        } else if let (Some(_), Value::String(xml)) = (&form, &reply) {
            ("text/xml", xml.clone().into_bytes())
        } else {
            ("application/x-amz-json-1.1", reply.to_string().into_bytes())
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&reply).is_err() {
            return;
        }
    }
}

/// `value` as CBOR (RFC 8949), for the RPC v2 CBOR protocol's answers.
/// A timestamp is written `{"$epoch": SECONDS}` (tag 1, a float);
/// `null` is an empty map (what a test that gives no answer means).
fn to_cbor(value: &Value, out: &mut Vec<u8>) {
    fn head(major: u8, n: u64, out: &mut Vec<u8>) {
        let m = major << 5;
        match n {
            0..=23 => out.push(m | n as u8),
            24..=0xff => out.extend([m | 24, n as u8]),
            0x100..=0xffff => {
                out.push(m | 25);
                out.extend((n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(m | 26);
                out.extend((n as u32).to_be_bytes());
            }
            _ => {
                out.push(m | 27);
                out.extend(n.to_be_bytes());
            }
        }
    }
    match value {
        Value::Null => out.push(0xa0),
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => head(0, u, out),
            (None, Some(i)) => head(1, (-1 - i) as u64, out),
            _ => {
                out.push(0xfb);
                out.extend(n.as_f64().unwrap_or_default().to_be_bytes());
            }
        },
        Value::String(text) => {
            head(3, text.len() as u64, out);
            out.extend(text.as_bytes());
        }
        Value::Array(items) => {
            head(4, items.len() as u64, out);
            for item in items {
                to_cbor(item, out);
            }
        }
        Value::Object(map) => {
            if let (1, Some(seconds)) = (map.len(), map.get("$epoch").and_then(Value::as_f64)) {
                head(6, 1, out);
                out.push(0xfb);
                out.extend(seconds.to_be_bytes());
                return;
            }
            head(5, map.len() as u64, out);
            for (k, v) in map {
                to_cbor(&Value::String(k.clone()), out);
                to_cbor(v, out);
            }
        }
    }
}
