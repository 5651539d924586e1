//! How values read on a page: times, durations, numbers, and the URLs of our own pages with
//! every name percent-encoded.

use chrono::{DateTime, Utc};

/// Milliseconds since the epoch as `2026-12-08 14:03:12` (UTC); empty when unset.
pub fn time(ms: Option<i64>) -> String {
    ms.filter(|&m| m > 0)
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The time between two instants, e.g. `2m 5s`; empty when the start is unknown.
pub fn duration(start: Option<i64>, end: Option<i64>) -> String {
    let (Some(start), Some(end)) = (start.filter(|&s| s > 0), end.filter(|&e| e > 0)) else {
        return String::new();
    };
    let ms = (end - start).max(0);
    let s = ms / 1000;
    match s {
        0 => format!("{ms}ms"),
        1..60 => format!("{:.1}s", ms as f64 / 1000.0),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

/// A metric value, short: four decimals at most, scientific notation for very small or large.
pub fn num(v: f64) -> String {
    if v.is_nan() || v.is_infinite() || v == 0.0 {
        return v.to_string();
    }
    let a = v.abs();
    if !(1e-4..1e9).contains(&a) {
        return format!("{v:.4e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// A value percent-encoded for one path segment.
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A value encoded for a query string.
pub fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn experiment_href(id: &str) -> String {
    format!("/experiments/{}", seg(id))
}

pub fn run_href(experiment_id: &str, run_id: &str) -> String {
    format!("/experiments/{}/runs/{}", seg(experiment_id), seg(run_id))
}

pub fn model_href(name: &str) -> String {
    format!("/models/{}", seg(name))
}

pub fn version_href(name: &str, version: &str) -> String {
    format!("/models/{}/versions/{}", seg(name), seg(version))
}

/// Where a form's redirect goes: `page` with a notice or an error in its query string.
pub fn flash(page: &str, result: Result<String, String>) -> String {
    let sep = if page.contains('?') { '&' } else { '?' };
    match result {
        Ok(done) => format!("{page}{sep}done={}", q(&done)),
        Err(e) => format!("{page}{sep}error={}", q(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_short() {
        assert_eq!(num(0.812345), "0.8123");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(1.5e-7), "1.5000e-7");
        assert_eq!(duration(Some(1000), Some(126_000)), "2m 5s");
        assert_eq!(time(Some(0)), "");
        assert_eq!(seg("a b/<é>"), "a%20b%2F%3C%C3%A9%3E");
        assert_eq!(flash("/x?y=1", Err("bad & <b>".into())), "/x?y=1&error=bad+%26+%3Cb%3E");
    }
}
