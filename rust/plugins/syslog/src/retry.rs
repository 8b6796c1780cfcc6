//! What the output remembers about chunks Fluent Bit retries, so that a
//! retry sends only what was not delivered yet:
//!
//! - over RELP, the acknowledged prefix of a chunk whose delivery stopped
//!   part way: its retry starts after it, and duplicates are limited to
//!   the messages whose acknowledgement was lost;
//! - a chunk that was delivered after a retry, for a few seconds: Fluent
//!   Bit 3.2, when it starts to shut down, dispatches every task that has
//!   a retry again, also one whose retry is running (5.1 skips tasks in
//!   use), and the second dispatch would send the whole chunk again.
//!
//! Chunks are recognised by a hash of their tag and bytes; a delivered
//! chunk also by [`Chunk::origin`], the host buffer it came from, so that
//! another chunk with the same bytes is never taken for it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use flb_rs_sdk::prelude::*;

/// The most chunks remembered; past it the oldest is forgotten (its retry
/// then sends it whole again).
const MAX: usize = 1024;

/// How long a chunk delivered after a retry is remembered. Its second
/// dispatch waits behind the first on the instance's flush thread and
/// comes right after it.
const DELIVERED_KEEP: Duration = Duration::from_secs(10);

/// How long a chunk whose flush failed is remembered without coming back:
/// Fluent Bit gives a chunk up after its retry_limit without telling the
/// output, and waits at most scheduler.cap (2,000 s by default) between
/// two retries.
const FAILED_KEEP: Duration = Duration::from_secs(3600);

pub(crate) fn fingerprint(chunk: &Chunk<'_>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    chunk.tag.hash(&mut h);
    chunk.data.hash(&mut h);
    h.finish()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// The last flush failed after `acked` of its `messages` RELP
    /// messages were acknowledged (0 and 0 for other transports).
    Failed {
        messages: usize,
        acked: usize,
        at: Instant,
    },
    /// Delivered by a retry, from the host buffer at `origin`.
    Delivered { origin: usize, at: Instant },
}

#[derive(Debug)]
struct Entry {
    fingerprint: u64,
    state: State,
}

/// Every chunk in retry, and those delivered a moment ago after one.
#[derive(Default)]
pub(crate) struct Retries(VecDeque<Entry>);

impl Retries {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, fingerprint: u64) -> Option<usize> {
        self.0.iter().position(|e| e.fingerprint == fingerprint)
    }

    /// Whether this flush is a second dispatch of a chunk that a retry
    /// delivered a moment ago (then it must not be sent again).
    pub(crate) fn redispatched(&mut self, fingerprint: u64, origin: usize, now: Instant) -> bool {
        self.expire(now);
        let Some(i) = self.position(fingerprint) else {
            return false;
        };
        match self.0[i].state {
            State::Delivered { origin: o, .. } => {
                self.0.remove(i);
                o == origin
            }
            State::Failed { .. } => false,
        }
    }

    /// The acknowledged prefix of RELP messages to skip in a chunk (0 when
    /// unknown).
    pub(crate) fn resume_point(&self, fingerprint: u64) -> usize {
        match self.position(fingerprint).map(|i| self.0[i].state) {
            Some(State::Failed { acked, .. }) => acked,
            _ => 0,
        }
    }

    /// The chunk's flush failed; `acked` of its `messages` RELP messages
    /// are acknowledged so far.
    pub(crate) fn failed(&mut self, fingerprint: u64, messages: usize, acked: usize, now: Instant) {
        self.expire(now);
        self.set(
            fingerprint,
            State::Failed {
                messages,
                acked,
                at: now,
            },
        );
    }

    /// The chunk was delivered. Remembered only when it was in retry:
    /// only those are dispatched twice.
    pub(crate) fn delivered(&mut self, fingerprint: u64, origin: usize, now: Instant) {
        if let Some(i) = self.position(fingerprint) {
            self.0[i].state = State::Delivered { origin, at: now };
        }
    }

    /// The chunk will not come back (Fluent Bit was told it is malformed).
    pub(crate) fn forget(&mut self, fingerprint: u64) {
        if let Some(i) = self.position(fingerprint) {
            self.0.remove(i);
        }
    }

    fn set(&mut self, fingerprint: u64, state: State) {
        match self.position(fingerprint) {
            Some(i) => self.0[i].state = state,
            None => {
                if self.0.len() == MAX {
                    self.0.pop_front();
                }
                self.0.push_back(Entry { fingerprint, state });
            }
        }
    }

    /// Forgets delivered chunks after DELIVERED_KEEP, failed ones after
    /// FAILED_KEEP.
    pub(crate) fn expire(&mut self, now: Instant) {
        self.0.retain(|e| match e.state {
            State::Delivered { at, .. } => now.saturating_duration_since(at) < DELIVERED_KEEP,
            State::Failed { at, .. } => now.saturating_duration_since(at) < FAILED_KEEP,
        });
    }

    /// RELP messages of the chunks in retry not acknowledged yet.
    pub(crate) fn unacked(&self) -> usize {
        self.0
            .iter()
            .map(|e| match e.state {
                State::Failed {
                    messages, acked, ..
                } => messages - acked.min(messages),
                State::Delivered { .. } => 0,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_resumes_after_the_acknowledged_prefix_of_its_own_chunk() {
        let (mut r, t) = (Retries::default(), Instant::now());
        r.failed(1, 100, 40, t);
        r.failed(2, 50, 10, t);
        assert_eq!(r.resume_point(1), 40);
        assert_eq!(r.resume_point(2), 10);
        assert_eq!(r.resume_point(3), 0);
        assert_eq!(r.unacked(), 60 + 40);
        r.failed(1, 100, 70, t);
        assert_eq!(r.resume_point(1), 70);
        assert_eq!(r.unacked(), 30 + 40);
    }

    #[test]
    fn a_second_dispatch_of_a_delivered_retry_is_recognised_once() {
        let (mut r, t) = (Retries::default(), Instant::now());
        r.failed(1, 100, 40, t);
        r.delivered(1, 0x1000, t);
        assert_eq!(r.unacked(), 0);
        assert!(r.redispatched(1, 0x1000, t + Duration::from_millis(5)));
        // Only once: a third flush of the same bytes is sent.
        assert!(!r.redispatched(1, 0x1000, t + Duration::from_millis(6)));
        assert!(r.is_empty());
    }

    #[test]
    fn the_same_bytes_from_another_buffer_or_later_are_sent_again() {
        let (mut r, t) = (Retries::default(), Instant::now());
        r.failed(1, 10, 0, t);
        r.delivered(1, 0x1000, t);
        assert!(!r.redispatched(1, 0x2000, t));
        r.failed(1, 10, 0, t);
        r.delivered(1, 0x1000, t);
        assert!(!r.redispatched(1, 0x1000, t + DELIVERED_KEEP));
        // A chunk that never failed is not remembered when delivered.
        r.delivered(7, 0x1000, t);
        assert!(!r.redispatched(7, 0x1000, t));
        // Neither is one forgotten.
        r.failed(8, 10, 0, t);
        r.forget(8);
        r.delivered(8, 0x1000, t);
        assert!(r.is_empty());
    }

    #[test]
    fn still_failing_chunks_are_not_taken_for_delivered_ones() {
        let (mut r, t) = (Retries::default(), Instant::now());
        r.failed(1, 10, 3, t);
        assert!(!r.redispatched(1, 0x1000, t));
        assert_eq!(r.resume_point(1), 3);
    }

    #[test]
    fn a_failed_chunk_that_never_comes_back_is_forgotten() {
        let (mut r, t) = (Retries::default(), Instant::now());
        r.failed(1, 10, 4, t);
        r.failed(2, 10, 4, t + FAILED_KEEP / 2);
        r.expire(t + FAILED_KEEP);
        assert_eq!(r.resume_point(1), 0);
        assert_eq!(r.resume_point(2), 4);
        assert_eq!(r.unacked(), 6);
    }

    #[test]
    fn the_oldest_is_forgotten_past_the_bound() {
        let (mut r, t) = (Retries::default(), Instant::now());
        for fp in 0..(MAX as u64 + 1) {
            r.failed(fp, 10, 5, t);
        }
        assert_eq!(r.resume_point(0), 0);
        assert_eq!(r.resume_point(MAX as u64), 5);
        assert_eq!(r.0.len(), MAX);
    }
}
