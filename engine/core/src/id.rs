//! Record ids: the length rule of SPEC §1 and the two-part resource id.

use crate::error::{Error, Result};

/// Largest id component, in bytes (SPEC §1).
pub const MAX_ID_LEN: usize = 1024;

/// Checks one id component: UTF-8 (guaranteed by `&str`) of 1..=[`MAX_ID_LEN`] bytes.
/// `what` names the field for the error message.
pub fn validate_id(what: &str, id: &str) -> Result<()> {
    if id_fits(id) {
        return Ok(());
    }
    if id.is_empty() {
        return Err(Error::invalid_argument(format!("{what} is empty")));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid_argument(format!(
            "{what} is {} bytes, more than {MAX_ID_LEN}",
            id.len()
        )));
    }
    Ok(())
}

/// Whether `id` is a valid id component: what [`validate_id`] checks, without naming the field
/// (so a caller on a hot path builds the field's name only for an error).
fn id_fits(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN
}

/// A resource's identity: a `(resource_type, resource)` tuple, never a joined string.
/// Ordering compares the components one by one as byte strings (SPEC §4).
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct ResourceId {
    /// The resource type's id.
    pub resource_type: String,
    /// The resource's id within its type.
    pub resource: String,
}

impl ResourceId {
    /// The key `(resource_type, resource)`.
    pub fn new(resource_type: impl Into<String>, resource: impl Into<String>) -> Self {
        ResourceId {
            resource_type: resource_type.into(),
            resource: resource.into(),
        }
    }

    /// Validates both components.
    /// The field names are formatted only for an invalid component: every record put
    /// validates one or more resource ids (5% of an ingest's instructions went to formatting
    /// them).
    pub fn validate(&self, what: &str) -> Result<()> {
        for (part, id) in [
            ("resource_type", &self.resource_type),
            ("resource", &self.resource),
        ] {
            if !id_fits(id) {
                return validate_id(&format!("{what}.{part}"), id);
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for ResourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({:?}, {:?})", self.resource_type, self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn id_length_bounds() {
        assert!(validate_id("id", "a").is_ok());
        assert!(validate_id("id", &"x".repeat(MAX_ID_LEN)).is_ok());
        assert_eq!(
            validate_id("id", "").unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            validate_id("id", &"x".repeat(MAX_ID_LEN + 1))
                .unwrap_err()
                .kind,
            ErrorKind::InvalidArgument
        );
        // Bytes, not chars: 342 three-byte chars are 1026 bytes.
        assert!(validate_id("id", &"€".repeat(342)).is_err());
        assert!(validate_id("id", "\0:|é").is_ok());
    }

    #[test]
    fn resource_id_orders_by_components() {
        let a = ResourceId::new("user", "z");
        let b = ResourceId::new("user\0", "a");
        let c = ResourceId::new("user_group", "a");
        assert!(a < b && b < c);
    }
}
