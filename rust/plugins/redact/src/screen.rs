//! The byte screen: one pass over a string's bytes that tells which
//! detectors could match in it. On most strings it rules out every
//! detector, and they never run.
//!
//! It notes which of the bytes detectors look for occur, counts some,
//! notes some pairs of adjacent bytes that every match of a detector holds
//! (`::` or seven colons for an IPv6 address, `be` or `ba` for a bearer
//! token or Basic credentials),
//! and whether 13 bytes in a row are digits, spaces or dashes (where a
//! card number can be). On ordinary log text (timestamps, durations,
//! UUIDs, clock times) that rules out most detectors that single bytes
//! would let run.
//!
//! Two passes compute exactly the same: a table pass, a few lookups per
//! byte, for short strings; and for strings of 16 bytes or more (32 where
//! there are no vector instructions) a vector
//! pass, sixteen bytes at a time through `wide` (SSE2 on x86-64, NEON on
//! AArch64, plain code elsewhere), whose setup would cost short strings
//! more than it saves. The tests hold them to the same results.

use wide::u8x16;

/// What the screen tells about a string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traits {
    pub(crate) len: usize,
    pub(crate) digits: u32,
    pub(crate) dots: u32,
    pub(crate) colons: u32,
    /// Whether 13 or more bytes in a row are digits, spaces or dashes.
    pub(crate) long_run: bool,
    /// `SEEN_*` bits: which of the bytes detectors look for occur.
    pub(crate) seen: u8,
    /// `PAIR_*` bits: which pairs of adjacent bytes occur.
    pub(crate) pairs: u8,
}

pub(crate) const SEEN_DOT: u8 = 1;
pub(crate) const SEEN_COLON: u8 = 2;
pub(crate) const SEEN_AT: u8 = 4;
pub(crate) const SEEN_EQ: u8 = 8;
pub(crate) const SEEN_UPPER_A: u8 = 16;

/// `::` (IPv6).
pub(crate) const PAIR_COLONS: u8 = 1;
/// `b` or `B`, then `e`, `E`, `a` or `A` (the `be` of `bearer`, the `ba`
/// of `basic`).
pub(crate) const PAIR_BE: u8 = 2;
/// `yJ` (the `eyJ` every JWT part starts with).
pub(crate) const PAIR_YJ: u8 = 4;
/// A colon after anything but an ASCII digit: where a password key ends
/// (a key word's last letter, a quote or a space); clock times have
/// digits there. A colon that begins the string has nothing before it,
/// which counts as a digit here.
pub(crate) const PAIR_KEY_COLON: u8 = 8;
/// `:/` (the `://` of a URL with a password).
pub(crate) const PAIR_COLON_SLASH: u8 = 16;

/// Bytes in a row that make a long run.
const LONG_RUN: u32 = 13;

/// From this length on, the vector pass: one block, where `wide` has
/// vector instructions (measured on x86-64), two elsewhere (where it
/// emulates them, as the threshold was before it was measured lower).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const VECTOR_FROM: usize = 16;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const VECTOR_FROM: usize = 32;

impl Traits {
    /// The traits of `text`. For bytes that are not UTF-8, they are what
    /// the repaired text would give (repairs write U+FFFD, whose bytes are
    /// none of those looked for here, in place of bytes that are not ASCII
    /// either), except a longer `len`, which only rules out less.
    pub fn of(text: &[u8]) -> Traits {
        if text.len() >= VECTOR_FROM {
            vector::of(text)
        } else {
            table::of(text)
        }
    }

    pub(crate) fn has(&self, bits: u8) -> bool {
        self.seen & bits == bits
    }

    pub(crate) fn pair(&self, bits: u8) -> bool {
        self.pairs & bits != 0
    }
}

/// Per byte, four table lookups, each one load folded into one operation:
/// `CLASS` holds the `SEEN_*` flags (bits 0-7) and the pairs the byte ends
/// as the second byte (bits 8-15); `STARTS` the pairs it begins, at the
/// same bits; `COUNTS` three 13-bit counts (digits, dots, colons); `JOINS`
/// all ones for a digit, space or dash, which a run goes on through.
mod table {
    use super::*;

    const COUNT_BITS: u32 = 13;
    const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

    const fn pair(p: u8) -> u64 {
        (p as u64) << 8
    }

    const CLASS: [u64; 256] = {
        let mut t = [0u64; 256];
        t[b'.' as usize] = SEEN_DOT as u64;
        t[b':' as usize] = SEEN_COLON as u64 | pair(PAIR_COLONS) | pair(PAIR_KEY_COLON);
        t[b'/' as usize] = pair(PAIR_COLON_SLASH);
        t[b'@' as usize] = SEEN_AT as u64;
        t[b'=' as usize] = SEEN_EQ as u64;
        t[b'A' as usize] = SEEN_UPPER_A as u64;
        t[b'e' as usize] = pair(PAIR_BE);
        t[b'E' as usize] = pair(PAIR_BE);
        t[b'a' as usize] |= pair(PAIR_BE);
        t[b'A' as usize] |= pair(PAIR_BE);
        t[b'J' as usize] = pair(PAIR_YJ);
        t
    };

    const STARTS: [u64; 256] = {
        let mut t = [0u64; 256];
        let mut c = 0;
        while c < 256 {
            if !(c as u8).is_ascii_digit() {
                t[c] = pair(PAIR_KEY_COLON);
            }
            c += 1;
        }
        t[b':' as usize] |= pair(PAIR_COLONS) | pair(PAIR_COLON_SLASH);
        t[b'b' as usize] |= pair(PAIR_BE);
        t[b'B' as usize] |= pair(PAIR_BE);
        t[b'y' as usize] |= pair(PAIR_YJ);
        t
    };

    const COUNTS: [u64; 256] = {
        let mut t = [0u64; 256];
        let mut c = b'0';
        while c <= b'9' {
            t[c as usize] = 1;
            c += 1;
        }
        t[b'.' as usize] = 1 << COUNT_BITS;
        t[b':' as usize] = 1 << (2 * COUNT_BITS);
        t
    };

    const JOINS: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut c = b'0';
        while c <= b'9' {
            t[c as usize] = u32::MAX;
            c += 1;
        }
        t[b' ' as usize] = u32::MAX;
        t[b'-' as usize] = u32::MAX;
        t
    };

    pub(super) fn of(text: &[u8]) -> Traits {
        // Nothing before the first byte: no pair starts there.
        let (mut flags, mut pairs, mut prev) = (0u64, 0u64, 0u64);
        let (mut digits, mut dots, mut colons) = (0u32, 0u32, 0u32);
        let (mut run, mut longest) = (0u32, 0u32);
        // Blocks short enough that no count overflows its 13 bits.
        for block in text.chunks(COUNT_MASK as usize) {
            let mut counts = 0u64;
            for &c in block {
                let i = usize::from(c);
                let k = CLASS[i];
                flags |= k;
                pairs |= prev & k;
                prev = STARTS[i];
                counts += COUNTS[i];
                run = (run + 1) & JOINS[i];
                longest = longest.max(run);
            }
            let lane = |i: u32| ((counts >> (i * COUNT_BITS)) & COUNT_MASK) as u32;
            digits += lane(0);
            dots += lane(1);
            colons += lane(2);
        }
        Traits {
            len: text.len(),
            digits,
            dots,
            colons,
            long_run: longest >= LONG_RUN,
            seen: flags as u8,
            pairs: (pairs >> 8) as u8,
        }
    }
}

/// Sixteen bytes at a time: each block `v` is compared with the bytes
/// looked for, and so is `p`, the sixteen bytes one before it, so that a
/// pair is one AND (`p` in the first class, `v` in the second) with no
/// shifting across blocks. Which classes and pairs occur is gathered as
/// bit flags in a vector, ORed block after block and across its lanes at
/// the end. The counts are kept per lane too (a match is all ones, minus
/// one: subtracting it adds one), summed across the lanes before a lane
/// can overflow; the runs come from one bit per byte (`move_mask`).
pub(crate) mod vector {
    use super::*;

    /// Blocks between two flushes of the counts: each 8-bit lane takes at
    /// most one per block.
    const FLUSH_EVERY: u32 = 255;

    /// (The same blocks as [`blocks`] gives, read here in a loop of its
    /// own: the first block's previous bytes and the masked last block
    /// inside one closure made the whole filter 3% slower.)
    pub(crate) fn of(text: &[u8]) -> Traits {
        let mut pass = Pass::default();
        let full = text.len() / 16 * 16;
        let mut i = 0;
        while i < full {
            let v = u8x16::new(block(&text[i..]));
            // Before the first byte stands a digit: it begins no pair.
            let p = if i == 0 {
                let mut p = [b'0'; 16];
                p[1..].copy_from_slice(&text[..15]);
                p
            } else {
                block(&text[i - 1..])
            };
            pass.block(v, u8x16::new(p));
            i += 16;
        }
        let rest = text.len() - full;
        if rest > 0 && full > 0 {
            // The last sixteen bytes, of which the first 16 - rest were
            // read already: their classes and pairs again change nothing
            // (the same bytes after the same bytes), their counts and runs
            // are masked out.
            let at = text.len() - 16;
            let (v, p) = (block(&text[at..]), block(&text[at - 1..]));
            let keep = u8x16::new(block(&KEEP_LAST[rest..]));
            pass.block_masked(u8x16::new(v), u8x16::new(p), keep, 16 - rest as u32);
        } else if rest > 0 {
            // Shorter than a block: zeros after the end. A zero byte is
            // in no class, so it adds to no count, ends every run and
            // completes no pair.
            let (mut v, mut p) = ([0u8; 16], [b'0'; 16]);
            v[..rest].copy_from_slice(text);
            p[1..=rest].copy_from_slice(text);
            pass.block(u8x16::new(v), u8x16::new(p));
        }
        pass.finish(text.len())
    }

    /// Calls `each(at, block, skip)` for the blocks of `text` (16 bytes or
    /// more): the whole blocks from the start, then, when the length is
    /// not a multiple of 16, the last sixteen bytes, of which the first
    /// `skip` were in the block before. Reading the end again in place
    /// costs less than copying it into a padded block.
    #[inline(always)]
    pub(crate) fn blocks(text: &[u8], mut each: impl FnMut(usize, [u8; 16], usize)) {
        debug_assert!(text.len() >= 16);
        let full = text.len() / 16 * 16;
        let mut at = 0;
        while at < full {
            each(at, block(&text[at..]), 0);
            at += 16;
        }
        if full < text.len() {
            let last = text.len() - 16;
            each(last, block(&text[last..]), full - last);
        }
    }

    /// `KEEP_LAST[n..n + 16]` keeps the last `n` lanes of a block.
    const KEEP_LAST: [u8; 32] = {
        let mut k = [0u8; 32];
        let mut i = 16;
        while i < 32 {
            k[i] = 0xff;
            i += 1;
        }
        k
    };

    /// The first sixteen bytes of `s`.
    #[inline(always)]
    fn block(s: &[u8]) -> [u8; 16] {
        let mut a = [0u8; 16];
        a.copy_from_slice(&s[..16]);
        a
    }

    #[derive(Default)]
    struct Pass {
        /// `SEEN_*` flags (at, equals, A) per lane, ORed over the blocks.
        seen: u8x16,
        /// `PAIR_*` flags per lane, ORed over the blocks.
        pairs: u8x16,
        /// The joining bytes of the block before (one bit per byte, the
        /// first lowest).
        before: u32,
        /// Not zero once 13 bytes in a row joined.
        long_runs: u32,
        /// Digits, dots and colons per lane since the last flush.
        lanes: [u8x16; 3],
        blocks: u32,
        counts: [u32; 3],
    }

    impl Pass {
        #[inline(always)]
        fn block(&mut self, v: u8x16, p: u8x16) {
            self.block_masked(v, p, u8x16::splat(0xff), 0);
        }

        /// A block whose first `skip` lanes were read before: only lanes
        /// set in `keep` (the others) count, and runs go on from the
        /// first of them.
        #[inline(always)]
        fn block_masked(&mut self, v: u8x16, p: u8x16, keep: u8x16, skip: u32) {
            let splat = u8x16::splat;
            // A digit is a byte whose distance from '0' is at most 9.
            let digit = |x: u8x16| {
                let from_zero = x - splat(b'0');
                from_zero.min(splat(9)).cmp_eq(from_zero)
            };
            // `b` and `B` alike (0x42 and 0x62 are the only bytes that OR
            // 0x20 makes `b`), and `e`, `E`, `a`, `A`.
            let folded = |x: u8x16, c: u8| (x | splat(0x20)).cmp_eq(splat(c));
            let is = |x: u8x16, c: u8| x.cmp_eq(splat(c));
            let (v_digit, colon, dot) = (digit(v), is(v, b':'), is(v, b'.'));
            let p_colon = is(p, b':');
            self.seen |= (is(v, b'@') & splat(SEEN_AT))
                | (is(v, b'=') & splat(SEEN_EQ))
                | (is(v, b'A') & splat(SEEN_UPPER_A));
            self.pairs |= (p_colon & colon & splat(PAIR_COLONS))
                | (p_colon & is(v, b'/') & splat(PAIR_COLON_SLASH))
                | (folded(p, b'b') & (folded(v, b'e') | folded(v, b'a')) & splat(PAIR_BE))
                | (is(p, b'y') & is(v, b'J') & splat(PAIR_YJ))
                | (colon & !digit(p) & splat(PAIR_KEY_COLON));

            let [digits, dots, colons] = &mut self.lanes;
            *digits -= v_digit & keep;
            *dots -= dot & keep;
            *colons -= colon & keep;
            self.blocks += 1;
            if self.blocks == FLUSH_EVERY {
                self.flush_counts();
            }
            let join = v_digit | is(v, b' ') | is(v, b'-');
            self.runs((join.move_mask() as u32 & 0xffff) >> skip);
        }

        /// Looks for a long run of joining bytes ending in this block
        /// (`join`, one bit per byte, the first byte lowest): thirteen
        /// bytes lie within two blocks, so within the window of this
        /// block's bits above those of the block before. (No branch and
        /// no run length carried from block to block: cheaper than
        /// following runs across blocks, as this did before.)
        #[inline(always)]
        fn runs(&mut self, join: u32) {
            let w = self.before | join << 16;
            // Bit i of `n13`: bytes i to i + 12 of the window all join.
            let n2 = w & w >> 1;
            let n4 = n2 & n2 >> 2;
            let n8 = n4 & n4 >> 4;
            self.long_runs |= n8 & n4 >> 8 & w >> (LONG_RUN - 1);
            self.before = join;
        }

        fn flush_counts(&mut self) {
            for (c, lanes) in self.counts.iter_mut().zip(&mut self.lanes) {
                *c += lane_sum(lanes.to_array());
                *lanes = u8x16::ZERO;
            }
            self.blocks = 0;
        }

        fn finish(mut self, len: usize) -> Traits {
            self.flush_counts();
            // The lanes ORed: two words, then halves folded onto each other.
            let any = |x: u8x16| {
                let b = x.to_array();
                let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
                let w = word(0) | word(8);
                let w = w | w >> 32;
                let w = w | w >> 16;
                (w | w >> 8) as u8
            };
            let [digits, dots, colons] = self.counts;
            let flag = |n: u32, bit: u8| if n > 0 { bit } else { 0 };
            Traits {
                len,
                digits,
                dots,
                colons,
                long_run: self.long_runs != 0,
                seen: any(self.seen) | flag(dots, SEEN_DOT) | flag(colons, SEEN_COLON),
                pairs: any(self.pairs),
            }
        }
    }

    /// The sum of sixteen bytes: pairs of bytes added into 16-bit lanes of
    /// two words, then the lanes summed by one multiplication each.
    #[inline(always)]
    pub(super) fn lane_sum(bytes: [u8; 16]) -> u32 {
        const EVEN: u64 = 0x00ff_00ff_00ff_00ff;
        let word = |i: usize| {
            let w = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
            (w & EVEN) + (w >> 8 & EVEN)
        };
        // Each 16-bit lane of `pairs` is at most 4 * 255, their sum at
        // most 16 * 255: no carry crosses a lane, and the multiplication
        // gathers the sum into the top lane.
        let pairs = word(0) + word(8);
        (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A string and what the screen must (or must not) find in it.
    type Case = (&'static str, fn(&Traits) -> bool);

    /// Both passes, which must agree.
    fn both(text: &[u8]) -> Traits {
        let (t, v) = (table::of(text), vector::of(text));
        assert_eq!(
            t,
            v,
            "the passes disagree on {:?}",
            String::from_utf8_lossy(text)
        );
        t
    }

    #[test]
    fn counts_past_their_lanes() {
        // Counts are kept in 13-bit (table) and 16-bit (vector) lanes and
        // flushed before they overflow: a long string counts every byte.
        let t = both(".:1".repeat(30_000).as_bytes());
        assert_eq!((t.dots, t.colons, t.digits), (30_000, 30_000, 30_000));
        assert_eq!(t.len, 90_000);
    }

    #[test]
    fn pairs_and_runs_are_found_at_every_offset() {
        // Across a block's edge the previous block's last byte counts:
        // every pair and run, at every offset, in every string length.
        let cases: [Case; 9] = [
            ("::", |t| t.pair(PAIR_COLONS)),
            ("Be", |t| t.pair(PAIR_BE)),
            ("bE", |t| t.pair(PAIR_BE)),
            ("Ba", |t| t.pair(PAIR_BE)),
            ("bA", |t| t.pair(PAIR_BE)),
            ("yJ", |t| t.pair(PAIR_YJ)),
            ("x:", |t| t.pair(PAIR_KEY_COLON)),
            (":/", |t| t.pair(PAIR_COLON_SLASH)),
            ("4111 1111-1111", |t| t.long_run),
        ];
        for (needle, found) in cases {
            for at in 0..40 {
                for tail in 0..20 {
                    let text = format!("{}{needle}{}", "#".repeat(at), "#".repeat(tail));
                    assert!(found(&both(text.as_bytes())), "{needle:?} in {text:?}");
                }
            }
        }
        // And what is not there is not found: a pair split by a byte, a
        // colon after a digit or first, a run one byte short.
        let misses: [Case; 8] = [
            (": :", |t| t.pair(PAIR_COLONS)),
            ("B e", |t| t.pair(PAIR_BE)),
            ("b a", |t| t.pair(PAIR_BE)),
            ("y J", |t| t.pair(PAIR_YJ)),
            ("1:2:3", |t| t.pair(PAIR_KEY_COLON)),
            (": /", |t| t.pair(PAIR_COLON_SLASH)),
            ("4111 1111-11", |t| t.long_run),
            ("4111 1111-11#4111 1111-11", |t| t.long_run),
        ];
        for (text, found) in misses {
            for at in 0..40 {
                let t = both(format!("{}{text}", "#".repeat(at)).as_bytes());
                assert!(!found(&t), "{text:?} at {at}");
            }
        }
        assert!(!both(b":x").pair(PAIR_KEY_COLON), "a colon first");
    }

    #[test]
    fn lane_sums() {
        assert_eq!(vector::lane_sum([255; 16]), 16 * 255);
        assert_eq!(vector::lane_sum([0; 16]), 0);
        let ramp: [u8; 16] = std::array::from_fn(|i| (i * 17) as u8);
        assert_eq!(vector::lane_sum(ramp), (0..16).map(|i| i * 17).sum::<u32>());
    }

    #[test]
    fn classes_and_counts() {
        let t = both(b"a.b:c@d=eA 12.34:5");
        assert_eq!(
            t.seen,
            SEEN_DOT | SEEN_COLON | SEEN_AT | SEEN_EQ | SEEN_UPPER_A
        );
        assert_eq!((t.digits, t.dots, t.colons), (5, 2, 2));
        assert_eq!(both(b""), Traits::default());
        // Bytes that are not ASCII are in no class, whatever their value.
        let high: Vec<u8> = (0x80..=0xff).collect();
        let t = both(&high);
        assert_eq!((t.seen, t.pairs, t.digits, t.long_run), (0, 0, 0, false));
    }

    #[test]
    fn the_passes_agree_on_generated_text() {
        // Strings of 0 to 100 bytes drawn from the bytes the screen looks
        // for, their neighbours and a two-byte character.
        const ALPHABET: &[u8] = b"0123456789 -.:/@=AaBbEeyJj#\"'\xc3\xa9";
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        for _ in 0..200_000 {
            let len = next(101);
            let s: Vec<u8> = (0..len).map(|_| ALPHABET[next(ALPHABET.len())]).collect();
            both(&s);
        }
    }

    #[test]
    fn the_passes_agree_on_every_byte_pair() {
        // Every pair of bytes, at the edges of a block and inside one.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for at in [0, 14, 15, 16, 31, 32] {
                    let mut s = vec![b'#'; 40];
                    s[at] = a;
                    s[at + 1] = b;
                    both(&s);
                }
            }
        }
    }
}
