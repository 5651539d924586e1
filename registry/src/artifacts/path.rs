//! Artifact paths from requests, checked once before anything reaches the store.
//!
//! [`ArtifactPath::parse`] is the only way to make one, so a value of this type is a relative
//! path that cannot name anything outside the artifact root: '/'-separated, no empty, `.` or
//! `..` segments, no backslashes, control characters or `#`, and nothing that a later
//! normalisation (percent-decoding again, Unicode compatibility folding, Windows' handling of
//! drive letters and trailing dots) could turn into a traversal.

use super::ArtifactError;
use std::borrow::Cow;
use std::fmt;

/// MLflow's message for every refused path (`validate_path_is_safe`).
pub const INVALID_PATH: &str = "Invalid path";

/// MLflow decodes at most this many times before giving up on a path.
const MAX_DECODE_ROUNDS: usize = 10;

/// A checked relative path inside the artifact store; empty for the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ArtifactPath {
    segments: Vec<String>,
}

impl ArtifactPath {
    /// The store's root.
    pub fn root() -> Self {
        ArtifactPath::default()
    }

    /// Checks a path as given by a client (URL path or query value, already decoded once by
    /// the HTTP layer).
    pub fn parse(raw: &str) -> Result<Self, ArtifactError> {
        let decoded = decode_until_stable(raw)?;
        let path = decoded.as_str();
        let refuse = || Err(ArtifactError::InvalidPath { path: raw.to_owned() });
        if path.contains('#') || path.contains('\\') || path.chars().any(char::is_control) {
            return refuse();
        }
        if path.starts_with('/')
            || has_drive_letter(path)
            || path.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("file:"))
        {
            return refuse();
        }
        let folded = fold_lookalikes(path);
        if folded != path && (folded.contains('\\') || folded.matches('/').count() != path.matches('/').count()) {
            return refuse();
        }
        let mut segments = Vec::new();
        for (segment, folded_segment) in path.split('/').zip(folded.split('/')) {
            if segment.is_empty() || segment == "." {
                // `a//b` and `a/./b` name `a/b`, as MLflow's path joins read them.
                continue;
            }
            if segment == ".." || folded_segment == ".." || is_windows_dot_alias(folded_segment) {
                return refuse();
            }
            segments.push(segment.to_owned());
        }
        Ok(ArtifactPath { segments })
    }

    /// Parses an optional path; absent or empty is the root.
    pub fn parse_opt(raw: Option<&str>) -> Result<Self, ArtifactError> {
        match raw {
            None => Ok(ArtifactPath::root()),
            Some(p) => ArtifactPath::parse(p),
        }
    }

    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The last segment, if any.
    pub fn file_name(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    /// `self/other`.
    pub fn join(&self, other: &ArtifactPath) -> ArtifactPath {
        let mut segments = self.segments.clone();
        segments.extend(other.segments.iter().cloned());
        ArtifactPath { segments }
    }

    /// `self/name` for one checked segment.
    pub fn child(&self, name: &str) -> Result<ArtifactPath, ArtifactError> {
        let name = ArtifactPath::parse(name)?;
        Ok(self.join(&name))
    }
}

impl fmt::Display for ArtifactPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("/"))
    }
}

/// Percent-decodes until the text stops changing, as MLflow does, so that `%252e%252e` is
/// seen as the `..` it becomes; text that is not UTF-8 once decoded is refused (`+` stays a
/// plus).
fn decode_until_stable(raw: &str) -> Result<String, ArtifactError> {
    let mut current: Cow<'_, str> = Cow::Borrowed(raw);
    for _ in 0..MAX_DECODE_ROUNDS {
        let decoded = String::from_utf8(percent_decode(&current, false))
            .map_err(|_| ArtifactError::InvalidPath { path: raw.to_owned() })?;
        if decoded == current {
            return Ok(decoded);
        }
        current = Cow::Owned(decoded);
    }
    Err(ArtifactError::InvalidPath { path: raw.to_owned() })
}

/// One round of `%XX` decoding as Python's `unquote` (with `plus`, `unquote_plus`: a `+` is a
/// space); the bytes are the caller's to read as UTF-8, strictly or not.
pub fn percent_decode(s: &str, plus: bool) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(if plus && bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `C:`, `c:foo`: a Windows drive, absolute or drive-relative.
fn has_drive_letter(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Windows drops trailing dots and spaces, so `.. ` or `...` may open the parent there.
fn is_windows_dot_alias(segment: &str) -> bool {
    segment.len() > 2
        && segment.chars().all(|c| c == '.' || c == ' ')
        && segment.chars().filter(|&c| c == '.').count() >= 2
}

/// Characters that Unicode compatibility normalisation (NFKC) or a lenient file system turn
/// into `.`, `/` or `\`, replaced by what they would become.
fn fold_lookalikes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            // FULLWIDTH FULL STOP, ONE DOT LEADER, SMALL FULL STOP
            '\u{FF0E}' | '\u{2024}' | '\u{FE52}' => out.push('.'),
            // TWO DOT LEADER, HORIZONTAL ELLIPSIS
            '\u{2025}' => out.push_str(".."),
            '\u{2026}' => out.push_str("..."),
            // FULLWIDTH SOLIDUS, DIVISION SLASH, FRACTION SLASH, BIG SOLIDUS
            '\u{FF0F}' | '\u{2215}' | '\u{2044}' | '\u{29F8}' => out.push('/'),
            // FULLWIDTH / SMALL REVERSE SOLIDUS, SET MINUS, REVERSE SOLIDUS OPERATOR, BIG REVERSE SOLIDUS
            '\u{FF3C}' | '\u{FE68}' | '\u{2216}' | '\u{29F5}' | '\u{29F9}' => out.push('\\'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &str) -> String {
        ArtifactPath::parse(p).unwrap_or_else(|e| panic!("{p:?} refused: {e}")).to_string()
    }

    fn refused(p: &str) -> bool {
        ArtifactPath::parse(p).is_err()
    }

    #[test]
    fn plain_paths_are_kept() {
        assert_eq!(ok("1/abc/artifacts/model/MLmodel"), "1/abc/artifacts/model/MLmodel");
        assert_eq!(ok("a//b/./c/"), "a/b/c");
        assert_eq!(ok(""), "");
        assert_eq!(ok("100%25.txt"), "100%.txt");
        assert_eq!(ok("x..y/..z/a.."), "x..y/..z/a..");
        assert_eq!(ok("naïve ✓.txt"), "naïve ✓.txt");
    }

    #[test]
    fn traversal_forms_are_refused() {
        for p in [
            "..",
            "../x",
            "a/../../x",
            "a/..",
            "/etc/passwd",
            "//server/share",
            "a\\..\\b",
            "..\\x",
            "a#b",
            "a%23b",
            "%2e%2e/x",
            "%2E%2E%2Fx",
            "%252e%252e/x",
            "%25252e%25252e/x",
            "..%2fx",
            "..%252fx",
            "a/%00/b",
            "a\0b",
            "C:/Windows",
            "c:x",
            "file:///etc/passwd",
            "FILE:/etc/passwd",
            "\u{FF0E}\u{FF0E}/x",
            "a\u{2215}..\u{2215}b",
            "\u{2025}/x",
            "a\u{FF0F}b",
            "a\u{FF3C}b",
            "%EF%BC%8E%EF%BC%8E/x",
            ".. /x",
            ".../x",
            "a\nb",
        ] {
            assert!(refused(p), "{p:?} was accepted");
        }
    }

    #[test]
    fn one_round_of_percent_decoding() {
        assert_eq!(percent_decode("a%2Fb%2e+c", false), b"a/b.+c");
        assert_eq!(percent_decode("a%2Fb%2e+c", true), b"a/b. c");
        assert_eq!(percent_decode("%%41%4", false), b"%A%4");
        assert_eq!(percent_decode("%ff", false), [0xff]);
    }

    #[test]
    fn endless_encoding_is_refused() {
        let mut p = "..".to_owned();
        for _ in 0..12 {
            p = p.replace('%', "%25").replace('.', "%2e");
        }
        assert!(refused(&p));
    }
}
