//! Record ids: the length rule of SPEC §1 and the two-part resource id.

use crate::error::{Error, Result};

/// Largest id component, in bytes (SPEC §1).
pub const MAX_ID_LEN: usize = 1024;

/// Checks one id component: UTF-8 (guaranteed by `&str`) of 1..=[`MAX_ID_LEN`] bytes.
/// `what` names the field for the error message; it is formatted only for an error, so a
/// caller on a hot path (every record put or key read validates its ids) can pass
/// `format_args!` without building a string per call.
pub fn validate_id(what: impl std::fmt::Display, id: &str) -> Result<()> {
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
    pub fn validate(&self, what: &str) -> Result<()> {
        validate_id(format_args!("{what}.resource_type"), &self.resource_type)?;
        validate_id(format_args!("{what}.resource"), &self.resource)
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

    /// The message names the field of the component that is wrong (the name is formatted
    /// only for the error).
    #[test]
    fn resource_id_errors_name_the_bad_component() {
        assert!(ResourceId::new("user", "a")
            .validate("grant.principal")
            .is_ok());
        let e = ResourceId::new("", "a")
            .validate("grant.principal")
            .unwrap_err();
        assert_eq!(e.message, "grant.principal.resource_type is empty");
        let long = "x".repeat(MAX_ID_LEN + 1);
        let e = ResourceId::new("user", &long)
            .validate("grant.principal")
            .unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "grant.principal.resource is {} bytes, more than {MAX_ID_LEN}",
                long.len()
            )
        );
    }

    #[test]
    fn resource_id_orders_by_components() {
        let a = ResourceId::new("user", "z");
        let b = ResourceId::new("user\0", "a");
        let c = ResourceId::new("user_group", "a");
        assert!(a < b && b < c);
    }
}
