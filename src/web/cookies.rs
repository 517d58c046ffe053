//! Cookie names and the few cookie operations Tavle needs. All cookies are
//! HttpOnly and SameSite=Lax; over https they are Secure and `__Host-` prefixed
//! (bound to our host, path /, never set by a subdomain).

use axum::http::{header, HeaderMap, HeaderValue};

pub const LANG: &str = "tavle-lang";

#[derive(Debug, Clone, Copy)]
pub struct Names {
    pub session: &'static str,
    pub csrf: &'static str,
    pub oidc: &'static str,
}

impl Names {
    pub fn new(secure: bool) -> Self {
        if secure {
            Self { session: "__Host-tavle-session", csrf: "__Host-tavle-csrf", oidc: "__Host-tavle-oidc" }
        } else {
            Self { session: "tavle-session", csrf: "tavle-csrf", oidc: "tavle-oidc" }
        }
    }
}

/// The value of cookie `name`, if the request has it.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Append a Set-Cookie. `max_age` in seconds; `None` makes a browser-session cookie.
pub fn set(headers: &mut HeaderMap, name: &str, value: &str, secure: bool, max_age: Option<u64>) {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        headers.append(header::SET_COOKIE, v);
    }
}

pub fn clear(headers: &mut HeaderMap, name: &str, secure: bool) {
    set(headers, name, "", secure, Some(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; tavle-lang=en; b=2"));
        assert_eq!(get(&h, LANG), Some("en"));
        assert_eq!(get(&h, "c"), None);
    }

    #[test]
    fn secure_cookies_are_host_prefixed() {
        let mut h = HeaderMap::new();
        let n = Names::new(true);
        set(&mut h, n.session, "x", true, None);
        let v = h.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(v.starts_with("__Host-tavle-session=x; Path=/; HttpOnly; SameSite=Lax; Secure"));
    }
}
