//! Page tokens, read and minted here for every offset-paged search: stores take offsets.

use super::ServiceResult;
use crate::search::page_token;

/// The offset a client's token points at; none (or an empty one) is the first page.
pub(crate) fn offset(token: Option<&str>) -> ServiceResult<usize> {
    Ok(page_token::decode(token)? as usize)
}

/// The token of the page starting at `next_offset`, when there is one.
pub(crate) fn next_token(next_offset: Option<usize>) -> Option<String> {
    next_offset.map(|o| page_token::encode(o as i64))
}
