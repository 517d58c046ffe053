//! A fixed-window counter of requests per client address: sign-ins, and other form
//! posts (`security::rate_limit` counts them before any session lookup).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A fixed-window counter per client address.
#[derive(Debug)]
pub struct RateLimiter {
    windows: Mutex<HashMap<(IpAddr, bool), (Instant, u32)>>,
    sign_in_limit: u32,
    post_limit: u32,
}

const WINDOW: Duration = Duration::from_secs(60);
/// Sign-in attempts per address and minute, unless `TAVLE_SIGN_IN_LIMIT` says otherwise.
const SIGN_IN_LIMIT: u32 = 20;
/// Other form posts per address and minute (a teacher saving registers is far below),
/// unless `TAVLE_FORM_POST_LIMIT` says otherwise.
const POST_LIMIT: u32 = 600;

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(SIGN_IN_LIMIT, POST_LIMIT)
    }
}

impl RateLimiter {
    pub fn new(sign_in_limit: u32, post_limit: u32) -> Self {
        Self { windows: Mutex::default(), sign_in_limit, post_limit }
    }

    /// Count a request; `false` when the address is over its limit.
    pub fn allow(&self, ip: IpAddr, sign_in: bool) -> bool {
        let limit = if sign_in { self.sign_in_limit } else { self.post_limit };
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return true;
        };
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry((ip, sign_in)).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_is_limited_per_address() {
        let l = RateLimiter::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..SIGN_IN_LIMIT {
            assert!(l.allow(a, true));
        }
        assert!(!l.allow(a, true));
        assert!(l.allow(b, true));
        assert!(l.allow(a, false));
    }

    #[test]
    fn the_sign_in_limit_can_be_set() {
        let l = RateLimiter::new(2, POST_LIMIT);
        let a: IpAddr = [10, 0, 0, 1].into();
        assert!(l.allow(a, true));
        assert!(l.allow(a, true));
        assert!(!l.allow(a, true));
    }
}
