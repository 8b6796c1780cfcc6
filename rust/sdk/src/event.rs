//! Fluent Bit log events as they arrive in a chunk.
//!
//! A chunk is a plain concatenation of events. Fluent Bit writes
//! `[[timestamp, metadata], body]` since 2.1 (here [`EventFormat::V2`]) and
//! still accepts the older `[timestamp, body]` ([`EventFormat::Legacy`]);
//! both may meet a plugin, even in one chunk. A timestamp is an EventTime
//! (msgpack ext type 0: u32 seconds, u32 nanoseconds, big-endian), an
//! integer of seconds, or a float of seconds. Group markers (OpenTelemetry
//! resource groups) are events whose EventTime seconds are 0xffffffff
//! (start) or 0xfffffffe (end).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::msgpack::{DecodeError, DecodeErrorKind, MapRef, Reader, Value, ValueReader};

/// A point in time as Fluent Bit carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventTime {
    /// Seconds since the Unix epoch (negative before 1970).
    pub seconds: i64,
    /// Nanoseconds within the second, below 1,000,000,000.
    pub nanos: u32,
}

impl EventTime {
    /// A time from seconds since the epoch and nanoseconds.
    pub const fn new(seconds: i64, nanos: u32) -> Self {
        EventTime { seconds, nanos }
    }

    /// The system clock's time (the epoch if the clock is before it).
    pub fn now() -> Self {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => EventTime::new(d.as_secs() as i64, d.subsec_nanos()),
            Err(_) => EventTime::default(),
        }
    }

    /// Seconds as EventTime's u32 field. Times outside 1970..2106 cannot be
    /// represented there; they are clamped.
    pub fn seconds_u32(&self) -> u32 {
        self.seconds.clamp(0, i64::from(u32::MAX)) as u32
    }

    /// Seconds since the epoch as a float, as Fluent Bit's legacy
    /// timestamps carry it (precision below a microsecond is lost).
    pub fn as_f64(&self) -> f64 {
        self.seconds as f64 + f64::from(self.nanos) / 1e9
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(&self) -> SystemTime {
        if self.seconds >= 0 {
            UNIX_EPOCH + Duration::new(self.seconds as u64, self.nanos)
        } else {
            UNIX_EPOCH - Duration::from_secs(self.seconds.unsigned_abs())
                + Duration::from_nanos(u64::from(self.nanos))
        }
    }

    /// Fluent Bit's event time: extension type 0, seconds and
    /// nanoseconds as two big-endian u32 (group markers have -1 and -2 as
    /// seconds: their u32 forms).
    fn from_ext(d: &[u8]) -> Option<(EventTime, EventKind)> {
        let d: &[u8; 8] = d.try_into().ok()?;
        let s = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
        let n = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
        let kind = match (s, n) {
            (u32::MAX, 0) => EventKind::GroupStart,
            (s, 0) if s == u32::MAX - 1 => EventKind::GroupEnd,
            _ => EventKind::Record,
        };
        if n >= 1_000_000_000 {
            return None;
        }
        Some((EventTime::new(i64::from(s), n), kind))
    }

    fn from_value(v: &Value<'_>) -> Option<(EventTime, EventKind)> {
        match *v {
            Value::Ext(0, d) => Self::from_ext(d),
            Value::UInt(s) => Some((EventTime::new(i64::try_from(s).ok()?, 0), EventKind::Record)),
            Value::Int(-1) => Some((EventTime::new(-1, 0), EventKind::GroupStart)),
            Value::Int(-2) => Some((EventTime::new(-2, 0), EventKind::GroupEnd)),
            Value::F64(f) => float_time(f),
            Value::F32(f) => float_time(f64::from(f)),
            _ => None,
        }
    }
}

fn float_time(f: f64) -> Option<(EventTime, EventKind)> {
    if !f.is_finite() || f < 0.0 || f > i64::MAX as f64 {
        return None;
    }
    let s = f.trunc();
    let n = ((f - s) * 1e9) as u32;
    Some((
        EventTime::new(s as i64, n.min(999_999_999)),
        EventKind::Record,
    ))
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.seconds, self.nanos)
    }
}

/// How an event was framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// `[timestamp, body]`
    Legacy,
    /// `[[timestamp, metadata], body]`
    V2,
}

/// What an event stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An ordinary log record.
    Record,
    /// Opens a group; its body holds the group's attributes.
    GroupStart,
    /// Closes the group opened last.
    GroupEnd,
}

/// One event of a chunk, borrowed from it.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// The event's timestamp.
    pub time: EventTime,
    /// A record or a group marker.
    pub kind: EventKind,
    /// How the event was encoded (legacy or with metadata).
    pub format: EventFormat,
    /// The metadata map (V2), `None` for the legacy format.
    pub metadata: Option<MapRef<'a>>,
    /// The record itself.
    pub body: MapRef<'a>,
    /// The whole event as encoded, to copy it unchanged.
    pub raw: &'a [u8],
    /// Offset of [`Event::raw`] in the chunk.
    pub offset: usize,
}

impl<'a> Event<'a> {
    /// Looks up a top-level key of the body.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.body.get(key)
    }

    /// Whether this is an ordinary record (not a group marker).
    pub fn is_record(&self) -> bool {
        self.kind == EventKind::Record
    }

    /// The event up to its body.
    pub fn head(&self) -> EventHead<'a> {
        EventHead {
            time: self.time,
            kind: self.kind,
            format: self.format,
            metadata: self.metadata,
            offset: self.offset,
        }
    }
}

/// An event read as far as its body: what [`Events::next_with_body`]
/// knows before the body is read.
#[derive(Debug, Clone, Copy)]
pub struct EventHead<'a> {
    /// The event's timestamp.
    pub time: EventTime,
    /// A record or a group marker.
    pub kind: EventKind,
    /// How the event was encoded (legacy or with metadata).
    pub format: EventFormat,
    /// The metadata map (V2), `None` for the legacy format.
    pub metadata: Option<MapRef<'a>>,
    /// Offset of the event in the chunk.
    pub offset: usize,
}

fn not_a_map(offset: usize) -> DecodeError {
    DecodeError {
        offset,
        kind: DecodeErrorKind::Unexpected("an event's body must be a map"),
    }
}

/// The events of a chunk, in order. Group markers are included (see
/// [`Event::kind`]); [`Events::records`] skips them.
///
/// Iteration yields an error for the first event that is malformed and
/// then stops: after a broken event, where the next one starts is unknown.
#[derive(Clone)]
pub struct Events<'a> {
    reader: Reader<'a>,
    done: bool,
}

impl<'a> Events<'a> {
    /// The events encoded in `buf`, a chunk's bytes.
    pub fn new(buf: &'a [u8]) -> Self {
        Events {
            reader: Reader::new(buf),
            done: false,
        }
    }

    /// Only ordinary records; errors are still reported.
    pub fn records(self) -> impl Iterator<Item = Result<Event<'a>, DecodeError>> {
        self.filter(|e| !matches!(e, Ok(ev) if ev.kind != EventKind::Record))
    }

    /// Decodes one event, reading each byte once: the outer array's header,
    /// then the timestamp (or the V2 header), then the body, each validated
    /// as it is read.
    fn decode_one(&mut self) -> Result<Event<'a>, DecodeError> {
        let head = self.read_head()?;
        let body = self.reader.read_value()?;
        let body = body.as_map().ok_or_else(|| not_a_map(head.offset))?;
        Ok(self.event(head, body))
    }

    /// Reads an event up to its body.
    fn read_head(&mut self) -> Result<EventHead<'a>, DecodeError> {
        let offset = self.reader.position();
        if let Some(head) = self.read_usual_head(offset) {
            return Ok(head);
        }
        let shape = |what| DecodeError {
            offset,
            kind: DecodeErrorKind::Unexpected(what),
        };
        if self.reader.read_array_header()? != Some(2) {
            return Err(shape("an event must be an array of two elements"));
        }
        // The header is read in place: [timestamp, metadata] or, in the
        // legacy format, the timestamp alone.
        let (ts, metadata, format) = match self.reader.read_array_header()? {
            Some(2) => {
                let ts = self.reader.read_value()?;
                match self.reader.read_value()? {
                    Value::Map(m) => (ts, Some(m), EventFormat::V2),
                    _ => return Err(shape("an event header must be [timestamp, metadata map]")),
                }
            }
            Some(_) => return Err(shape("an event header must be [timestamp, metadata map]")),
            None => (self.reader.read_value()?, None, EventFormat::Legacy),
        };
        let (time, kind) =
            EventTime::from_value(&ts).ok_or_else(|| shape("invalid event timestamp"))?;
        Ok(EventHead {
            time,
            kind,
            format,
            metadata,
            offset,
        })
    }

    /// The header as Fluent Bit writes it, `[[fixext 8 time, metadata map],`,
    /// read straight from its first twelve bytes; `None`, the reader
    /// unmoved, for any other (the general path then reads or refuses it).
    /// Every event of every chunk starts here, so it is worth its bytes.
    fn read_usual_head(&mut self, offset: usize) -> Option<EventHead<'a>> {
        let b = self.reader.buf().get(offset..offset + 12)?;
        if b[..4] != [0x92, 0x92, 0xd7, 0x00] {
            return None;
        }
        let (time, kind) = EventTime::from_ext(&b[4..])?;
        let mut r = self.reader.clone();
        r.advance(12);
        let Ok(Value::Map(metadata)) = r.read_value() else {
            return None;
        };
        self.reader = r;
        Some(EventHead {
            time,
            kind,
            format: EventFormat::V2,
            metadata: Some(metadata),
            offset,
        })
    }

    /// The event whose body, ending where the reader is, is `body`.
    fn event(&self, head: EventHead<'a>, body: MapRef<'a>) -> Event<'a> {
        Event {
            time: head.time,
            kind: head.kind,
            format: head.format,
            metadata: head.metadata,
            body,
            raw: &self.reader_buf()[head.offset..self.reader.position()],
            offset: head.offset,
        }
    }

    /// Reads the next event, handing its body to `read_body` to be read as
    /// it is checked, so that each byte is walked once (see
    /// [`ValueReader`]). The body is known to be a map (from its first
    /// byte) before `read_body` is called; whatever it did not read is read
    /// and checked after it returns.
    ///
    /// Returns the event and what `read_body` returned, or the first
    /// malformation, after which iteration stops as for
    /// [`Iterator::next`]; with a malformed body, what `read_body` made of
    /// it is dropped.
    pub fn next_with_body<T>(
        &mut self,
        read_body: impl FnOnce(&EventHead<'a>, &mut ValueReader<'a>) -> T,
    ) -> Option<Result<(Event<'a>, T), DecodeError>> {
        if self.done || self.reader.is_empty() {
            return None;
        }
        let r = self.read_head().and_then(|head| {
            let at = self.reader.position();
            let rest = &self.reader_buf()[at..];
            if !rest
                .first()
                .is_some_and(|&b| crate::msgpack::is_map_marker(b))
            {
                return Err(not_a_map(head.offset));
            }
            let mut body = ValueReader::new(rest);
            let made = read_body(&head, &mut body);
            let map = body.complete_map().map_err(|e| DecodeError {
                offset: at + e.offset,
                ..e
            })?;
            self.reader.advance(map.raw().len());
            Ok((self.event(head, map), made))
        });
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }

    fn reader_buf(&self) -> &'a [u8] {
        self.reader.buf()
    }
}

impl<'a> Iterator for Events<'a> {
    type Item = Result<Event<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.reader.is_empty() {
            return None;
        }
        let r = self.decode_one();
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

/// What an output receives in one flush: the tag and the encoded events.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// The tag of every event in the chunk.
    pub tag: &'a str,
    /// The encoded events; read them with [`Chunk::records`].
    pub data: &'a [u8],
    origin: usize,
}

impl<'a> Chunk<'a> {
    /// A chunk of `data` under `tag`, its origin being `data` itself.
    pub fn new(tag: &'a str, data: &'a [u8]) -> Self {
        Chunk {
            tag,
            data,
            origin: data.as_ptr() as usize,
        }
    }

    /// A chunk whose bytes are, or were copied from, the host's buffer at
    /// `origin`.
    pub fn with_origin(tag: &'a str, data: &'a [u8], origin: usize) -> Self {
        Chunk { tag, data, origin }
    }

    /// The address of the host's buffer this chunk is (or was copied
    /// from): the
    /// same for every flush of one Fluent Bit task while the task lives
    /// (unless the output has processors, which make a buffer per flush).
    /// An output that keeps state per chunk in retry uses it to tell a
    /// second dispatch of the same task from another chunk with the same
    /// bytes: Fluent Bit 3.2 dispatches a task whose retry is running a
    /// second time when it starts to shut down (5.1 skips a task in use).
    pub fn origin(&self) -> usize {
        self.origin
    }

    /// Every event, group markers included.
    pub fn events(&self) -> Events<'a> {
        Events::new(self.data)
    }

    /// Ordinary records only.
    pub fn records(&self) -> impl Iterator<Item = Result<Event<'a>, DecodeError>> {
        self.events().records()
    }

    /// Ordinary records up to the first malformed event; afterwards
    /// [`RecordsUntilError::error`] says what stopped them. The loop every
    /// output writes: deliver the good prefix, then report the damage.
    pub fn records_until_error(&self) -> RecordsUntilError<'a> {
        RecordsUntilError {
            events: self.events(),
            error: None,
        }
    }
}

/// See [`Chunk::records_until_error`].
pub struct RecordsUntilError<'a> {
    events: Events<'a>,
    error: Option<DecodeError>,
}

impl RecordsUntilError<'_> {
    /// Why iteration stopped early, if it did.
    pub fn error(&self) -> Option<&DecodeError> {
        self.error.as_ref()
    }

    /// Why iteration stopped early, if it did, by value.
    pub fn into_error(self) -> Option<DecodeError> {
        self.error
    }
}

impl<'a> Iterator for RecordsUntilError<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            match self.events.next()? {
                Ok(ev) if ev.kind == EventKind::Record => return Some(ev),
                Ok(_) => continue,
                Err(e) => {
                    self.error = Some(e);
                    return None;
                }
            }
        }
    }
}
