//! Zero-copy reading of MessagePack.
//!
//! Fluent Bit hands plugins chunks of msgpack. This reader borrows from the
//! chunk instead of building a tree: strings, binaries and extensions are
//! slices of the input, maps and arrays are lazy views that decode their
//! entries while they are iterated.
//!
//! Hostile input is expected. Every length is checked against the bytes that
//! are really there, so an absurd length is an error and never an
//! allocation, and nesting is walked with a counter instead of recursion, so
//! 100,000 nested arrays cost no stack.

use std::borrow::Cow;
use std::fmt;

/// Why a buffer is not valid msgpack, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset, from the start of the buffer being decoded, where the
    /// problem was found.
    pub offset: usize,
    /// What is wrong there.
    pub kind: DecodeErrorKind,
}

/// The kinds of [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The buffer ends inside a value.
    Truncated,
    /// The byte 0xc1, which msgpack reserves and never uses.
    ReservedMarker,
    /// Valid msgpack, but not the shape that was expected.
    Unexpected(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeErrorKind::Truncated => {
                write!(f, "msgpack truncated at byte {}", self.offset)
            }
            DecodeErrorKind::ReservedMarker => {
                write!(f, "invalid msgpack marker 0xc1 at byte {}", self.offset)
            }
            DecodeErrorKind::Unexpected(what) => {
                write!(f, "unexpected msgpack at byte {}: {what}", self.offset)
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// A msgpack string as it is on the wire: usually UTF-8, but nothing
/// guarantees it, so the bytes are kept and the caller picks how to treat
/// invalid sequences.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawStr<'a>(pub &'a [u8]);

impl<'a> RawStr<'a> {
    /// The bytes as they were encoded.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The string if it is valid UTF-8.
    pub fn to_str(&self) -> Result<&'a str, std::str::Utf8Error> {
        std::str::from_utf8(self.0)
    }

    /// The string with invalid sequences replaced by U+FFFD; borrows when
    /// the input is valid.
    pub fn to_str_lossy(&self) -> Cow<'a, str> {
        // `from_utf8` validates valid text faster than the lossy walk
        // (which goes chunk by chunk); that walk runs only for broken text.
        match std::str::from_utf8(self.0) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(self.0),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for RawStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_str_lossy(), f)
    }
}

impl PartialEq<str> for RawStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for RawStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// One msgpack value, borrowed from the buffer it was read from.
#[derive(Debug, Clone, Copy, PartialEq)]
// A word-sized tag: every payload starts one word in, so a value is
// copied as aligned words, not as a blob from offset 1 (where `Bool` and
// `Ext` would put their byte) whose unaligned loads stall. The same size
// (48 bytes on 64-bit targets), and `Option` of it still uses the tag's
// spare values.
#[repr(usize)]
pub enum Value<'a> {
    /// nil.
    Nil,
    /// true or false.
    Bool(bool),
    /// A negative integer (msgpack's signed encodings holding a value < 0).
    Int(i64),
    /// A non-negative integer, whichever encoding carried it.
    UInt(u64),
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// A string (bytes that are usually, not surely, UTF-8).
    Str(RawStr<'a>),
    /// A binary value.
    Bin(&'a [u8]),
    /// An array, decoded as it is iterated.
    Array(ArrayRef<'a>),
    /// A map, decoded as it is iterated.
    Map(MapRef<'a>),
    /// An extension value: its type and payload (Fluent Bit's event
    /// timestamps are type 0, 8 bytes).
    Ext(i8, &'a [u8]),
}

// What the layout note on `Value` says, checked.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Value<'static>>() == 48);
const _: () =
    assert!(std::mem::size_of::<Option<Value<'static>>>() == std::mem::size_of::<Value<'static>>());

impl<'a> Value<'a> {
    /// Reads the single value that `buf` holds; bytes after it are an error.
    pub fn from_slice(buf: &'a [u8]) -> Result<Value<'a>, DecodeError> {
        let mut r = Reader::new(buf);
        let v = r.read_value()?;
        if r.remaining() != 0 {
            return Err(r.error(DecodeErrorKind::Unexpected("trailing bytes")));
        }
        Ok(v)
    }

    /// The string, if the value is one.
    pub fn as_str(&self) -> Option<RawStr<'a>> {
        match self {
            Value::Str(s) => Some(*s),
            _ => None,
        }
    }

    /// The map, if the value is one.
    pub fn as_map(&self) -> Option<MapRef<'a>> {
        match self {
            Value::Map(m) => Some(*m),
            _ => None,
        }
    }

    /// The array, if the value is one.
    pub fn as_array(&self) -> Option<ArrayRef<'a>> {
        match self {
            Value::Array(a) => Some(*a),
            _ => None,
        }
    }

    /// The value as an i64 when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    /// The value as a u64 when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(u) => Some(u),
            _ => None,
        }
    }

    /// Any number as f64 (integers may lose precision above 2^53).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::UInt(u) => Some(u as f64),
            Value::F32(f) => Some(f64::from(f)),
            Value::F64(f) => Some(f),
            _ => None,
        }
    }

    /// The boolean, if the value is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Whether the value is nil.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}

/// A lazy view of a msgpack map. The whole map was validated when the view
/// was made, so iterating it cannot fail.
#[derive(Clone, Copy, PartialEq)]
pub struct MapRef<'a> {
    len: usize,
    /// The encoded entries, without the map header.
    entries: &'a [u8],
    /// The whole encoded map, header included.
    raw: &'a [u8],
}

impl<'a> MapRef<'a> {
    /// Number of key/value pairs.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The map exactly as it was encoded, header included; copying it is
    /// how an unchanged map is re-emitted without re-encoding.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The entries, in their encoded order (duplicate keys included).
    pub fn iter(&self) -> MapIter<'a> {
        MapIter {
            reader: Reader::new(self.entries),
            left: self.len,
        }
    }

    /// The value of the first entry whose key is the string `key`.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.get_bytes(key.as_bytes())
    }

    /// The value of the first entry whose key is a string of these bytes.
    pub fn get_bytes(&self, key: &[u8]) -> Option<Value<'a>> {
        self.iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if s.0 == key))
            .map(|(_, v)| v)
    }
}

impl fmt::Debug for MapRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for MapRef<'a> {
    type Item = (Value<'a>, Value<'a>);
    type IntoIter = MapIter<'a>;
    fn into_iter(self) -> MapIter<'a> {
        self.iter()
    }
}

/// The entries of a [`MapRef`], as `(key, value)`.
pub struct MapIter<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for MapIter<'a> {
    type Item = (Value<'a>, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The map was validated as a whole when its view was made; an error
        // here would mean a bug in this module, so iteration just stops.
        let k = self.reader.read_value().ok()?;
        let v = self.reader.read_value().ok()?;
        Some((k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// A lazy view of a msgpack array, validated as a whole when made.
#[derive(Clone, Copy, PartialEq)]
pub struct ArrayRef<'a> {
    len: usize,
    items: &'a [u8],
    raw: &'a [u8],
}

impl<'a> ArrayRef<'a> {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no items.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The array exactly as it was encoded, header included.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The items, in order.
    pub fn iter(&self) -> ArrayIter<'a> {
        ArrayIter {
            reader: Reader::new(self.items),
            left: self.len,
        }
    }

    /// The item at `index` (walks the items before it).
    pub fn get(&self, index: usize) -> Option<Value<'a>> {
        self.iter().nth(index)
    }
}

impl fmt::Debug for ArrayRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for ArrayRef<'a> {
    type Item = Value<'a>;
    type IntoIter = ArrayIter<'a>;
    fn into_iter(self) -> ArrayIter<'a> {
        self.iter()
    }
}

/// The items of an [`ArrayRef`].
pub struct ArrayIter<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.reader.read_value().ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// What a marker byte announces: a scalar of known size, or a container
/// with a count of children still to come.
enum Head {
    /// A complete value whose payload is `len` bytes after the header.
    Payload {
        len: usize,
    },
    Array(usize),
    Map(usize),
}

/// One step of a streaming read (see [`Reader::read_token`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Token<'a> {
    /// An array header; its `n` items follow, unread.
    Array(usize),
    /// A map header; its `n` key/value pairs follow, unread.
    Map(usize),
    /// A complete value that is not a container.
    Scalar(Value<'a>),
}

/// A cursor over a msgpack buffer.
#[derive(Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The whole buffer this reader walks.
    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }

    /// Moves past `n` bytes another reader read and checked.
    pub(crate) fn advance(&mut self, n: usize) {
        debug_assert!(n <= self.remaining());
        self.pos += n;
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            offset: self.pos,
            kind,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.error(DecodeErrorKind::Truncated));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn len8(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(self.byte()?))
    }

    fn len16(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(u16::from_be_bytes(self.be()?)))
    }

    fn len32(&mut self) -> Result<usize, DecodeError> {
        // usize is at least 32 bits on every target Fluent Bit runs on.
        Ok(u32::from_be_bytes(self.be()?) as usize)
    }

    /// Reads a marker and its length fields, leaving the cursor on the
    /// payload (scalars) or on the first child (containers).
    fn head(&mut self) -> Result<Head, DecodeError> {
        let at = self.pos;
        let marker = self.byte()?;
        let payload = |len| Ok(Head::Payload { len });
        // The marker bytes of the msgpack spec, matched directly (one jump
        // table, no marker enum built and matched again).
        match marker {
            // fixints, nil, false, true.
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => payload(0),
            // (u)int8 .. (u)int64, float 32 and 64.
            0xcc | 0xd0 => payload(1),
            0xcd | 0xd1 => payload(2),
            0xce | 0xd2 | 0xca => payload(4),
            0xcf | 0xd3 | 0xcb => payload(8),
            // fixstr; str and bin 8, 16, 32.
            0xa0..=0xbf => payload(usize::from(marker & 0x1f)),
            0xd9 | 0xc4 => payload(self.len8()?),
            0xda | 0xc5 => payload(self.len16()?),
            0xdb | 0xc6 => payload(self.len32()?),
            // fixext 1, 2, 4, 8, 16 (a type byte, then the data); ext 8,
            // 16, 32.
            0xd4 => payload(2),
            0xd5 => payload(3),
            0xd6 => payload(5),
            0xd7 => payload(9),
            0xd8 => payload(17),
            0xc7 => payload(self.len8()? + 1),
            0xc8 => payload(self.len16()? + 1),
            0xc9 => payload(self.len32()?.saturating_add(1)),
            // fixarray, array 16, 32; fixmap, map 16, 32.
            0x90..=0x9f => Ok(Head::Array(usize::from(marker & 0x0f))),
            0xdc => Ok(Head::Array(self.len16()?)),
            0xdd => Ok(Head::Array(self.len32()?)),
            0x80..=0x8f => Ok(Head::Map(usize::from(marker & 0x0f))),
            0xde => Ok(Head::Map(self.len16()?)),
            0xdf => Ok(Head::Map(self.len32()?)),
            // 0xc1, never used.
            _ => Err(DecodeError {
                offset: at,
                kind: DecodeErrorKind::ReservedMarker,
            }),
        }
    }

    /// Steps over the children of a container, however deeply nested,
    /// without recursion: one counter holds how many values are still owed.
    ///
    /// Every flush walks every record this way at least once, so every
    /// value whose marker alone gives its size (fixints, nil and booleans,
    /// fixstrs, fixmaps and fixarrays, fixed-width numbers, fixexts, the
    /// timestamps) is stepped over with one lookup in `STEP`, and str8 and
    /// bin8 (log lines) with their length byte; the rest go through `head`.
    fn skip_children(&mut self, mut pending: usize) -> Result<(), DecodeError> {
        let buf = self.buf;
        let mut pos = self.pos;
        while pending > 0 {
            // Every value takes at least one byte: a count larger than the
            // bytes left is a lie, refused before walking it.
            if pending > buf.len() - pos {
                self.pos = pos;
                return Err(DecodeError {
                    offset: buf.len(),
                    kind: DecodeErrorKind::Truncated,
                });
            }
            pending -= 1;
            let b = buf[pos];
            let step = STEP[usize::from(b)];
            let end = if step != 0 {
                pending += usize::from(step >> 8);
                pos + usize::from(step & 0xff)
            } else if b == 0xd9 || b == 0xc4 {
                // str8 and bin8: log lines longer than a fixstr.
                match buf.get(pos + 1) {
                    Some(&n) => pos + 2 + usize::from(n),
                    None => buf.len() + 1,
                }
            } else {
                self.pos = pos;
                match self.head()? {
                    Head::Payload { len } => {
                        self.take(len)?;
                    }
                    Head::Array(n) => pending = pending.saturating_add(n),
                    Head::Map(n) => pending = pending.saturating_add(n.saturating_mul(2)),
                }
                pos = self.pos;
                continue;
            };
            if end > buf.len() {
                self.pos = pos + 1;
                return Err(self.error(DecodeErrorKind::Truncated));
            }
            pos = end;
        }
        self.pos = pos;
        Ok(())
    }

    /// The commonest scalars (short strings, log lines up to 255 bytes,
    /// small integers) read straight from their marker byte; `None`, the
    /// cursor unmoved, for anything else or a string cut short (which the
    /// general path then reports).
    #[inline(always)]
    fn common_scalar(&mut self) -> Option<Value<'a>> {
        let start = self.pos;
        let (from, len) = match *self.buf.get(start)? {
            b @ 0x00..=0x7f => {
                self.pos = start + 1;
                return Some(Value::UInt(u64::from(b)));
            }
            b @ 0xa0..=0xbf => (start + 1, usize::from(b & 0x1f)),
            0xd9 => (start + 2, usize::from(*self.buf.get(start + 1)?)),
            _ => return None,
        };
        let s = self.buf.get(from..from + len)?;
        self.pos = from + len;
        Some(Value::Str(RawStr(s)))
    }

    /// Reads an array header and returns its length; `None` (cursor
    /// unmoved) when the next value is not an array.
    pub fn read_array_header(&mut self) -> Result<Option<usize>, DecodeError> {
        let start = self.pos;
        match self.head()? {
            Head::Array(n) => Ok(Some(n)),
            _ => {
                self.pos = start;
                Ok(None)
            }
        }
    }

    /// Reads one scalar, or only the header of a container, leaving the
    /// cursor on its first child. Walking a tree this way touches every
    /// byte once, however deep the nesting; [`Reader::read_value`] validates
    /// a container to its end on every call, so descending with it costs
    /// depth times size.
    // Inlined for the reason `read_value` is.
    #[inline(always)]
    pub fn read_token(&mut self) -> Result<Token<'a>, DecodeError> {
        if let Some(v) = self.common_scalar() {
            return Ok(Token::Scalar(v));
        }
        // Fixmaps and fixarrays (every record and most nested values) are
        // taken here too, though `head` knows them: through `head` and its
        // jump table the filter benchmark is 3.5% slower (measured).
        match self.buf.get(self.pos) {
            Some(&b @ 0x80..=0x8f) => {
                self.pos += 1;
                return Ok(Token::Map(usize::from(b & 0x0f)));
            }
            Some(&b @ 0x90..=0x9f) => {
                self.pos += 1;
                return Ok(Token::Array(usize::from(b & 0x0f)));
            }
            _ => {}
        }
        let marker = *self.buf.get(self.pos).ok_or(DecodeError {
            offset: self.pos,
            kind: DecodeErrorKind::Truncated,
        })?;
        match self.head()? {
            Head::Array(n) => Ok(Token::Array(n)),
            Head::Map(n) => Ok(Token::Map(n)),
            Head::Payload { len } => {
                let p = self.take(len)?;
                Ok(Token::Scalar(scalar(marker, p)))
            }
        }
    }

    /// Steps over one value, checking it is complete and well-formed.
    pub fn skip(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        self.skip_children(1)?;
        Ok(&self.buf[start..self.pos])
    }

    /// Reads one value. Containers are validated to their end and returned
    /// as lazy views.
    // Inlined: a 48-byte value returned through memory is copied out
    // right after the call with loads wider than the callee's stores,
    // which stall (no store-to-load forwarding).
    #[inline(always)]
    pub fn read_value(&mut self) -> Result<Value<'a>, DecodeError> {
        let start = self.pos;
        if let Some(v) = self.common_scalar() {
            return Ok(v);
        }
        let marker = *self.buf.get(self.pos).ok_or(DecodeError {
            offset: self.pos,
            kind: DecodeErrorKind::Truncated,
        })?;
        match self.head()? {
            Head::Array(n) => {
                let items_start = self.pos;
                self.skip_children(n)?;
                Ok(Value::Array(ArrayRef {
                    len: n,
                    items: &self.buf[items_start..self.pos],
                    raw: &self.buf[start..self.pos],
                }))
            }
            Head::Map(n) => {
                let entries_start = self.pos;
                self.skip_children(n.saturating_mul(2))?;
                Ok(Value::Map(MapRef {
                    len: n,
                    entries: &self.buf[entries_start..self.pos],
                    raw: &self.buf[start..self.pos],
                }))
            }
            Head::Payload { len } => {
                let p = self.take(len)?;
                Ok(scalar(marker, p))
            }
        }
    }
}

/// Reads one value token by token and keeps count of what is still owed
/// to complete it, so that a reader that stops early (or reads nothing)
/// leaves the rest to [`ValueReader::complete`], which checks it. One walk
/// then both reads and validates the value: an event's body handed to a
/// filter as it is read ([`crate::FilterPlugin::filter_body`]) is not
/// walked a second time to find where it ends.
///
/// Offsets ([`ValueReader::position`]) count from the value's first byte.
/// Reading past the value's end is an error, not a read of what follows.
#[derive(Clone)]
pub struct ValueReader<'a> {
    r: Reader<'a>,
    /// Values still to read: one for the value itself, then, for every
    /// container header read, its children.
    owed: usize,
    /// The first read that failed: every later one fails the same way,
    /// [`ValueReader::complete`] included (after a failed read, where the
    /// value goes on is unknown).
    failed: Option<DecodeError>,
}

impl<'a> ValueReader<'a> {
    /// A reader of the value that starts at the first byte of `buf`
    /// (bytes after it are left alone).
    pub fn new(buf: &'a [u8]) -> Self {
        ValueReader {
            r: Reader::new(buf),
            owed: 1,
            failed: None,
        }
    }

    /// Offset of the next byte to read, from the value's start.
    pub fn position(&self) -> usize {
        self.r.position()
    }

    /// Whether the whole value has been read.
    pub fn is_complete(&self) -> bool {
        self.owed == 0 && self.failed.is_none()
    }

    /// Counts one value as read; an error past the value's end or after a
    /// failed read (which leaves nothing owed).
    #[inline(always)]
    fn owe_one(&mut self) -> Result<(), DecodeError> {
        if self.owed == 0 {
            return Err(self.ended());
        }
        self.owed -= 1;
        Ok(())
    }

    #[cold]
    fn ended(&mut self) -> DecodeError {
        match &self.failed {
            Some(e) => e.clone(),
            None => self.fail(self.r.error(DecodeErrorKind::Unexpected(
                "read past the end of the value",
            ))),
        }
    }

    #[cold]
    fn fail(&mut self, e: DecodeError) -> DecodeError {
        self.owed = 0;
        self.failed = Some(e.clone());
        e
    }

    /// Reads the next token (see [`Reader::read_token`]).
    #[inline(always)]
    pub fn read_token(&mut self) -> Result<Token<'a>, DecodeError> {
        self.owe_one()?;
        match self.r.read_token() {
            Ok(t) => {
                match t {
                    Token::Array(n) => self.owed = self.owed.saturating_add(n),
                    Token::Map(n) => {
                        self.owed = self.owed.saturating_add(n.saturating_mul(2));
                    }
                    Token::Scalar(_) => {}
                }
                Ok(t)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Reads the next value whole (see [`Reader::read_value`]).
    #[inline(always)]
    pub fn read_value(&mut self) -> Result<Value<'a>, DecodeError> {
        self.owe_one()?;
        match self.r.read_value() {
            Ok(v) => Ok(v),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Steps over the next value (see [`Reader::skip`]).
    #[inline]
    pub fn skip(&mut self) -> Result<&'a [u8], DecodeError> {
        self.owe_one()?;
        self.r.skip().map_err(|e| self.fail(e))
    }

    /// Reads what is still owed, checking it, and returns the whole value's
    /// bytes. Can be called at any point, and again.
    pub fn complete(&mut self) -> Result<&'a [u8], DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let owed = std::mem::take(&mut self.owed);
        if let Err(e) = self.r.skip_children(owed) {
            return Err(self.fail(e));
        }
        Ok(&self.r.buf()[..self.r.position()])
    }

    /// The value, completed, as a map; an error if it is no map.
    pub fn complete_map(&mut self) -> Result<MapRef<'a>, DecodeError> {
        let raw = self.complete()?;
        let mut header = Reader::new(raw);
        match header.head() {
            Ok(Head::Map(len)) => Ok(MapRef {
                len,
                entries: &raw[header.position()..],
                raw,
            }),
            _ => Err(DecodeError {
                offset: 0,
                kind: DecodeErrorKind::Unexpected("not a map"),
            }),
        }
    }
}

/// Whether `marker` begins a map: a fixmap, map 16 or map 32.
pub fn is_map_marker(marker: u8) -> bool {
    matches!(marker, 0x80..=0x8f | 0xde | 0xdf)
}

/// How `skip_children` steps over a value that its marker alone
/// describes: the low byte is the value's whole size in bytes, the high
/// byte how many children follow it (a fixmap's keys and values, a
/// fixarray's items). 0: read the length fields (`Reader::head`).
const STEP: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b {
            0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => 1,
            0x80..=0x8f => 1 | ((2 * (b as u16 & 0x0f)) << 8),
            0x90..=0x9f => 1 | ((b as u16 & 0x0f) << 8),
            0xa0..=0xbf => 1 + (b as u16 & 0x1f),
            0xcc | 0xd0 => 2,
            0xcd | 0xd1 => 3,
            0xce | 0xd2 | 0xca => 5,
            0xcf | 0xd3 | 0xcb => 9,
            0xd4 => 3,
            0xd5 => 4,
            0xd6 => 6,
            0xd7 => 10,
            0xd8 => 18,
            _ => 0,
        };
        b += 1;
    }
    t
};

/// Builds a scalar from its marker and payload (lengths already checked).
fn scalar(marker: u8, p: &[u8]) -> Value<'_> {
    let arr = |n: usize| -> [u8; 8] {
        let mut a = [0u8; 8];
        a[8 - n..].copy_from_slice(&p[..n]);
        a
    };
    let uint = |n| u64::from_be_bytes(arr(n));
    let sint = |n: usize| {
        let v = u64::from_be_bytes(arr(n));
        // Sign-extend from n bytes.
        let shift = 64 - 8 * n as u32;
        ((v << shift) as i64) >> shift
    };
    let int = |i: i64| {
        if i < 0 {
            Value::Int(i)
        } else {
            Value::UInt(i as u64)
        }
    };
    match marker {
        0x00..=0x7f => Value::UInt(u64::from(marker)),
        0xe0..=0xff => Value::Int(i64::from(marker as i8)),
        0xc0 => Value::Nil,
        0xc2 => Value::Bool(false),
        0xc3 => Value::Bool(true),
        0xcc => Value::UInt(uint(1)),
        0xcd => Value::UInt(uint(2)),
        0xce => Value::UInt(uint(4)),
        0xcf => Value::UInt(uint(8)),
        0xd0 => int(sint(1)),
        0xd1 => int(sint(2)),
        0xd2 => int(sint(4)),
        0xd3 => int(sint(8)),
        0xca => Value::F32(f32::from_bits(uint(4) as u32)),
        0xcb => Value::F64(f64::from_bits(uint(8))),
        0xa0..=0xbf | 0xd9..=0xdb => Value::Str(RawStr(p)),
        0xc4..=0xc6 => Value::Bin(p),
        0xd4..=0xd8 | 0xc7..=0xc9 => Value::Ext(p[0] as i8, &p[1..]),
        // Containers and the reserved marker never reach here.
        _ => Value::Nil,
    }
}
