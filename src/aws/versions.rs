//! The versions of objects whose body a refresh need not read again.
//!
//! A task definition revision's body never changes (only its tags and
//! status do); a dashboard's body changes only with its `LastModified`.
//! The resource keeps, in its private state, the version of each such
//! object it wrote or last read in sync (by object id): for a revision the
//! spec hash it holds, for a dashboard `LASTMODIFIED BODYHASH`. A refresh
//! hands them to the adapters through [`Clients::versions`]; the driver
//! vouches for the component specs of the graph state describes whose
//! version the record confirms ([`Versions::vouch`]), and an adapter that
//! finds the same version in AWS (the revision the service runs, the
//! dashboard's `LastModified` in the shared listing) takes the vouched body
//! instead of reading it. Adapters note the versions they see or write
//! ([`Versions::note`]); the driver keeps them for the next operation.
//! Without a record (an import, a state of an earlier provider version)
//! the body is read as before, and its version noted.
//!
//! [`Clients::versions`]: super::Clients::versions

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::spec::Spec;

/// Object id to version.
pub type VersionMap = BTreeMap<String, String>;

#[derive(Debug, Default)]
pub struct Versions {
    /// What private state recorded.
    recorded: VersionMap,
    /// Specs whose recorded version the graph state describes confirms.
    vouched: Mutex<HashMap<String, Spec>>,
    /// Versions seen or written by this operation.
    noted: Mutex<VersionMap>,
}

impl Versions {
    pub fn new(recorded: VersionMap) -> Versions {
        Versions {
            recorded,
            ..Versions::default()
        }
    }

    /// The version recorded for object `id`.
    pub fn recorded(&self, id: &str) -> Option<&str> {
        self.recorded.get(id).map(String::as_str)
    }

    /// Record that object `id` holds `spec` (what its recorded version
    /// stands for).
    pub fn vouch(&self, id: &str, spec: Spec) {
        self.vouched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), spec);
    }

    /// The spec vouched for object `id` when its recorded version is
    /// `version`: what AWS holds when it reports that version.
    pub fn vouched(&self, id: &str, version: &str) -> Option<Spec> {
        if self.recorded(id)? != version {
            return None;
        }
        self.vouched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// The spec vouched for object `id`, whatever its version (for an
    /// object whose version AWS does not report: a revision is its id).
    pub fn vouched_any(&self, id: &str) -> Option<Spec> {
        self.vouched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Object `id` was seen or written at `version`.
    pub fn note(&self, id: &str, version: String) {
        self.noted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), version);
    }

    /// What to record for the objects `ids`: the version this operation
    /// noted, else the one recorded before.
    pub fn to_record<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> VersionMap {
        let noted = self.noted.lock().unwrap_or_else(|e| e.into_inner());
        ids.into_iter()
            .filter_map(|id| {
                let version = noted.get(id).or_else(|| self.recorded.get(id))?;
                Some((id.clone(), version.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_versions_are_kept_unless_noted_anew() {
        let v = Versions::new(
            [
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "1".to_string()),
            ]
            .into_iter()
            .collect(),
        );
        v.note("b", "2".into());
        v.note("c", "3".into());
        let ids = [
            "a".to_string(),
            "b".to_string(),
            "c".to_string(),
            "d".to_string(),
        ];
        let kept = v.to_record(ids.iter());
        assert_eq!(kept.get("a").map(String::as_str), Some("1"));
        assert_eq!(kept.get("b").map(String::as_str), Some("2"));
        assert_eq!(kept.get("c").map(String::as_str), Some("3"));
        assert!(!kept.contains_key("d"));
    }
}
