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
    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What page to read: a size (0 = default) and where to resume.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page: 0 means the default, anything over the maximum is clamped (SPEC §4).
    pub size: usize,
    /// Where to resume: the previous page's `next_token`.
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
    /// The page's items, in SPEC §4 order.
    pub items: Vec<T>,
    /// Set exactly when more items follow.
    pub next_token: Option<PageToken>,
}

impl<T> Page<T> {
    /// A page with no items and no token.
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            next_token: None,
        }
    }
}

/// Reads every page of a list, `page_size` at a time, resuming with each page's token; the
/// items in list order. A page that is empty but offers a next token is an error (the list
/// would never end), reported as corruption of the engine's answers.
pub fn read_all<T>(
    page_size: usize,
    mut read: impl FnMut(&PageRequest) -> crate::Result<Page<T>>,
) -> crate::Result<Vec<T>> {
    let mut out = Vec::new();
    let mut req = PageRequest::first(page_size);
    loop {
        let p = read(&req)?;
        let empty = p.items.is_empty();
        out.extend(p.items);
        match p.next_token {
            Some(_) if empty => {
                return Err(crate::Error::corruption(format!(
                    "an empty page offered a next token after {} items",
                    out.len()
                )))
            }
            Some(t) => req = PageRequest::after(page_size, t),
            None => return Ok(out),
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

    #[test]
    fn read_all_follows_tokens_and_refuses_an_endless_list() {
        let pages = |req: &PageRequest| -> crate::Result<Page<u32>> {
            let start: u32 = req.token.as_ref().map_or(0, |t| t.0.parse().unwrap());
            let end = (start + req.size as u32).min(5);
            Ok(Page {
                items: (start..end).collect(),
                next_token: (end < 5).then(|| PageToken(end.to_string())),
            })
        };
        assert_eq!(read_all(2, pages).unwrap(), vec![0, 1, 2, 3, 4]);
        let endless = |_: &PageRequest| -> crate::Result<Page<u32>> {
            Ok(Page {
                items: vec![],
                next_token: Some(PageToken("again".into())),
            })
        };
        let err = read_all(2, endless).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Corruption);
    }
}
