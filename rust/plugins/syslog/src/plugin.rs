//! `rs_syslog`: the output plugin. It takes the built-in `syslog` output's
//! keys with the same meanings and defaults, so replacing `Name syslog` by
//! `Name rs_syslog` is enough, and adds what the built-in one lacks
//! (octet-counting framing by default, record accessor paths, a Kubernetes
//! preset, Unix sockets, UTF-8 safe truncation).
//!
//! A flush returns OK only once every record of the chunk was written; a
//! failed connect or write returns RETRY, so Fluent Bit keeps the chunk.

use std::time::Duration;

use flb_rs_sdk::accessor::RecordAccessor;
use flb_rs_sdk::prelude::*;
use flb_rs_sdk::{DecodeError, EventKind, Events};

use crate::format::{self, Options};
use crate::framing::Framing;
use crate::mapping::{Field, Issues, Kubernetes, Mapping, SdKey};
use crate::message::Message;
use crate::retry::{fingerprint, Retries};
use crate::time::parse_offset;
use crate::transport::{Mode, SendError, Sender, Settings, Tls, TlsSettings};

config_struct! {
    pub struct SyslogConfig {
        /// Host name or address of the receiver (re-resolved on every connect).
        pub host: String = "127.0.0.1",
        /// Port of the receiver.
        pub port: u16 = "514",
        /// Transport: udp, tcp, tls, relp, unix_dgram or unix_stream.
        pub mode: String = "udp",
        /// Socket path for the unix_dgram and unix_stream modes.
        pub path: String = "/dev/log",
        /// Message format: rfc5424 or rfc3164.
        pub syslog_format: String = "rfc5424",
        /// Largest message in bytes; 0 means 2048 for rfc5424 and 1024 for rfc3164.
        /// Longer messages are cut on a UTF-8 character boundary and counted.
        pub syslog_maxsize: ByteSize = "0",
        /// Field with the severity: a number 0-7 or a name (err, warning, info...).
        pub syslog_severity_key: Option<String>,
        /// Severity when the record has none (0-7).
        pub syslog_severity_preset: u32 = "6",
        /// Field with the facility: a number 0-23 or a name (user, daemon, local0...).
        pub syslog_facility_key: Option<String>,
        /// Facility when the record has none (0-23).
        pub syslog_facility_preset: u32 = "1",
        /// Field with the HOSTNAME (a key or a path such as $kubernetes['host']).
        pub syslog_hostname_key: Option<String>,
        /// HOSTNAME when the record has none.
        pub syslog_hostname_preset: Option<String>,
        /// Field with the APP-NAME.
        pub syslog_appname_key: Option<String>,
        /// APP-NAME when the record has none.
        pub syslog_appname_preset: Option<String>,
        /// Field with the PROCID.
        pub syslog_procid_key: Option<String>,
        /// PROCID when the record has none.
        pub syslog_procid_preset: Option<String>,
        /// Field with the MSGID.
        pub syslog_msgid_key: Option<String>,
        /// MSGID when the record has none.
        pub syslog_msgid_preset: Option<String>,
        /// Field holding a map that becomes one SD element whose SD-ID is the
        /// key itself (the last key of a path) and whose params are the map's
        /// scalar entries, as in the built-in output. Repeatable.
        pub syslog_sd_key: Multi<String>,
        /// Field holding SD elements as a map {SD-ID: {param: value}}, as the
        /// rs_syslog input writes `sd`. Repeatable.
        pub syslog_sd_elements_key: Multi<String>,
        /// Field with the message text; without it the message is empty.
        pub syslog_message_key: Option<String>,
        /// A record without syslog_message_key: send_empty (as the built-in
        /// output does) or drop (counted in dropped_records_total and logged).
        pub syslog_message_missing: String = "send_empty",
        /// Allow SD-IDs and param names longer than the 32 characters RFC 5424 allows.
        pub allow_longer_sd_id: bool = "false",
        /// Stream framing: octet_counting (RFC 6587/5425) or non_transparent (LF).
        pub syslog_framing: String = "octet_counting",
        /// Write a UTF-8 BOM before an RFC 5424 message.
        pub syslog_bom: bool = "on",
        /// Digits of fractional seconds in RFC 5424 timestamps (0-6).
        pub syslog_time_precision: u32 = "6",
        /// Offset of written timestamps from UTC, such as Z or +02:00.
        pub syslog_time_offset: String = "Z",
        /// Field mapping preset: none, or kubernetes (app-name, hostname and an
        /// SD element from Fluent Bit's kubernetes metadata).
        pub syslog_preset: String = "none",
        /// SD-ID of the Kubernetes SD element.
        pub syslog_kubernetes_sd_id: String = "kubernetes@32473",
        /// Time allowed to connect.
        pub connect_timeout: Duration = "5s",
        /// Time allowed for one write before the connection is dropped.
        pub write_timeout: Duration = "10s",
        /// TCP keepalive idle time (0 turns keepalive off).
        pub tcp_keepalive: Duration = "60s",
        /// Socket send buffer (SO_SNDBUF); 0 keeps the system's.
        pub send_buffer_size: ByteSize = "0",
        /// RELP: messages sent before waiting for acknowledgements.
        pub relp_window: u32 = "128",
        /// RELP: time to wait for an acknowledgement before the session is
        /// dropped and the chunk retried.
        pub relp_timeout: Duration = "10s",
        /// Enable TLS for the tcp and relp modes (mode tls is tcp with TLS).
        pub tls: bool = "off",
        /// Verify the receiver's certificate chain.
        pub tls_verify as "tls.verify": bool = "on",
        /// Also check that the certificate names the host (or tls.vhost), as
        /// RFC 5425 asks; off by default, as everywhere in Fluent Bit.
        pub tls_verify_hostname as "tls.verify_hostname": bool = "off",
        /// TLS debug level (accepted for compatibility).
        pub tls_debug as "tls.debug": u32 = "1",
        /// CA certificate file.
        pub tls_ca_file as "tls.ca_file": Option<String>,
        /// Directory of CA certificates.
        pub tls_ca_path as "tls.ca_path": Option<String>,
        /// Client certificate file.
        pub tls_crt_file as "tls.crt_file": Option<String>,
        /// Client private key file.
        pub tls_key_file as "tls.key_file": Option<String>,
        /// Password of the private key.
        pub tls_key_passwd as "tls.key_passwd": Option<String>,
        /// Server name for SNI and the certificate check.
        pub tls_vhost as "tls.vhost": Option<String>,
        /// Oldest TLS version accepted: TLSv1.2 or TLSv1.3 (default: OpenSSL's).
        pub tls_min_version as "tls.min_version": Option<String>,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Rfc5424,
    Rfc3164,
}

/// How messages leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    /// Framed and written as one stream.
    Stream,
    /// One datagram per message.
    Datagram,
    /// One RELP command per message, each acknowledged.
    Relp,
}

struct Metrics {
    dropped: Counter,
    relp_unacked: Gauge,
    messages: Counter,
    bytes: Counter,
    retries: Counter,
    connect_failures: Counter,
    truncated: Counter,
    malformed: Counter,
}

pub struct SyslogOutput {
    format: Format,
    options: Options,
    framing: Framing,
    wire: Wire,
    retries: Retries,
    drop_without_message: bool,
    mapping: Mapping,
    sender: Sender,
    metrics: Metrics,
    scratch: Scratch,
}

fn accessor(key: &str, value: &Option<String>) -> Result<Option<RecordAccessor>, PluginError> {
    value
        .as_deref()
        .map(|v| RecordAccessor::parse(v).map_err(|e| PluginError::new(format!("{key}: {e}"))))
        .transpose()
}

/// A repeatable key's record accessors.
fn accessors(key: &str, values: &Multi<String>) -> Result<Vec<RecordAccessor>, PluginError> {
    values
        .0
        .iter()
        .map(|v| RecordAccessor::parse(v).map_err(|e| PluginError::new(format!("{key}: {e}"))))
        .collect()
}

fn code(key: &str, v: u32, max: u32) -> Result<u8, PluginError> {
    u8::try_from(v)
        .ok()
        .filter(|v| u32::from(*v) <= max)
        .ok_or_else(|| PluginError::new(format!("{key} must be 0 to {max}, not {v}")))
}

impl OutputPlugin for SyslogOutput {
    const NAME: &'static str = "rs_syslog";
    const DESCRIPTION: &'static str =
        "Syslog (RFC 5424, RFC 3164) over UDP, TCP, TLS, RELP and Unix sockets";
    type Config = SyslogConfig;

    fn new(c: SyslogConfig, ctx: &InitContext) -> Result<Self, PluginError> {
        // `mode tls` is TCP with TLS, as in the built-in output; `tls on`
        // adds TLS to tcp and relp.
        let (mode, tls_on) = match c.mode.trim().to_ascii_lowercase().as_str() {
            "tls" => (Mode::Tcp, true),
            _ => (
                Mode::parse(&c.mode).map_err(|e| PluginError::new(format!("mode {e}")))?,
                c.tls,
            ),
        };
        if tls_on && !matches!(mode, Mode::Tcp | Mode::Relp) {
            return Err(PluginError::new(format!(
                "tls: TLS needs mode tcp, tls or relp, not {}",
                c.mode
            )));
        }
        let tls = if tls_on {
            Some(
                Tls::new(TlsSettings {
                    verify: c.tls_verify,
                    verify_hostname: c.tls_verify_hostname,
                    ca_file: c.tls_ca_file.clone(),
                    ca_path: c.tls_ca_path.clone(),
                    crt_file: c.tls_crt_file.clone(),
                    key_file: c.tls_key_file.clone(),
                    key_passwd: c.tls_key_passwd.clone(),
                    vhost: c.tls_vhost.clone(),
                    min_version: c.tls_min_version.clone(),
                })
                .map_err(PluginError::new)?,
            )
        } else {
            None
        };
        let format = match c.syslog_format.trim().to_ascii_lowercase().as_str() {
            "rfc5424" => Format::Rfc5424,
            "rfc3164" => Format::Rfc3164,
            other => {
                return Err(PluginError::new(format!(
                    "syslog_format '{other}': expected rfc5424 or rfc3164"
                )))
            }
        };
        let maxsize = match (c.syslog_maxsize.0, format) {
            (0, Format::Rfc5424) => 2048,
            (0, Format::Rfc3164) => 1024,
            (n, _) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        if c.syslog_time_precision > 6 {
            return Err(PluginError::new("syslog_time_precision must be 0 to 6"));
        }
        let kubernetes = match c.syslog_preset.trim().to_ascii_lowercase().as_str() {
            "none" | "" => None,
            "kubernetes" | "k8s" => Some(Kubernetes {
                sd_id: c.syslog_kubernetes_sd_id.clone(),
            }),
            other => {
                return Err(PluginError::new(format!(
                    "syslog_preset '{other}': expected none or kubernetes"
                )))
            }
        };
        let field = |key: &str,
                     k: &Option<String>,
                     preset: &Option<String>|
         -> Result<Field, PluginError> {
            Ok(Field {
                key: accessor(key, k)?,
                preset: preset.clone(),
            })
        };
        let mapping = Mapping {
            severity_key: accessor("syslog_severity_key", &c.syslog_severity_key)?,
            severity_preset: code("syslog_severity_preset", c.syslog_severity_preset, 7)?,
            facility_key: accessor("syslog_facility_key", &c.syslog_facility_key)?,
            facility_preset: code("syslog_facility_preset", c.syslog_facility_preset, 23)?,
            hostname: field(
                "syslog_hostname_key",
                &c.syslog_hostname_key,
                &c.syslog_hostname_preset,
            )?,
            appname: field(
                "syslog_appname_key",
                &c.syslog_appname_key,
                &c.syslog_appname_preset,
            )?,
            procid: field(
                "syslog_procid_key",
                &c.syslog_procid_key,
                &c.syslog_procid_preset,
            )?,
            msgid: field(
                "syslog_msgid_key",
                &c.syslog_msgid_key,
                &c.syslog_msgid_preset,
            )?,
            sd_keys: accessors("syslog_sd_key", &c.syslog_sd_key)?
                .into_iter()
                .map(SdKey::new)
                .collect(),
            sd_elements_keys: accessors("syslog_sd_elements_key", &c.syslog_sd_elements_key)?,
            message_key: accessor("syslog_message_key", &c.syslog_message_key)?,
            kubernetes,
        };
        let options = Options {
            time_digits: c.syslog_time_precision,
            offset_minutes: parse_offset(&c.syslog_time_offset)
                .map_err(|e| PluginError::new(format!("syslog_time_offset {e}")))?,
            bom: c.syslog_bom,
            maxsize,
            allow_long_sd_id: c.allow_longer_sd_id,
        };
        let drop_without_message = match c.syslog_message_missing.trim() {
            "send_empty" => false,
            "drop" => true,
            other => {
                return Err(PluginError::new(format!(
                    "syslog_message_missing '{other}': expected send_empty or drop"
                )))
            }
        };
        let framing = Framing::parse(&c.syslog_framing)
            .map_err(|e| PluginError::new(format!("syslog_framing {e}")))?;
        let sender = Sender::new(Settings {
            mode,
            host: c.host.clone(),
            port: c.port,
            path: c.path.clone(),
            connect_timeout: c.connect_timeout,
            write_timeout: c.write_timeout,
            keepalive: c.tcp_keepalive,
            send_buffer: usize::try_from(c.send_buffer_size.0).unwrap_or(usize::MAX),
            tls,
            ack_timeout: c.relp_timeout,
            relp_window: usize::try_from(c.relp_window.max(1)).unwrap_or(1),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        });
        let metrics = Metrics {
            messages: ctx.counter("messages_total", "Syslog messages sent", &[])?,
            bytes: ctx.counter("bytes_total", "Bytes sent, framing included", &[])?,
            retries: ctx.counter("retries_total", "Flushes answered with retry", &[])?,
            connect_failures: ctx.counter(
                "connect_failures_total",
                "Failed connection attempts",
                &[],
            )?,
            truncated: ctx.counter("truncated_total", "Messages cut to syslog_maxsize", &[])?,
            dropped: ctx.counter(
                "dropped_records_total",
                "Records left out on purpose (syslog_message_missing drop)",
                &[],
            )?,
            relp_unacked: ctx.gauge(
                "relp_unacked",
                "Messages of the RELP chunks in retry not acknowledged yet",
                &[],
            )?,
            malformed: ctx.counter(
                "malformed_chunks_total",
                "Chunks whose undecodable rest was dropped",
                &[],
            )?,
        };
        let target = if matches!(mode, Mode::UnixDgram | Mode::UnixStream) {
            c.path.clone()
        } else {
            format!("{}:{}", c.host, c.port)
        };
        log::info!(
            "sending {:?} over {}{} to {target}",
            format,
            c.mode.to_ascii_lowercase(),
            if tls_on && c.mode.trim() != "tls" {
                " with TLS"
            } else {
                ""
            }
        );
        Ok(SyslogOutput {
            format,
            options,
            framing,
            wire: match mode {
                Mode::Relp => Wire::Relp,
                m if m.is_datagram() => Wire::Datagram,
                _ => Wire::Stream,
            },
            retries: Retries::default(),
            drop_without_message,
            mapping,
            sender,
            metrics,
            scratch: Scratch::default(),
        })
    }

    fn flush(&mut self, chunk: &Chunk<'_>) -> FlushResult {
        // Chunks are hashed only while some chunk is in retry, or when
        // this one fails.
        let mut fp = (!self.retries.is_empty()).then(|| fingerprint(chunk));
        if let Some(fp) = fp {
            if self
                .retries
                .redispatched(fp, chunk.origin(), std::time::Instant::now())
            {
                log::info!(
                    "a chunk a retry delivered a moment ago was dispatched again \
                     (Fluent Bit does so for running retries when it starts to shut \
                     down); it is not sent twice"
                );
                return FlushResult::Ok;
            }
        }
        // The buffers are kept from one flush to the next.
        let mut scratch = std::mem::take(&mut self.scratch);
        let r = self.flush_with(chunk, &mut scratch, &mut fp);
        scratch.clear();
        self.scratch = scratch;
        if let Some(fp) = fp {
            match r {
                FlushResult::Ok => {
                    self.retries
                        .delivered(fp, chunk.origin(), std::time::Instant::now())
                }
                FlushResult::Error => self.retries.forget(fp),
                FlushResult::Retry => {}
            }
        }
        if !self.retries.is_empty() {
            self.retries.expire(std::time::Instant::now());
        }
        self.metrics
            .relp_unacked
            .set(self.retries.unacked() as f64, &[]);
        r
    }
}

/// Buffers a flush writes into, kept for the next one.
#[derive(Default)]
struct Scratch {
    msg: Vec<u8>,
    piece: Vec<u8>,
    relp: RelpBatch,
}

impl Scratch {
    fn clear(&mut self) {
        self.msg.clear();
        self.piece.clear();
        self.relp.bytes.clear();
        self.relp.ends.clear();
    }
}

impl SyslogOutput {
    /// Formats and sends a chunk. `fp` is its fingerprint, set here when
    /// the chunk fails and was not hashed yet.
    fn flush_with(
        &mut self,
        chunk: &Chunk<'_>,
        scratch: &mut Scratch,
        fp: &mut Option<u64>,
    ) -> FlushResult {
        // Records are formatted one at a time into `msg`, from views of the
        // chunk (no allocation per record), and leave in pieces: streams
        // and RELP every PIECE bytes, datagrams one by one. A RELP retry
        // sends nothing of the prefix an earlier attempt got acknowledged.
        let mut m = Message::default();
        let Scratch { msg, piece, relp } = scratch;
        let (mut count, mut truncated, mut sd_dropped, mut dropped) = (0u64, 0u64, 0usize, 0u64);
        let mut sd_cut = 0usize;
        // Messages written (stream, datagram) before the current piece,
        // and in it.
        let (mut delivered, mut in_piece) = (0usize, 0usize);
        // Bytes written, framing included.
        let mut bytes = 0usize;
        let mut failed: Option<SendError> = None;
        let mut issues = Issues::default();
        let skip = match (self.wire, *fp) {
            (Wire::Relp, Some(fp)) => self.retries.resume_point(fp),
            _ => 0,
        };
        if skip > 0 {
            log::info!("resuming a chunk after its first {skip} acknowledged messages");
        }
        let mut events = chunk.events();
        let mut malformed: Option<DecodeError> = None;
        loop {
            // Each record is mapped while its body is read: one walk of it.
            let mut rec = Issues::default();
            let read = events.next_with_body(|head, body| {
                (head.kind == EventKind::Record)
                    .then(|| self.mapping.fill_reading(head.time, body, &mut m, &mut rec))
            });
            match read {
                None => break,
                Some(Err(e)) => {
                    malformed = Some(e);
                    break;
                }
                // A group marker.
                Some(Ok((_, None))) => continue,
                Some(Ok((_, Some(Ok(()))))) => {}
                Some(Ok((ev, Some(Err(_))))) => {
                    // Cannot be: a body whose reading failed is malformed.
                    // Should it be, the record is mapped again, not lost.
                    rec = Issues::default();
                    self.mapping.fill(&ev, &mut m, &mut rec);
                }
            }
            issues.merge(rec);
            if rec.no_message && self.drop_without_message {
                dropped += 1;
                continue;
            }
            msg.clear();
            let outcome = match self.format {
                Format::Rfc5424 => format::rfc5424(msg, &m, &self.options),
                Format::Rfc3164 => format::rfc3164(msg, &m, &self.options),
            };
            truncated += u64::from(outcome.truncated);
            sd_dropped += outcome.sd_dropped;
            sd_cut += outcome.sd_cut;
            count += 1;
            match self.wire {
                Wire::Stream => {
                    self.framing.frame(piece, msg);
                    in_piece += 1;
                    if piece.len() >= PIECE {
                        if let Err(e) = self.sender.send_stream(piece) {
                            failed = Some(e);
                            break;
                        }
                        delivered += std::mem::take(&mut in_piece);
                        bytes += piece.len();
                        piece.clear();
                    }
                }
                Wire::Datagram => {
                    if let Err(e) = self.sender.send_datagram(msg) {
                        failed = Some(e);
                        break;
                    }
                    delivered += 1;
                    bytes += msg.len();
                }
                // Formatted all the same, so that what is counted per
                // message (truncated, SD left out) is the same on a retry.
                Wire::Relp if count as usize <= skip => {}
                Wire::Relp => {
                    relp.push(msg);
                    if relp.bytes.len() >= PIECE {
                        if let Err(e) =
                            send_relp(&mut self.sender, relp, &mut delivered, &mut bytes)
                        {
                            failed = Some(e);
                            break;
                        }
                    }
                }
            }
        }
        if issues.bad_code {
            log::debug!("a severity or facility was not valid; its preset was used");
        }
        if issues.no_message && !self.drop_without_message {
            log::debug!("records without the message key were sent with an empty message");
        }
        if issues.bad_sd || sd_dropped > 0 {
            log::debug!(
                "structured data that is not a map (syslog_sd_key), not a map of maps \
                 (syslog_sd_elements_key) or has empty names was left out"
            );
        }
        if sd_cut > 0 {
            log::warn!(
                "{sd_cut} SD elements were left out: with them the messages would exceed \
                 syslog_maxsize ({} bytes)",
                self.options.maxsize
            );
        }

        if failed.is_none() {
            match self.wire {
                Wire::Stream if !piece.is_empty() => match self.sender.send_stream(piece) {
                    Ok(()) => {
                        delivered += in_piece;
                        bytes += piece.len();
                    }
                    Err(e) => failed = Some(e),
                },
                Wire::Stream | Wire::Datagram => {}
                // Nothing left to send (or nothing at all: every record was
                // dropped) needs no connection.
                Wire::Relp if relp.ends.is_empty() => {}
                Wire::Relp => {
                    failed = send_relp(&mut self.sender, relp, &mut delivered, &mut bytes).err();
                }
            }
        }
        if let Some(e) = failed {
            // Remembered so that a retry resumes after what was
            // acknowledged (RELP), and so that its delivery is (retry.rs).
            let fp = *fp.get_or_insert_with(|| fingerprint(chunk));
            let (messages, acked) = match self.wire {
                Wire::Relp => {
                    let messages = count as usize + self.count_messages(&mut events, &mut issues);
                    (messages.max(skip), skip + delivered)
                }
                _ => (0, 0),
            };
            self.retries
                .failed(fp, messages, acked, std::time::Instant::now());
            if matches!(e, SendError::Connect(_)) {
                self.metrics.connect_failures.inc(&[]);
            }
            self.metrics.retries.inc(&[]);
            if delivered > 0 {
                self.metrics.messages.add(delivered as f64, &[]);
                self.metrics.bytes.add(bytes as f64, &[]);
            }
            log::warn!(
                "chunk not delivered ({delivered} of its messages were written before): {e}; \
                 the chunk will be retried"
            );
            return FlushResult::Retry;
        }
        self.metrics.messages.add(delivered as f64, &[]);
        self.metrics.bytes.add(bytes as f64, &[]);
        if truncated > 0 {
            self.metrics.truncated.add(truncated as f64, &[]);
        }
        // Counted once the chunk is through: a retried chunk would count its
        // dropped records again.
        if dropped > 0 {
            log::warn!(
                "{dropped} records without the message key were dropped (syslog_message_missing drop)"
            );
            self.metrics.dropped.add(dropped as f64, &[]);
        }
        match malformed {
            Some(e) => {
                log::error!(
                    "malformed chunk (tag {}): {e}; {count} records before it were sent, the rest is dropped",
                    chunk.tag
                );
                self.metrics.malformed.inc(&[]);
                FlushResult::Error
            }
            None => FlushResult::Ok,
        }
    }
}

/// Stream transports write a chunk in pieces of about this many bytes:
/// large enough that the write calls cost little, small enough that a
/// chunk is never held a second time, formatted, in memory.
const PIECE: usize = 256 * 1024;

/// A chunk's RELP messages, one after the other in one buffer.
#[derive(Default)]
struct RelpBatch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl RelpBatch {
    fn push(&mut self, msg: &[u8]) {
        self.bytes.extend_from_slice(msg);
        self.ends.push(self.bytes.len());
    }

    fn messages(&self) -> Vec<&[u8]> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let m = &self.bytes[start..end];
                start = end;
                m
            })
            .collect()
    }
}

/// Sends the RELP messages of `batch` and empties it; what was
/// acknowledged is added to `delivered` (messages) and `bytes`.
fn send_relp(
    sender: &mut Sender,
    batch: &mut RelpBatch,
    delivered: &mut usize,
    bytes: &mut usize,
) -> Result<(), SendError> {
    let messages = batch.messages();
    let r = sender.send_relp(&messages);
    let acked = match &r {
        Ok(()) => messages.len(),
        Err((acked, _)) => (*acked).min(messages.len()),
    };
    *delivered += acked;
    *bytes += messages[..acked].iter().map(|m| m.len()).sum::<usize>();
    batch.bytes.clear();
    batch.ends.clear();
    r.map_err(|(_, e)| e)
}

impl SyslogOutput {
    /// Counts the messages the rest of a chunk would make (records that
    /// are not dropped), without formatting them.
    fn count_messages<'a>(&'a self, events: &mut Events<'a>, issues: &mut Issues) -> usize {
        let mut m = Message::default();
        events
            .map_while(Result::ok)
            .filter(|ev| ev.is_record())
            .filter(|ev| {
                let mut rec = Issues::default();
                self.mapping.fill(ev, &mut m, &mut rec);
                issues.merge(rec);
                !(rec.no_message && self.drop_without_message)
            })
            .count()
    }
}
