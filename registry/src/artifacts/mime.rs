//! The Content-Type of a downloaded artifact, as MLflow's `_guess_mime_type` picks it: its
//! text extensions (and `MLmodel`, `MLproject`) are `text/plain`, other names go through
//! Python's `mimetypes` table, and anything unknown is `application/octet-stream`.

/// Extensions MLflow serves as plain text so that the UI can show them.
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "log",
    "err",
    "cfg",
    "conf",
    "cnf",
    "cf",
    "ini",
    "properties",
    "prop",
    "hocon",
    "toml",
    "yaml",
    "yml",
    "xml",
    "json",
    "js",
    "py",
    "py3",
    "csv",
    "tsv",
    "md",
    "rst",
    "ipynb",
    "MLmodel",
    "MLproject",
];

/// Python's built-in `mimetypes` entries for the extensions artifacts commonly have.
const TYPES: &[(&str, &str)] = &[
    ("html", "text/html"),
    ("htm", "text/html"),
    ("css", "text/css"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("bmp", "image/bmp"),
    ("svg", "image/svg+xml"),
    ("webp", "image/webp"),
    ("ico", "image/vnd.microsoft.icon"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("tar", "application/x-tar"),
    ("tgz", "application/x-tar"),
    ("wav", "audio/x-wav"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("mpeg", "video/mpeg"),
    ("webm", "video/webm"),
    ("bin", "application/octet-stream"),
    ("so", "application/octet-stream"),
    ("h5", "application/x-hdf5"),
    ("wasm", "application/wasm"),
    ("jar", "application/java-archive"),
    ("xls", "application/vnd.ms-excel"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("doc", "application/msword"),
    ("rtf", "application/rtf"),
    ("sh", "text/x-sh"),
    ("c", "text/x-csrc"),
    ("h", "text/x-chdr"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("pyc", "application/x-python-code"),
];

/// Compression suffixes `mimetypes` reports as an encoding of the name before them.
const ENCODINGS: &[&str] = &["gz", "bz2", "xz", "br", "Z"];

pub const OCTET_STREAM: &str = "application/octet-stream";

/// The Content-Type for a file name.
pub fn guess_mime_type(file_name: &str) -> &'static str {
    let extension = match file_name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext,
        // No extension (or a dot file): the whole name is matched, for MLmodel and MLproject.
        _ => file_name,
    };
    if TEXT_EXTENSIONS.contains(&extension) {
        return "text/plain";
    }
    python_guess_type(file_name).unwrap_or(OCTET_STREAM)
}

/// `mimetypes.guess_type`: an encoding suffix is set aside, then the extension is looked up
/// as written and then lower-cased.
fn python_guess_type(file_name: &str) -> Option<&'static str> {
    let mut name = file_name;
    if let Some((stem, ext)) = name.rsplit_once('.')
        && ENCODINGS.contains(&ext)
    {
        name = stem;
    }
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    let lookup = |e: &str| TYPES.iter().find(|(k, _)| *k == e).map(|(_, v)| *v);
    lookup(ext).or_else(|| lookup(&ext.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::guess_mime_type;

    #[test]
    fn types_as_mlflow_picks_them() {
        assert_eq!(guess_mime_type("MLmodel"), "text/plain");
        assert_eq!(guess_mime_type("conda.yaml"), "text/plain");
        assert_eq!(guess_mime_type("metrics.json"), "text/plain");
        assert_eq!(guess_mime_type("plot.png"), "image/png");
        assert_eq!(guess_mime_type("PLOT.PNG"), "image/png");
        assert_eq!(guess_mime_type("page.html"), "text/html");
        assert_eq!(guess_mime_type("model.pkl"), "application/octet-stream");
        assert_eq!(guess_mime_type("data.tar.gz"), "application/x-tar");
        assert_eq!(guess_mime_type("data.gz"), "application/octet-stream");
        assert_eq!(guess_mime_type("README"), "application/octet-stream");
        assert_eq!(guess_mime_type(".json"), "application/octet-stream");
    }
}
