//! Stream framing per RFC 6587, for one connection: octet counting
//! (`MSG-LEN SP SYSLOG-MSG`) and non-transparent framing (a message ended by
//! LF, CR LF or NUL), told apart message by message.
//!
//! Feed bytes with [`Deframer::push`], then take frames with
//! [`Deframer::next_frame`] until it returns `None`. At the end of the stream
//! call [`Deframer::finish`] until it returns `None`: it gives what
//! `next_frame` would, then the last message if it had no terminator.
//!
//! Memory is bounded: once `next_frame` has returned `None`, at most
//! `max_size` + 12 bytes stay buffered (the start of a frame), so the peak
//! is that plus the largest push. Oversize messages are never buffered
//! whole: an octet-counted one is skipped by count, an LF-framed one up to
//! its terminator. Time is linear in the bytes pushed; nothing panics.

/// The most digits a MSG-LEN may have.
const MAX_LEN_DIGITS: usize = 10;

/// One frame out of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A message, its terminator (LF, CR LF, NUL) or MSG-LEN removed.
    Message(&'a [u8]),
    /// A message longer than `max_size`, dropped. `len` is its exact length
    /// when octet-counted, or when LF-framed and its terminator had arrived;
    /// otherwise the bytes seen so far (more than `max_size`), and the rest up
    /// to the terminator is dropped too.
    Oversize { len: usize },
    /// The stream cannot be framed (a MSG-LEN of more than 10 digits or not
    /// followed by SP, or the stream ended inside an octet-counted frame).
    /// The connection should be closed: the deframer returns nothing more.
    Error(String),
}

/// An incremental deframer for one stream.
#[derive(Debug, Clone)]
pub struct Deframer {
    buf: Vec<u8>,
    /// Consumed bytes at the front of `buf`.
    start: usize,
    max_size: usize,
    /// Bytes of an oversize octet-counted message still to drop.
    skip: u64,
    /// Dropping an oversize LF-framed message through its terminator.
    discard: bool,
    /// Bytes of the current LF-framed message already searched for a
    /// terminator (so that trickling bytes in stays linear).
    scanned: usize,
    /// A framing error was returned: nothing more is accepted.
    failed: bool,
}

/// Where the first terminator (LF or NUL) in `b` is: memchr's vector
/// search, a message's worth of bytes at a time rather than one.
fn find_terminator(b: &[u8]) -> Option<usize> {
    memchr::memchr2(b'\n', 0, b)
}

impl Deframer {
    /// A deframer for messages of at most `max_size` bytes.
    pub fn new(max_size: usize) -> Self {
        Deframer {
            buf: Vec::new(),
            start: 0,
            max_size,
            skip: 0,
            discard: false,
            scanned: 0,
            failed: false,
        }
    }

    /// Gives memory back while the connection waits for more: nothing
    /// kept when nothing is buffered, and no more than twice what is (a
    /// partial message) otherwise. Thousands of idle connections must not
    /// each keep the capacity of their largest read.
    pub fn trim(&mut self) {
        if self.start == self.buf.len() {
            self.buf = Vec::new();
            self.start = 0;
        } else if self.buf.capacity() > 2 * self.buffered() + 4096 {
            self.buf.drain(..self.start);
            self.start = 0;
            self.buf.shrink_to_fit();
        }
    }

    /// Bytes buffered that are not yet part of a returned frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Appends bytes read from the socket. Bytes of a message being dropped
    /// as oversize are not buffered. After an [`Frame::Error`] this does
    /// nothing.
    pub fn push(&mut self, mut data: &[u8]) {
        if self.failed {
            return;
        }
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            let roomy = self.max_size.max(1 << 16).saturating_mul(4);
            if self.buf.capacity() > roomy {
                self.buf.shrink_to(roomy / 4);
            }
            if self.skip > 0 {
                let n = usize::try_from(self.skip)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                data = &data[n..];
                self.skip -= n as u64;
            }
            if self.discard {
                match find_terminator(data) {
                    Some(p) => {
                        data = &data[p + 1..];
                        self.discard = false;
                    }
                    None => data = &[],
                }
            }
        } else if self.start > 0 && self.start >= self.buf.len() - self.start {
            // At least as many bytes consumed as left: moving the rest down
            // costs no more than the consumed bytes did (amortized linear).
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        self.frame(false)
    }

    /// At the end of the stream: the frames still buffered, then the last
    /// message even without its terminator. Call until `None`.
    pub fn finish(&mut self) -> Option<Frame<'_>> {
        self.frame(true)
    }

    fn fail(&mut self, why: String) -> Option<Frame<'_>> {
        self.failed = true;
        self.buf = Vec::new();
        self.start = 0;
        Some(Frame::Error(why))
    }

    fn frame(&mut self, eof: bool) -> Option<Frame<'_>> {
        if self.failed {
            return None;
        }
        if self.skip > 0 {
            let n = usize::try_from(self.skip)
                .unwrap_or(usize::MAX)
                .min(self.buffered());
            self.start += n;
            self.skip -= n as u64;
            if self.skip > 0 {
                return None;
            }
        }
        if self.discard {
            match find_terminator(&self.buf[self.start..]) {
                Some(p) => {
                    self.start += p + 1;
                    self.discard = false;
                }
                None => {
                    self.start = self.buf.len();
                    return None;
                }
            }
        }
        // Stray terminators between frames.
        let stray = self.buf[self.start..]
            .iter()
            .take_while(|&&b| matches!(b, b'\n' | b'\r' | 0))
            .count();
        if stray > 0 {
            self.start += stray;
            self.scanned = 0;
        }
        let avail = &self.buf[self.start..];
        let first = *avail.first()?;

        if (b'1'..=b'9').contains(&first) {
            let digits = avail
                .iter()
                .take(MAX_LEN_DIGITS + 1)
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits > MAX_LEN_DIGITS {
                return self.fail(format!(
                    "octet-counted framing: MSG-LEN longer than {MAX_LEN_DIGITS} digits"
                ));
            }
            match avail.get(digits) {
                // All digits so far: wait, or at the end take it as a line.
                None if !eof => return None,
                None => {}
                Some(b' ') => {
                    let len = avail[..digits]
                        .iter()
                        .fold(0u64, |a, &b| a * 10 + u64::from(b - b'0'));
                    let header = digits + 1;
                    let over = usize::try_from(len).map_or(true, |l| l > self.max_size);
                    if over {
                        self.start += header;
                        self.skip = len;
                        self.scanned = 0;
                        return Some(Frame::Oversize {
                            len: usize::try_from(len).unwrap_or(usize::MAX),
                        });
                    }
                    let len = len as usize;
                    let have = avail.len() - header;
                    if have >= len {
                        let s = self.start + header;
                        self.start = s + len;
                        self.scanned = 0;
                        return Some(Frame::Message(&self.buf[s..s + len]));
                    }
                    if eof {
                        return self.fail(format!(
                            "stream ended inside an octet-counted frame ({have} of {len} bytes)"
                        ));
                    }
                    return None;
                }
                Some(&b) => {
                    return self.fail(format!(
                        "octet-counted framing: MSG-LEN not followed by SP (found 0x{b:02X})"
                    ));
                }
            }
        }

        // Non-transparent framing: up to LF (CR LF) or NUL.
        let from = self.scanned.min(avail.len());
        match find_terminator(&avail[from..]) {
            Some(p) => {
                let t = from + p;
                let end = if avail[t] == b'\n' && t > 0 && avail[t - 1] == b'\r' {
                    t - 1
                } else {
                    t
                };
                let s = self.start;
                self.start += t + 1;
                self.scanned = 0;
                if end > self.max_size {
                    return Some(Frame::Oversize { len: end });
                }
                Some(Frame::Message(&self.buf[s..s + end]))
            }
            None => {
                let n = avail.len();
                let last_cr = avail[n - 1] == b'\r';
                let content = if last_cr { n - 1 } else { n };
                // Over the limit even if the next byte ends it (after a CR).
                let over = n > self.max_size.saturating_add(1)
                    || (n == self.max_size.saturating_add(1) && !last_cr);
                if over || eof {
                    let s = self.start;
                    self.start = self.buf.len();
                    self.scanned = 0;
                    if over || content > self.max_size {
                        self.discard = !eof;
                        return Some(Frame::Oversize { len: content });
                    }
                    return Some(Frame::Message(&self.buf[s..s + content]));
                }
                self.scanned = n;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum F {
        M(Vec<u8>),
        Over(usize),
        Err(String),
    }

    fn own(f: Frame<'_>) -> F {
        match f {
            Frame::Message(m) => F::M(m.to_vec()),
            Frame::Oversize { len } => F::Over(len),
            Frame::Error(e) => F::Err(e),
        }
    }

    fn m(s: &[u8]) -> F {
        F::M(s.to_vec())
    }

    fn drain(d: &mut Deframer, out: &mut Vec<F>) {
        while let Some(f) = d.next_frame() {
            out.push(own(f));
        }
    }

    #[test]
    fn trim_keeps_no_more_than_the_partial_message() {
        let mut d = Deframer::new(64 * 1024);
        let mut big = b"<13>x\n".repeat(10_000);
        big.extend_from_slice(b"<13>partial");
        d.push(&big);
        let mut out = Vec::new();
        drain(&mut d, &mut out);
        assert_eq!(out.len(), 10_000);
        d.trim();
        assert!(
            d.buf.capacity() <= 2 * d.buffered() + 4096,
            "{}",
            d.buf.capacity()
        );
        // The partial message survives the trim and completes.
        d.push(b" message\n");
        drain(&mut d, &mut out);
        assert_eq!(out.last(), Some(&m(b"<13>partial message")));
        d.trim();
        assert_eq!(d.buf.capacity(), 0);
    }

    /// Feeds `stream` in the given pieces, draining after each, then
    /// finishes.
    fn run(stream: &[u8], max: usize, cuts: &[usize]) -> Vec<F> {
        let mut d = Deframer::new(max);
        let mut out = Vec::new();
        let mut prev = 0;
        for &c in cuts.iter().chain(std::iter::once(&stream.len())) {
            d.push(&stream[prev..c]);
            prev = c;
            drain(&mut d, &mut out);
            assert!(d.buffered() <= max + MAX_LEN_DIGITS + 2, "{}", d.buffered());
        }
        while let Some(f) = d.finish() {
            out.push(own(f));
        }
        assert_eq!(d.finish(), None);
        out
    }

    fn whole(stream: &[u8], max: usize) -> Vec<F> {
        run(stream, max, &[])
    }

    fn octet(msg: &[u8]) -> Vec<u8> {
        let mut v = format!("{} ", msg.len()).into_bytes();
        v.extend_from_slice(msg);
        v
    }

    fn sample() -> (Vec<u8>, Vec<F>) {
        let mut s = Vec::new();
        s.extend_from_slice(b"<13>lf one\n");
        s.extend(octet(b"<14>octet\nwith LF\n"));
        s.extend_from_slice(b"<15>crlf\r\n\n\r\n\0");
        s.extend(octet(b"<16>x"));
        s.extend(octet(b"<17>exactly sixteen!"[..16].as_ref()));
        s.extend(octet(b"<18>this one is far too long"));
        s.extend_from_slice(b"<19>nul\0plain text line\n");
        s.extend(octet(b"<20>last"));
        s.extend_from_slice(b"<21>unterminated\r");
        let frames = vec![
            m(b"<13>lf one"),
            m(b"<14>octet\nwith LF\n"),
            m(b"<15>crlf"),
            m(b"<16>x"),
            m(b"<17>exactly sixt"),
            F::Over(28),
            m(b"<19>nul"),
            m(b"plain text line"),
            m(b"<20>last"),
            m(b"<21>unterminated"),
        ];
        (s, frames)
    }

    #[test]
    fn mixed_stream() {
        let (s, frames) = sample();
        assert_eq!(whole(&s, 20), frames);
    }

    #[test]
    fn every_split_gives_the_same_frames() {
        let (s, frames) = sample();
        let bytewise: Vec<usize> = (1..s.len()).collect();
        assert_eq!(run(&s, 20, &bytewise), frames);
        for a in 0..=s.len() {
            assert_eq!(run(&s, 20, &[a]), frames, "split at {a}");
            for b in (a..=s.len()).step_by(7) {
                assert_eq!(run(&s, 20, &[a, b]), frames, "split at {a}, {b}");
            }
        }
    }

    #[test]
    fn octet_counting() {
        assert_eq!(whole(b"5 <1>ab3 <2>", 100), vec![m(b"<1>ab"), m(b"<2>")]);
        // LF inside kept, trailing LF of the count kept too.
        assert_eq!(whole(b"6 a\nb\nc\n", 100), vec![m(b"a\nb\nc\n")]);
        // Frames back to back with stray LF between.
        assert_eq!(
            whole(b"1 a\n1 b\r\n1 c", 100),
            vec![m(b"a"), m(b"b"), m(b"c")]
        );
    }

    #[test]
    fn max_size_boundary() {
        assert_eq!(whole(b"5 abcde", 5), vec![m(b"abcde")]);
        assert_eq!(whole(b"6 abcdef1 x", 5), vec![F::Over(6), m(b"x")]);
        assert_eq!(whole(b"abcde\n", 5), vec![m(b"abcde")]);
        assert_eq!(whole(b"abcdef\nx\n", 5), vec![F::Over(6), m(b"x")]);
        assert_eq!(whole(b"abcdef\r\nx\n", 5), vec![F::Over(6), m(b"x")]);
        // A CR at the limit waits for its LF, even byte by byte.
        let s = b"abcde\r\nx\n";
        let bytewise: Vec<usize> = (1..s.len()).collect();
        assert_eq!(run(s, 5, &bytewise), vec![m(b"abcde"), m(b"x")]);
        assert_eq!(whole(b"abcde\r", 5), vec![m(b"abcde")]);
        assert_eq!(whole(b"abcdef", 5), vec![F::Over(6)]);
        assert_eq!(whole(b"", 5), vec![]);
        // max_size 0: only empty messages fit (and empty LF frames are
        // stray terminators).
        assert_eq!(whole(b"1 a\n", 0), vec![F::Over(1)]);
    }

    #[test]
    fn oversize_octet_counted_is_skipped_without_buffering() {
        let mut d = Deframer::new(4);
        d.push(b"100 ");
        assert_eq!(d.next_frame(), Some(Frame::Oversize { len: 100 }));
        assert_eq!(d.next_frame(), None);
        d.push(&[b'x'; 50]);
        assert_eq!(d.buffered(), 0);
        assert_eq!(d.next_frame(), None);
        let mut tail = vec![b'y'; 50];
        tail.extend_from_slice(b"2 ok");
        d.push(&tail);
        assert_eq!(d.next_frame(), Some(Frame::Message(b"ok")));
        assert_eq!(d.next_frame(), None);
        // A length beyond usize on no platform still skips by count.
        let mut d = Deframer::new(4);
        d.push(b"9999999999 abc");
        assert_eq!(
            d.next_frame(),
            Some(Frame::Oversize {
                len: usize::try_from(9_999_999_999u64).unwrap_or(usize::MAX)
            })
        );
        assert_eq!(d.next_frame(), None);
        assert_eq!(d.buffered(), 0);
        assert_eq!(d.finish(), None);
    }

    #[test]
    fn oversize_lf_framed_is_dropped_to_its_terminator() {
        let mut d = Deframer::new(10);
        let mut out = Vec::new();
        d.push(b"<13>");
        drain(&mut d, &mut out);
        for _ in 0..1000 {
            d.push(b"0123456789");
            drain(&mut d, &mut out);
            assert!(d.buffered() <= 11);
        }
        d.push(b"end\n<13>ok\n");
        drain(&mut d, &mut out);
        assert_eq!(out, vec![F::Over(14), m(b"<13>ok")]);
        // Whole in one push: the exact length is known.
        assert_eq!(
            whole(b"<13>0123456789abc\n<13>ok\n", 10),
            vec![F::Over(17), m(b"<13>ok")]
        );
        // Dropped up to a NUL too; at the end of stream nothing more.
        assert_eq!(whole(b"<13>0123456789abc", 10), vec![F::Over(17)]);
        assert_eq!(
            run(b"<13>0123456789abcdef\0<1>z", 10, &[14]),
            vec![F::Over(14), m(b"<1>z")]
        );
    }

    #[test]
    fn crlf_and_nul_terminators() {
        assert_eq!(
            whole(b"<13>a\r\n<13>b\r\n\r\n<13>c\0<13>d\n", 100),
            vec![m(b"<13>a"), m(b"<13>b"), m(b"<13>c"), m(b"<13>d")]
        );
        // A CR alone is content.
        assert_eq!(whole(b"a\rb\n", 100), vec![m(b"a\rb")]);
    }

    #[test]
    fn garbage() {
        assert_eq!(
            whole(b"hello world\n0 leading zero\n  spaces\n", 100),
            vec![m(b"hello world"), m(b"0 leading zero"), m(b"  spaces")]
        );
        let e = whole(b"<13>ok\n12x\n<13>lost\n", 100);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0], m(b"<13>ok"));
        assert!(matches!(&e[1], F::Err(s) if s.contains("not followed by SP (found 0x78)")));
        let e = whole(b"12345678901 x", 100);
        assert!(matches!(&e[..], [F::Err(s)] if s.contains("longer than 10 digits")));
        // Exactly 10 digits is a length.
        assert_eq!(whole(b"0000000001 x", 100), vec![m(b"0000000001 x")]);
        assert_eq!(whole(b"1000000000 x", 100), vec![F::Over(1_000_000_000)]);
        // After an error nothing more comes, pushes are ignored.
        let mut d = Deframer::new(100);
        d.push(b"3x");
        assert!(matches!(d.next_frame(), Some(Frame::Error(_))));
        d.push(b"<13>a\n");
        assert_eq!(d.next_frame(), None);
        assert_eq!(d.finish(), None);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn finish_behaviour() {
        let mut d = Deframer::new(100);
        d.push(b"<13>a\n<13>b");
        assert_eq!(d.next_frame(), Some(Frame::Message(b"<13>a")));
        assert_eq!(d.next_frame(), None);
        assert_eq!(d.finish(), Some(Frame::Message(b"<13>b")));
        assert_eq!(d.finish(), None);
        // finish also gives complete frames still buffered.
        assert_eq!(
            whole(b"<1>a\n<2>b\n<3>c", 100),
            vec![m(b"<1>a"), m(b"<2>b"), m(b"<3>c")]
        );
        // Only stray terminators: nothing.
        assert_eq!(whole(b"\r\n\0\n", 100), vec![]);
        // Digits alone at the end: a line.
        assert_eq!(whole(b"123", 100), vec![m(b"123")]);
        // A truncated octet-counted frame: an error, nothing silently lost.
        let e = whole(b"10 <13>abc", 100);
        assert!(
            matches!(&e[..], [F::Err(s)] if s.contains("ended inside an octet-counted frame (7 of 10 bytes)")),
            "{e:?}"
        );
        // Inside a skipped oversize frame: already reported.
        assert_eq!(whole(b"50 abc", 10), vec![F::Over(50)]);
    }

    #[test]
    fn many_frames_in_one_push_is_linear() {
        let mut s = Vec::new();
        for i in 0..200_000 {
            if i % 2 == 0 {
                s.extend_from_slice(b"<13>hello\n");
            } else {
                s.extend(octet(b"<13>world"));
            }
        }
        let mut d = Deframer::new(64);
        d.push(&s);
        let mut n = 0;
        while let Some(f) = d.next_frame() {
            assert!(matches!(f, Frame::Message(_)));
            n += 1;
        }
        assert_eq!(n, 200_000);
        // Byte by byte over a long line stays linear as well.
        let mut d = Deframer::new(1 << 20);
        for _ in 0..(1 << 20) {
            d.push(b"a");
            assert_eq!(d.next_frame(), None);
        }
        d.push(b"\n");
        assert!(matches!(d.next_frame(), Some(Frame::Message(m)) if m.len() == 1 << 20));
    }
}
