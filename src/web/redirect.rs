//! Redirect targets that come from a request (`/language?next=…`): only a path on our
//! own origin is followed, anything else goes to `/`.
//!
//! A browser reads a `Location` more generously than a server-side check that only
//! looks at the first characters: it drops tabs and newlines anywhere in a URL, turns
//! `\` into `/`, and reads `//host` as another origin (so `/\t/evil.example` and
//! `/\evil.example` both lead to `http://evil.example/`). Rather than guessing which
//! forms a browser repairs, [`local_path`] accepts only plain printable ASCII, refuses
//! what could ever read as another host (also once percent-decoded, since a proxy or a
//! later hop may decode), resolves what is left against `TAVLE_PUBLIC_URL` as a browser
//! would, and answers with the path and query of that URL only if its origin is ours.
//! The answer is always a valid header value, so building the redirect cannot fail.

use url::Url;

/// The longest target followed; our own paths are far shorter.
pub const MAX_TARGET_LEN: usize = 2048;

/// Where to send the browser for an untrusted `target`: the same-origin path (with its
/// query) it names, or `/`.
pub fn local_path(target: &str, public_url: &Url) -> String {
    checked(target, public_url).unwrap_or_else(|| "/".to_owned())
}

fn checked(target: &str, public_url: &Url) -> Option<String> {
    if target.is_empty() || target.len() > MAX_TARGET_LEN {
        return None;
    }
    // Printable ASCII only: no space, no control character (tab, CR, LF, NUL, DEL),
    // nothing a browser would drop or repair before resolving.
    if !target.bytes().all(|b| b.is_ascii_graphic()) || target.contains('\\') {
        return None;
    }
    if !target.starts_with('/') || target.starts_with("//") {
        return None;
    }
    // The same, once percent-decoded: `/%2F%2Fevil`, `/%09/evil`, `/%5Cevil`.
    let decoded = percent_decode(target);
    if decoded.iter().any(|b| b.is_ascii_control() || *b == b'\\') {
        return None;
    }
    let path_end = target.find(['?', '#']).unwrap_or(target.len());
    let path = percent_decode(&target[..path_end]);
    if path.windows(2).any(|w| w == b"//") {
        return None;
    }
    let resolved = public_url.join(target).ok()?;
    if resolved.origin() != public_url.origin() {
        return None;
    }
    let mut out = resolved.path().to_owned();
    if let Some(q) = resolved.query() {
        out.push('?');
        out.push_str(q);
    }
    // After dot segments are resolved, still a single-slash path of plain ASCII.
    let plain = out.starts_with('/') && !out.starts_with("//") && !out.contains('\\');
    (plain && out.bytes().all(|b| b.is_ascii_graphic())).then_some(out)
}

/// `%XX` decoded to bytes; a `%` not followed by two hex digits stays as it is.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> Url {
        Url::parse("https://tavle.fjordvik.kommune.no").unwrap()
    }

    fn to(target: &str) -> String {
        local_path(target, &public())
    }

    #[test]
    fn local_paths_are_kept_with_their_query() {
        assert_eq!(to("/"), "/");
        assert_eq!(to("/pupils"), "/pupils");
        assert_eq!(
            to("/absence/groups/1/register?date=2026-12-04&lesson=2"),
            "/absence/groups/1/register?date=2026-12-04&lesson=2"
        );
        assert_eq!(to("/s%C3%B8k"), "/s%C3%B8k");
        // Dot segments resolve as a browser would, and stay on our origin.
        assert_eq!(to("/a/../pupils"), "/pupils");
        assert_eq!(to("/../../pupils"), "/pupils");
        // A fragment is not followed (none of our links needs one).
        assert_eq!(to("/pupils#top"), "/pupils");
    }

    #[test]
    fn other_origins_go_home() {
        for bad in [
            "https://evil.example/",
            "http://tavle.fjordvik.kommune.no/pupils",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\\/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "pupils",
            "",
            "?next=/",
        ] {
            assert_eq!(to(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn control_characters_and_spaces_go_home() {
        for bad in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/pupils\r\nSet-Cookie: a=b",
            "/pupils\0",
            "/\u{7f}/evil.example",
            " /pupils",
            "/pupils /x",
            "/\u{a0}/evil.example",
            "/p\u{e5}",
            "/\u{2028}/evil.example",
        ] {
            assert_eq!(to(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn encoded_tricks_go_home() {
        for bad in [
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%2F/evil.example",
            "/.%2F%2Fevil.example",
            "/%09/evil.example",
            "/%0D%0ALocation:%20http://evil.example",
            "/%00",
            "/%5Cevil.example",
            "/%5c%5cevil.example",
            "/.//evil.example",
            "/a/..//evil.example",
            "/x?y=%0A",
        ] {
            assert_eq!(to(bad), "/", "{bad:?}");
        }
        // Encoded twice is a harmless local path (a 404), never another host.
        assert_eq!(to("/%252F%252Fevil.example"), "/%252F%252Fevil.example");
        // A lone percent sign is not an escape.
        assert_eq!(to("/100%"), "/100%");
    }

    #[test]
    fn very_long_targets_go_home() {
        let long = format!("/{}", "a".repeat(MAX_TARGET_LEN));
        assert_eq!(to(&long), "/");
        let fits = format!("/{}", "a".repeat(MAX_TARGET_LEN - 1));
        assert_eq!(to(&fits), fits);
        assert_eq!(to(&"/%0".repeat(10_000)), "/");
    }

    #[test]
    fn the_answer_is_always_a_header_value() {
        use proptest::prelude::*;
        proptest!(|(target in ".{0,64}", prefix in prop::sample::select(vec!["", "/", "//", "/\\", "/%2F", "/%09"]))| {
            let target = format!("{prefix}{target}");
            let out = to(&target);
            prop_assert!(out.starts_with('/') && !out.starts_with("//"), "{out:?}");
            prop_assert!(axum::http::HeaderValue::from_str(&out).is_ok());
            prop_assert!(!out.contains('\\'));
            prop_assert_eq!(public().join(&out).unwrap().origin(), public().origin());
        });
    }
}
