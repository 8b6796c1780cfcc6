//! Writing msgpack: values, maps and whole Fluent Bit events.
//!
//! Writes go to a `Vec<u8>`, which cannot fail, so the `rmp` results are
//! dropped on purpose.

use crate::event::{EventFormat, EventTime};
use crate::msgpack::Value;

/// Appends msgpack values to a byte buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty buffer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }

    /// What was written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The buffer, without copying.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets what was written, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear()
    }

    /// Appends bytes that already are msgpack (a value copied unchanged).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// A nil.
    pub fn nil(&mut self) {
        let _ = rmp::encode::write_nil(&mut self.buf);
    }

    /// A boolean.
    pub fn bool(&mut self, v: bool) {
        let _ = rmp::encode::write_bool(&mut self.buf, v);
    }

    /// An unsigned integer, in its shortest form.
    pub fn uint(&mut self, v: u64) {
        let _ = rmp::encode::write_uint(&mut self.buf, v);
    }

    /// A signed integer, in its shortest form.
    pub fn int(&mut self, v: i64) {
        let _ = rmp::encode::write_sint(&mut self.buf, v);
    }

    /// A 64-bit float.
    pub fn f64(&mut self, v: f64) {
        let _ = rmp::encode::write_f64(&mut self.buf, v);
    }

    /// A string.
    pub fn str(&mut self, s: &str) {
        self.str_bytes(s.as_bytes());
    }

    /// A msgpack string from bytes that may not be UTF-8 (passing a value
    /// through unchanged must not repair it behind the plugin's back).
    pub fn str_bytes(&mut self, s: &[u8]) {
        let _ = rmp::encode::write_str_len(&mut self.buf, len32(s.len()));
        self.buf.extend_from_slice(s);
    }

    /// A binary value.
    pub fn bin(&mut self, b: &[u8]) {
        let _ = rmp::encode::write_bin_len(&mut self.buf, len32(b.len()));
        self.buf.extend_from_slice(b);
    }

    /// An extension value of type `ty` (Fluent Bit's timestamps are type 0).
    pub fn ext(&mut self, ty: i8, data: &[u8]) {
        let _ = rmp::encode::write_ext_meta(&mut self.buf, len32(data.len()), ty);
        self.buf.extend_from_slice(data);
    }

    /// The header of an array of `n` items; the caller writes them next.
    /// Prefer [`Writer::array`], which counts them.
    pub fn array_len(&mut self, n: u32) {
        let _ = rmp::encode::write_array_len(&mut self.buf, n);
    }

    /// The header of a map of `n` entries; the caller writes `2 n` values
    /// next. Prefer [`Writer::map`], which counts them.
    pub fn map_len(&mut self, n: u32) {
        let _ = rmp::encode::write_map_len(&mut self.buf, n);
    }

    /// Writes a value read elsewhere; maps and arrays are copied as they
    /// were encoded, without walking them.
    pub fn value(&mut self, v: &Value<'_>) {
        match *v {
            Value::Nil => self.nil(),
            Value::Bool(b) => self.bool(b),
            Value::Int(i) => self.int(i),
            Value::UInt(u) => self.uint(u),
            Value::F32(f) => {
                let _ = rmp::encode::write_f32(&mut self.buf, f);
            }
            Value::F64(f) => self.f64(f),
            Value::Str(s) => self.str_bytes(s.as_bytes()),
            Value::Bin(b) => self.bin(b),
            Value::Array(a) => self.raw(a.raw()),
            Value::Map(m) => self.raw(m.raw()),
            Value::Ext(t, d) => self.ext(t, d),
        }
    }

    /// The Fluent Bit timestamp as EventTime: msgpack ext type 0 holding
    /// seconds and nanoseconds as two big-endian u32.
    pub fn event_time(&mut self, t: EventTime) {
        let mut d = [0u8; 8];
        d[..4].copy_from_slice(&t.seconds_u32().to_be_bytes());
        d[4..].copy_from_slice(&t.nanos.to_be_bytes());
        self.ext(0, &d);
    }

    /// Writes a map whose entries are added by `f`; the entry count is
    /// patched in afterwards, so `f` need not know it in advance.
    pub fn map(&mut self, f: impl FnOnce(&mut MapWriter<'_>)) {
        let header = self.buf.len();
        // map32 header with a placeholder count: valid msgpack at any size.
        self.buf.extend_from_slice(&[0xdf, 0, 0, 0, 0]);
        let mut m = MapWriter { w: self, count: 0 };
        f(&mut m);
        let count = m.count;
        self.buf[header + 1..header + 5].copy_from_slice(&count.to_be_bytes());
    }

    /// Writes an array whose items are added by `f`.
    pub fn array(&mut self, f: impl FnOnce(&mut ArrayWriter<'_>)) {
        let header = self.buf.len();
        self.buf.extend_from_slice(&[0xdd, 0, 0, 0, 0]);
        let mut a = ArrayWriter { w: self, count: 0 };
        f(&mut a);
        let count = a.count;
        self.buf[header + 1..header + 5].copy_from_slice(&count.to_be_bytes());
    }
}

/// Lengths above u32::MAX cannot be encoded in msgpack; records that large
/// never reach a plugin (Fluent Bit's chunks are far smaller), so the length
/// is clamped rather than made an error on every call.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Adds entries to a map being written; see [`Writer::map`].
pub struct MapWriter<'w> {
    w: &'w mut Writer,
    count: u32,
}

impl MapWriter<'_> {
    /// Adds the key and returns the [`Writer`] that the caller must then
    /// write exactly one value with.
    pub fn key(&mut self, key: &str) -> &mut Writer {
        self.count += 1;
        self.w.str(key);
        self.w
    }

    /// Adds an entry copied from a map that was read.
    pub fn entry(&mut self, key: &Value<'_>, value: &Value<'_>) {
        self.count += 1;
        self.w.value(key);
        self.w.value(value);
    }

    /// An entry with a string value.
    pub fn str(&mut self, key: &str, v: &str) {
        self.key(key).str(v);
    }

    /// An entry with an unsigned integer value.
    pub fn uint(&mut self, key: &str, v: u64) {
        self.key(key).uint(v);
    }

    /// An entry with a signed integer value.
    pub fn int(&mut self, key: &str, v: i64) {
        self.key(key).int(v);
    }

    /// An entry with a float value.
    pub fn f64(&mut self, key: &str, v: f64) {
        self.key(key).f64(v);
    }

    /// An entry with a boolean value.
    pub fn bool(&mut self, key: &str, v: bool) {
        self.key(key).bool(v);
    }

    /// An entry with a nil value.
    pub fn nil(&mut self, key: &str) {
        self.key(key).nil();
    }

    /// An entry whose value is copied from a value that was read.
    pub fn value(&mut self, key: &str, v: &Value<'_>) {
        self.key(key).value(v);
    }

    /// An entry whose value is a map, written by `f`.
    pub fn map(&mut self, key: &str, f: impl FnOnce(&mut MapWriter<'_>)) {
        self.key(key).map(f);
    }

    /// An entry whose value is an array, written by `f`.
    pub fn array(&mut self, key: &str, f: impl FnOnce(&mut ArrayWriter<'_>)) {
        self.key(key).array(f);
    }

    /// Entries added so far.
    pub fn count(&self) -> u32 {
        self.count
    }
}

/// Adds items to an array being written; see [`Writer::array`].
pub struct ArrayWriter<'w> {
    w: &'w mut Writer,
    count: u32,
}

impl ArrayWriter<'_> {
    /// Adds one item, written by the caller through the returned writer.
    pub fn item(&mut self) -> &mut Writer {
        self.count += 1;
        self.w
    }

    /// A string item.
    pub fn str(&mut self, v: &str) {
        self.item().str(v);
    }

    /// An item copied from a value that was read.
    pub fn value(&mut self, v: &Value<'_>) {
        self.item().value(v);
    }
}

/// Builds a buffer of Fluent Bit log events, ready for the host's append
/// (inputs) or as a filter's output.
#[derive(Debug, Clone)]
pub struct EventEncoder {
    w: Writer,
    format: EventFormat,
    records: usize,
}

impl Default for EventEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl EventEncoder {
    /// Encodes Fluent Bit's current format, `[[timestamp, metadata], body]`.
    pub fn new() -> Self {
        Self::with_format(EventFormat::V2)
    }

    /// Encodes events in `format` (a filter writes the format of the chunk
    /// it was given).
    pub fn with_format(format: EventFormat) -> Self {
        Self::with_capacity(format, 0)
    }

    /// Encodes events in `format` into a buffer with room for `n` bytes
    /// (a filter that rewrites a chunk needs about the chunk's size: one
    /// allocation instead of a doubling series of copies).
    pub fn with_capacity(format: EventFormat, n: usize) -> Self {
        EventEncoder {
            w: Writer::with_capacity(n),
            format,
            records: 0,
        }
    }

    /// The format events are written in.
    pub fn format(&self) -> EventFormat {
        self.format
    }

    /// Number of events written so far.
    pub fn records(&self) -> usize {
        self.records
    }

    /// Whether no event was written.
    pub fn is_empty(&self) -> bool {
        self.w.is_empty()
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// The events written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.w.as_bytes()
    }

    /// The buffer, without copying.
    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_bytes()
    }

    /// Forgets every event, keeping the allocation.
    pub fn clear(&mut self) {
        self.w.clear();
        self.records = 0;
    }

    /// Appends one event copied unchanged, for instance [`crate::Event::raw`].
    pub fn raw_event(&mut self, raw: &[u8]) {
        self.w.raw(raw);
        self.records += 1;
    }

    /// Appends bytes that hold any number of complete events.
    pub fn raw_events(&mut self, raw: &[u8]) {
        self.w.raw(raw);
    }

    /// Writes an event with empty metadata; `body` adds the record's fields.
    pub fn record(&mut self, time: EventTime, body: impl FnOnce(&mut MapWriter<'_>)) {
        self.record_with_metadata(time, None, body)
    }

    /// Writes an event whose metadata map is copied from `metadata` (V2
    /// only; the legacy format has no metadata and drops it).
    pub fn record_with_metadata(
        &mut self,
        time: EventTime,
        metadata: Option<&Value<'_>>,
        body: impl FnOnce(&mut MapWriter<'_>),
    ) {
        let metadata = match metadata {
            Some(Value::Map(m)) => Some(m.raw()),
            _ => None,
        };
        self.event(time, |w| copy_map(w, metadata), |w| w.map(body));
    }

    /// Writes an event from an already encoded body map, and metadata map
    /// when given (V2 only): for plugins that rebuild a record with a
    /// [`Writer`] of their own, such as one that rewrites nested values.
    pub fn record_encoded(&mut self, time: EventTime, metadata: Option<&[u8]>, body: &[u8]) {
        self.event(time, |w| copy_map(w, metadata), |w| w.raw(body));
    }

    /// Writes an event whose metadata map and body map are both written by
    /// the caller, straight into the encoder (the legacy format has no
    /// metadata: `metadata` is not called).
    pub fn record_with(
        &mut self,
        time: EventTime,
        metadata: impl FnOnce(&mut MapWriter<'_>),
        body: impl FnOnce(&mut MapWriter<'_>),
    ) {
        self.event(time, |w| w.map(metadata), |w| w.map(body));
    }

    /// One event in this encoder's format: `[[time, metadata], body]` (V2)
    /// or `[time, body]` (legacy, where `metadata` is not called).
    fn event(
        &mut self,
        time: EventTime,
        metadata: impl FnOnce(&mut Writer),
        body: impl FnOnce(&mut Writer),
    ) {
        self.w.array_len(2);
        match self.format {
            EventFormat::V2 => {
                self.w.array_len(2);
                self.w.event_time(time);
                metadata(&mut self.w);
            }
            EventFormat::Legacy => self.w.event_time(time),
        }
        body(&mut self.w);
        self.records += 1;
    }
}

/// An encoded metadata map copied as it is, or an empty one.
fn copy_map(w: &mut Writer, map: Option<&[u8]>) {
    match map {
        Some(m) => w.raw(m),
        None => w.map_len(0),
    }
}
