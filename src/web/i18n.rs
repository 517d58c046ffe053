//! The translation catalogue. Every string a user sees comes from
//! `src/web/locales/<lang>.ftl` (one `key = value` per line, `{name}` placeholders),
//! embedded in the binary. Norwegian bokmål is the reference language; a test checks
//! that every language has exactly the same keys and that every key a template or
//! handler uses exists. Nynorsk (`nn`) and Northern Sami (`se`) are added as files.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Nb,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Nb, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "nb" | "no" | "nb-NO" => Some(Lang::Nb),
            "en" | "en-GB" | "en-US" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language in an `Accept-Language` header, else bokmål.
    pub fn from_accept_language(header: &str) -> Self {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .map(str::trim)
            .find_map(|tag| Lang::from_code(tag).or_else(|| Lang::from_code(tag.split('-').next().unwrap_or(""))))
            .unwrap_or_default()
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Nb => include_str!("locales/nb.ftl"),
            Lang::En => include_str!("locales/en.ftl"),
        }
    }
}

type Catalog = HashMap<&'static str, &'static str>;

fn parse(source: &'static str) -> Catalog {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

fn catalog(lang: Lang) -> &'static Catalog {
    static NB: OnceLock<Catalog> = OnceLock::new();
    static EN: OnceLock<Catalog> = OnceLock::new();
    let cell = match lang {
        Lang::Nb => &NB,
        Lang::En => &EN,
    };
    cell.get_or_init(|| parse(lang.source()))
}

/// Look up `key`. A missing key shows the key itself (and the catalogue test fails),
/// never a panic.
pub fn t(lang: Lang, key: &str) -> &'static str {
    catalog(lang).get(key).copied().or_else(|| catalog(Lang::Nb).get(key).copied()).unwrap_or_else(|| {
        tracing::warn!(key, "missing translation");
        "[?]"
    })
}

/// Look up `key` and fill its `{name}` placeholders.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut out = t(lang, key).to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// All keys of a language (for the catalogue tests).
pub fn keys(lang: Lang) -> Vec<&'static str> {
    let mut keys: Vec<_> = catalog(lang).keys().copied().collect();
    keys.sort_unstable();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_the_same_keys() {
        let reference = keys(Lang::Nb);
        for lang in Lang::ALL {
            assert_eq!(keys(lang), reference, "{lang:?} differs from nb");
        }
    }

    #[test]
    fn keys_used_in_templates_and_code_exist() {
        // Every `t("…")`, `tf("…"`, and `key: "…"` in templates and sources.
        let known: std::collections::HashSet<_> = keys(Lang::Nb).into_iter().collect();
        let mut missing = Vec::new();
        for dir in ["templates", "src"] {
            for path in walk(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)) {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for marker in ["t(\"", "tf(\"", "msg(\""] {
                    for (i, _) in text.match_indices(marker) {
                        let rest = &text[i + marker.len()..];
                        if let Some(end) = rest.find('"') {
                            let key = &rest[..end];
                            if key.contains('.') && !known.contains(key) {
                                missing.push(format!("{}: {key}", path.display()));
                            }
                        }
                    }
                }
            }
        }
        assert!(missing.is_empty(), "missing translations:\n{}", missing.join("\n"));
    }

    fn walk(dir: std::path::PathBuf) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                out.extend(walk(p));
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("rs" | "html")) {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn accept_language_picks_a_supported_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("nn-NO,nb;q=0.9"), Lang::Nb);
        assert_eq!(Lang::from_accept_language("de"), Lang::Nb);
    }

    /// A placeholder is `{name}`, the same names in every language: a Fluent-style
    /// `{ $name }` or a selector would be shown to the user as it stands.
    #[test]
    fn placeholders_are_plain_names_and_the_same_in_every_language() {
        let names = |v: &str| -> Vec<String> {
            let mut found: Vec<String> =
                v.split('{').skip(1).map(|p| p.split('}').next().unwrap_or("").to_owned()).collect();
            found.sort();
            found
        };
        for key in keys(Lang::Nb) {
            let reference = names(t(Lang::Nb, key));
            for lang in Lang::ALL {
                let value = t(lang, key);
                let found = names(value);
                for n in &found {
                    assert!(
                        !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                        "{key} ({lang:?}): {{{n}}}"
                    );
                }
                assert_eq!(found, reference, "{key} ({lang:?}) names other placeholders than bokmål");
            }
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(tf(Lang::En, "pupils.count", &[("count", "3")]), "3 pupils");
    }
}
