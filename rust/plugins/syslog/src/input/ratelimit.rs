//! Per-sender rate limit, as rsyslog's `ratelimit.interval` and
//! `ratelimit.burst`: at most `burst` messages from one sender address in
//! each `interval` (a window that starts with the sender's first message
//! after the previous window ended). What happens to the rest is the
//! caller's: stream and RELP senders wait (they are not read meanwhile, so
//! TCP's flow control holds them back), datagrams are dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Senders tracked before windows that have ended are forgotten.
const TRACKED: usize = 16_384;

/// The limit of one input instance, shared by all its connections.
pub struct RateLimit {
    interval: Duration,
    burst: u32,
    windows: Mutex<HashMap<Option<IpAddr>, Window>>,
}

struct Window {
    start: Instant,
    count: u32,
}

impl RateLimit {
    /// `None` when `interval` is zero (no limit).
    pub fn new(interval: Duration, burst: u32) -> Option<RateLimit> {
        (!interval.is_zero()).then(|| RateLimit {
            interval,
            burst,
            windows: Mutex::new(HashMap::new()),
        })
    }

    /// Whether `ip`'s window is full at `now` (`Err` until when), without
    /// counting a message: a stream reader asks before it takes the next
    /// message out of its buffer, and [`RateLimit::take`]s it after.
    pub fn check(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), Instant> {
        let ip = ip.map(|a| a.to_canonical());
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(&ip) {
            Some(w) if now.duration_since(w.start) < self.interval && w.count >= self.burst => {
                Err(w.start + self.interval)
            }
            _ => Ok(()),
        }
    }

    /// Counts one message from `ip` (`None`: a Unix socket's senders,
    /// which count as one) at `now`: `Ok`, or `Err(t)` when its window is
    /// full until `t`.
    pub fn take(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), Instant> {
        let ip = ip.map(|a| a.to_canonical());
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= TRACKED && !windows.contains_key(&ip) {
            let interval = self.interval;
            windows.retain(|_, w| now.duration_since(w.start) < interval);
        }
        let w = windows.entry(ip).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(w.start) >= self.interval {
            w.start = now;
            w.count = 0;
        }
        if w.count < self.burst {
            w.count += 1;
            Ok(())
        } else {
            Err(w.start + self.interval)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn burst_per_window_per_sender() {
        let rl = RateLimit::new(Duration::from_secs(5), 3).unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(rl.take(ip("192.0.2.1"), t0), Ok(()));
        }
        assert_eq!(
            rl.take(ip("192.0.2.1"), t0),
            Err(t0 + Duration::from_secs(5))
        );
        // Another sender has a window of its own.
        assert_eq!(rl.take(ip("192.0.2.2"), t0), Ok(()));
        // The same sender over IPv4-mapped IPv6 is the same sender.
        assert!(rl.take(ip("::ffff:192.0.2.1"), t0).is_err());
        // check tells without counting.
        assert_eq!(
            rl.check(ip("192.0.2.1"), t0),
            Err(t0 + Duration::from_secs(5))
        );
        assert_eq!(rl.check(ip("192.0.2.3"), t0), Ok(()));
        assert_eq!(rl.check(ip("192.0.2.3"), t0), Ok(()));
        // A new window once the interval has passed.
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(rl.take(ip("192.0.2.1"), t1), Ok(()));
    }

    #[test]
    fn zero_interval_is_no_limit() {
        assert!(RateLimit::new(Duration::ZERO, 1).is_none());
    }

    #[test]
    fn ended_windows_are_forgotten_when_many_senders_come() {
        let rl = RateLimit::new(Duration::from_millis(10), 1).unwrap();
        let t0 = Instant::now();
        for i in 0..TRACKED as u32 {
            let a = IpAddr::from((0x0a00_0000u32 + i).to_be_bytes());
            assert!(rl.take(Some(a), t0).is_ok());
        }
        let later = t0 + Duration::from_millis(20);
        assert!(rl.take(ip("192.0.2.9"), later).is_ok());
        assert_eq!(rl.windows.lock().unwrap().len(), 1);
    }
}
