//! A reference from one component of a graph to another.

/// A value only known once another component of the same graph exists:
/// the id or ARN the engine recorded for the component with this key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Ref(pub String);

impl Ref {
    pub fn to(key: &str) -> Self {
        Ref(key.to_string())
    }
}
