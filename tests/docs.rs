//! The registry docs mention every attribute the schemas have.
//!
//! For each (schema, doc) pair, every attribute path of the schema must
//! appear in backticks in the doc: `` `name` ``. A nested path such as
//! `timeouts.create` is looked up by its last segment (`` `create` ``), the
//! way the docs list a block's arguments under its own heading.

use std::path::Path;

use tf_provider::schema::Schema;

use matbakh::tf::schema::attribute_paths;

/// A documented schema: what it is, its schema, its doc under `docs/`.
type Documented = (&'static str, fn() -> Schema, &'static str);

/// Every documented schema. A new resource or data source is one more line
/// here.
const DOCUMENTED: &[Documented] = &[
    ("provider", matbakh::provider::provider_schema, "index.md"),
    (
        "matbakh_platform",
        matbakh::resources::platform::schema::schema,
        "resources/platform.md",
    ),
    (
        "matbakh_microservice",
        matbakh::resources::microservice::schema::schema,
        "resources/microservice.md",
    ),
    (
        "matbakh_canary",
        matbakh::resources::canary::schema::schema,
        "resources/canary.md",
    ),
    (
        "data matbakh_platform",
        matbakh::resources::data_sources::platform::schema,
        "data-sources/platform.md",
    ),
    (
        "data matbakh_deployer_policy",
        matbakh::resources::data_sources::deployer_policy::schema,
        "data-sources/deployer_policy.md",
    ),
    (
        "data matbakh_microservice",
        matbakh::resources::data_sources::microservice::schema,
        "data-sources/microservice.md",
    ),
];

/// The attribute names of `schema` that `doc` does not mention in backticks.
fn undocumented(schema: &Schema, doc: &str) -> Vec<String> {
    attribute_paths(&schema.block)
        .into_iter()
        .filter(|path| {
            let last = path.rsplit('.').next().unwrap_or(path);
            !doc.contains(&format!("`{last}`"))
        })
        .collect()
}

fn read_doc(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn every_schema_attribute_is_documented() {
    let mut failures = Vec::new();
    for (what, schema, doc) in DOCUMENTED {
        let missing = undocumented(&schema(), &read_doc(doc));
        if !missing.is_empty() {
            failures.push(format!(
                "{what}: docs/{doc} does not mention {}",
                missing
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "undocumented attributes:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_schema_has_attributes_to_check() {
    // Guards the check above against vacuously passing on an empty schema.
    for (what, schema, _) in DOCUMENTED {
        assert!(
            !attribute_paths(&schema().block).is_empty(),
            "{what} has no attributes"
        );
    }
}

#[test]
fn the_check_notices_a_missing_attribute() {
    let schema = matbakh::resources::platform::schema::schema();
    let doc = "* `name` - (Required) ...\n* `create` - ...";
    let missing = undocumented(&schema, doc);
    assert!(missing.contains(&"vpc_id".to_string()), "{missing:?}");
    assert!(
        missing.contains(&"timeouts.update".to_string()),
        "{missing:?}"
    );
    assert!(!missing.contains(&"name".to_string()));
    assert!(!missing.contains(&"timeouts.create".to_string()));
    // A bare word without backticks does not count.
    assert!(undocumented(&schema, "name vpc_id").contains(&"name".to_string()));
}

/// Every data source the provider serves is in `DOCUMENTED` with the schema
/// it serves, and has its page in the registry layout
/// (`docs/data-sources/NAME.md`), so a new one cannot go undocumented.
#[test]
fn every_served_data_source_is_documented() {
    use tf_provider::Provider;
    let provider = matbakh::provider::MatbakhProvider::new();
    let mut diags = tf_provider::Diagnostics::default();
    let served = provider
        .get_data_sources(&mut diags)
        .expect("the provider lists its data sources");
    assert!(!served.is_empty());
    for (name, source) in served {
        let page = format!("data-sources/{name}.md");
        let entry = DOCUMENTED
            .iter()
            .find(|(_, _, doc)| *doc == page)
            .unwrap_or_else(|| {
                panic!("data source matbakh_{name} has no entry for docs/{page} in DOCUMENTED")
            });
        let schema = source.schema(&mut diags).expect("a schema");
        assert_eq!(
            attribute_paths(&schema.block),
            attribute_paths(&(entry.1)().block),
            "matbakh_{name}: DOCUMENTED checks another schema than the one served"
        );
    }
}

#[test]
fn docs_use_the_registry_source_address() {
    let index = read_doc("index.md");
    assert!(index.contains(r#"source = "matbakh/matbakh""#));
}
