//! Provider logs in the JSON line format Terraform's plugin logger reads.
//!
//! go-plugin reads the provider's stderr; a line that is a JSON object with
//! `@level`, `@message`, `@timestamp` and `@module` is re-logged by Terraform
//! at that level under the provider's name, so `TF_LOG=DEBUG terraform apply`
//! shows it. The level comes from `TF_LOG_PROVIDER`, else `TF_LOG`.
//! Nothing logged here may contain credentials: the provider never logs
//! configuration values that could hold them.
//!
//! Span convention: the glue runs each resource operation inside
//! [`resource_span`] (fields `tf_resource_type`, `tf_resource_id`); every
//! line logged inside it, down to each AWS call (`crate::aws::call_log`),
//! carries those fields, so a line says which resource it belongs to. Only
//! spans of our own crate contribute fields (the SDK's spans stay out).

use std::io::Write;

use time::format_description::FormatItem;
use time::macros::format_description;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The span a resource operation runs in: every line inside carries the
/// resource type and id (`matbakh_microservice`, `matbakh/auth-service`).
/// Enter it with `.instrument(resource_span(..))` around the operation's
/// future.
pub fn resource_span(resource_type: &str, resource_id: &str) -> tracing::Span {
    tracing::info_span!(
        target: "matbakh::resource",
        "resource",
        tf_resource_type = resource_type,
        tf_resource_id = resource_id
    )
}

/// The fields a span of ours recorded, kept in its extensions.
struct SpanFields(serde_json::Map<String, serde_json::Value>);

fn ours(target: &str) -> bool {
    target.starts_with("matbakh") || target.starts_with("terraform_provider_matbakh")
}

/// hclog's `2006-01-02T15:04:05.000000Z07:00`, always in UTC.
const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub struct HclogJsonLayer;

#[derive(Default)]
struct Fields {
    message: String,
    extra: serde_json::Map<String, serde_json::Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.extra.insert(field.name().to_string(), value.into());
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.extra.insert(field.name().to_string(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.extra.insert(field.name().to_string(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.extra.insert(field.name().to_string(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.extra
                .insert(field.name().to_string(), format!("{value:?}").into());
        }
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// One log line, as bytes ending in a newline.
pub fn format_line(
    level: &Level,
    module: &str,
    message: &str,
    extra: &serde_json::Map<String, serde_json::Value>,
    now: time::OffsetDateTime,
) -> Vec<u8> {
    let mut obj = serde_json::Map::new();
    obj.insert("@level".into(), level_name(level).into());
    obj.insert("@message".into(), message.into());
    obj.insert(
        "@timestamp".into(),
        now.to_offset(time::UtcOffset::UTC)
            .format(TIMESTAMP)
            .unwrap_or_default()
            .into(),
    );
    obj.insert("@module".into(), module.into());
    for (k, v) in extra {
        obj.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut line = serde_json::to_vec(&serde_json::Value::Object(obj)).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Fields of the spans around the event, innermost first: the event's own
/// fields win, then the closest span's.
fn add_span_fields<S: Subscriber + for<'a> LookupSpan<'a>>(
    event: &Event<'_>,
    ctx: &Context<'_, S>,
    extra: &mut serde_json::Map<String, serde_json::Value>,
) {
    if let Some(scope) = ctx.event_scope(event) {
        for span in scope {
            if let Some(stored) = span.extensions().get::<SpanFields>() {
                for (k, v) in &stored.0 {
                    extra.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for HclogJsonLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !ours(attrs.metadata().target()) {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.extra));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        if let Some(stored) = extensions.get_mut::<SpanFields>() {
            stored.0.extend(fields.extra);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        add_span_fields(event, &ctx, &mut fields.extra);
        let meta = event.metadata();
        let module = format!("matbakh.{}", meta.target().trim_start_matches("matbakh::"));
        let line = format_line(
            meta.level(),
            &module,
            &fields.message,
            &fields.extra,
            time::OffsetDateTime::now_utc(),
        );
        let _ = std::io::stderr().lock().write_all(&line);
    }
}

/// The level Terraform asked for: TF_LOG_PROVIDER, else TF_LOG, else INFO
/// (Terraform drops plugin output it was not asked to show).
fn requested_level() -> LevelFilter {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .or_else(|_| std::env::var("TF_LOG"))
        .unwrap_or_default();
    match raw.to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Install the subscriber. Our own crate logs at the requested level; the
/// gRPC and HTTP stacks only warnings, so debug output stays readable.
pub fn init() {
    let level = requested_level();
    let filter = Targets::new()
        .with_target("matbakh", level)
        .with_target("terraform_provider_matbakh", level)
        // The resource spans must exist whatever the level, so the lines
        // inside them can carry their fields.
        .with_target("matbakh::resource", LevelFilter::TRACE)
        .with_target("aws_smithy_runtime", level.min(LevelFilter::INFO))
        .with_default(LevelFilter::WARN.min(level));
    let _ = tracing_subscriber::registry()
        .with(HclogJsonLayer.with_filter(filter))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_the_hclog_fields_and_timestamp_format() {
        let now =
            time::OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let line = format_line(
            &Level::DEBUG,
            "matbakh.provider",
            "hello",
            &serde_json::Map::new(),
            now,
        );
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["@level"], "debug");
        assert_eq!(v["@message"], "hello");
        assert_eq!(v["@module"], "matbakh.provider");
        assert_eq!(v["@timestamp"], "2023-11-14T22:13:20.123456Z");
        assert_eq!(*line.last().unwrap(), b'\n');
    }

    /// Captures what the layer writes, through the same formatting.
    #[test]
    fn lines_inside_a_resource_span_carry_its_fields() {
        use std::sync::{Arc, Mutex};
        use tracing::Instrument;

        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<serde_json::Value>>>);
        struct Capture(Lines, HclogJsonLayer);
        impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
            fn on_new_span(&self, a: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
                self.1.on_new_span(a, id, ctx)
            }
            fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
                let mut fields = Fields::default();
                event.record(&mut fields);
                add_span_fields(event, &ctx, &mut fields.extra);
                let line = format_line(
                    event.metadata().level(),
                    "m",
                    &fields.message,
                    &fields.extra,
                    time::OffsetDateTime::now_utc(),
                );
                self.0
                     .0
                    .lock()
                    .unwrap()
                    .push(serde_json::from_slice(&line).unwrap());
            }
        }
        let lines = Lines::default();
        let subscriber =
            tracing_subscriber::registry().with(Capture(lines.clone(), HclogJsonLayer));
        let _guard = tracing::subscriber::set_default(subscriber);
        futures::executor::block_on(
            async {
                tracing::debug!(target: "matbakh::aws", aws_operation = "CreateService", "AWS call");
            }
            .instrument(resource_span("matbakh_microservice", "matbakh/auth-service")),
        );
        tracing::debug!(target: "matbakh::aws", "outside");
        let lines = lines.0.lock().unwrap();
        assert_eq!(lines[0]["tf_resource_type"], "matbakh_microservice");
        assert_eq!(lines[0]["tf_resource_id"], "matbakh/auth-service");
        assert_eq!(lines[0]["aws_operation"], "CreateService");
        assert!(lines[1].get("tf_resource_id").is_none());
    }

    #[test]
    fn extra_fields_cannot_overwrite_the_reserved_ones() {
        let mut extra = serde_json::Map::new();
        extra.insert("@level".into(), "error".into());
        extra.insert("component".into(), "route".into());
        let line = format_line(
            &Level::INFO,
            "m",
            "x",
            &extra,
            time::OffsetDateTime::now_utc(),
        );
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["@level"], "info");
        assert_eq!(v["component"], "route");
    }
}
