//! Paging (SPEC §4): page sizes, opaque tokens, pages.

/// Page size used when a request asks for 0.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Largest page; larger requests are clamped to it.
pub const MAX_PAGE_SIZE: usize = 10_000;

/// An opaque continuation token, valid only for the list, filter and sync it came from.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PageToken(pub String);

impl PageToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What page to read: a size (0 = default) and where to resume.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub size: usize,
    pub token: Option<PageToken>,
}

impl PageRequest {
    /// The first page with the given size.
    pub fn first(size: usize) -> Self {
        PageRequest { size, token: None }
    }
    /// The page after `token`.
    pub fn after(size: usize, token: PageToken) -> Self {
        PageRequest {
            size,
            token: Some(token),
        }
    }
    /// The size actually served: 0 → [`DEFAULT_PAGE_SIZE`], clamped to [`MAX_PAGE_SIZE`].
    pub fn effective_size(&self) -> usize {
        match self.size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        }
    }
}

/// One page of a list; `next_token` is present iff more matching records follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<PageToken>,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            next_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_size_rules() {
        assert_eq!(PageRequest::first(0).effective_size(), DEFAULT_PAGE_SIZE);
        assert_eq!(PageRequest::first(7).effective_size(), 7);
        assert_eq!(
            PageRequest::first(MAX_PAGE_SIZE).effective_size(),
            MAX_PAGE_SIZE
        );
        assert_eq!(
            PageRequest::first(usize::MAX).effective_size(),
            MAX_PAGE_SIZE
        );
    }
}
