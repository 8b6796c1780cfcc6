//! `rs_syslog` as an input plugin: configuration, and the life cycle of
//! its listener.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use flb_rs_sdk::prelude::*;
use flb_rs_sdk::Spawner;
use openssl::ssl::SslAcceptor;

use super::allow::AllowList;
use super::listen::{tls_acceptor, Listener, Server, Threads, Transport};
use super::parse::Mode;
use super::ratelimit::RateLimit;
use super::record::RecordShape;
use super::serve::{Context, Metrics, POLL};
use crate::time::parse_offset;
use crate::transport::TlsSettings;

config_struct! {
    pub struct SyslogInputConfig {
        /// Transport: udp, tcp, tls, relp, unix_dgram or unix_stream
        /// (unix_udp and unix_tcp, the built-in input's names, work too).
        pub mode: String = "udp",
        /// Address to listen on (IPv4 or IPv6, e.g. 0.0.0.0 or ::).
        pub listen: String = "0.0.0.0",
        /// Port to listen on.
        pub port: u16 = "5140",
        /// Socket file for the unix modes.
        pub path: Option<String>,
        /// Permissions of the socket file (octal), for the unix modes.
        pub unix_perm: Option<String>,
        /// Message format: auto (RFC 5424 when the message says so, else
        /// RFC 3164), rfc5424 or rfc3164.
        pub format: String = "auto",
        /// Largest message; longer ones are counted, logged and skipped.
        pub max_message_size: ByteSize = "64k",
        /// Connections served at once; more are refused and counted.
        /// Unset: as many as the process may open descriptors.
        pub max_connections: Option<usize>,
        /// Senders taken (udp, tcp, tls, relp): addresses or prefixes,
        /// comma-separated (10.0.0.0/8, 2001:db8::/32, 192.0.2.7). Others
        /// are closed at accept (datagrams dropped) and counted. Unset:
        /// everyone.
        pub allow_from: Option<CommaList>,
        /// Rate limit window per sender address (0: none). Within each,
        /// at most ratelimit.burst messages: stream and RELP senders wait
        /// for the next window, datagrams over it are dropped; both are
        /// counted. Unix socket senders count as one sender.
        pub ratelimit_interval as "ratelimit.interval": Duration = "0",
        /// Messages a sender may send within one ratelimit.interval.
        pub ratelimit_burst as "ratelimit.burst": u32 = "10000",
        /// Most bytes of records held for Fluent Bit outside its chunks,
        /// all connections together. When it is full, stream and RELP
        /// senders wait; datagrams are dropped and counted.
        pub buffer_max_size: ByteSize = "8M",
        /// Close a stream or RELP connection that sends nothing for this
        /// long (0: never). Senders reconnect when they next send.
        pub idle_timeout: Duration = "10m",
        /// Close a RELP connection whose peer reads none of the
        /// acknowledgements for this long.
        pub write_timeout: Duration = "10s",
        /// Socket receive buffer (SO_RCVBUF); the system default when unset.
        pub receive_buffer_size: Option<ByteSize>,
        /// Time zone of RFC 3164 timestamps, which carry none: Z, +02:00...
        pub time_offset: String = "Z",
        /// Take the event time from the message's timestamp (off: the time
        /// it was received).
        pub time_from_message: bool = "on",
        /// Prefix of every record key (e.g. syslog_).
        pub key_prefix: String = "",
        /// Put all the syslog fields in a map under this key.
        pub nest_under: Option<String>,
        /// Also put the sender's address in the record, under this key.
        pub source_address_key: Option<String>,
        /// TLS for mode relp (mode tls is TCP with TLS).
        pub tls: bool = "off",
        /// The server's certificate (PEM), for mode tls or tls on.
        pub tls_crt_file as "tls.crt_file": Option<String>,
        /// The server's private key (PEM).
        pub tls_key_file as "tls.key_file": Option<String>,
        /// Passphrase of the private key.
        pub tls_key_passwd as "tls.key_passwd": Option<String>,
        /// CA certificates that client certificates are checked against.
        pub tls_ca_file as "tls.ca_file": Option<String>,
        /// Directory of CA certificates (hashed names).
        pub tls_ca_path as "tls.ca_path": Option<String>,
        /// Require a client certificate signed by tls.ca_file / tls.ca_path
        /// (the system store when neither is set): mutual TLS.
        pub tls_verify_client_cert as "tls.verify_client_cert": bool = "off",
        /// Oldest TLS version accepted: TLSv1.2 or TLSv1.3.
        pub tls_min_version as "tls.min_version": Option<String>,
    }
}

pub struct SyslogInput {
    listener: Option<Listener>,
    socket_file: Option<String>,
    transport: Transport,
    tls: Option<SslAcceptor>,
    shape: RecordShape,
    mode: Mode,
    offset_minutes: i32,
    max_size: usize,
    max_connections: Option<usize>,
    allow: Option<AllowList>,
    ratelimit: Option<(Duration, u32)>,
    buffer_max_size: usize,
    idle_timeout: Option<Duration>,
    write_timeout: Duration,
    metrics: Metrics,
    spawner: Spawner,
    threads: Threads,
}

impl InputPlugin for SyslogInput {
    const NAME: &'static str = "rs_syslog";
    const DESCRIPTION: &'static str =
        "Syslog receiver (RFC 5424, RFC 3164) over UDP, TCP, TLS, RELP and Unix sockets";
    type Config = SyslogInputConfig;

    fn new(c: SyslogInputConfig, ctx: &InitContext) -> Result<Self, PluginError> {
        let transport = Transport::parse(&c.mode).map_err(PluginError::new)?;
        let tls_on = transport == Transport::Tls || c.tls;
        if c.tls && !matches!(transport, Transport::Relp | Transport::Tcp | Transport::Tls) {
            return Err(PluginError::new(format!(
                "tls: TLS needs mode tls or relp, not {}",
                c.mode
            )));
        }
        let transport = if transport == Transport::Tcp && c.tls {
            Transport::Tls
        } else {
            transport
        };
        let mode = match c.format.trim().to_ascii_lowercase().as_str() {
            "auto" => Mode::Auto,
            "rfc5424" => Mode::Rfc5424,
            "rfc3164" => Mode::Rfc3164,
            other => {
                return Err(PluginError::new(format!(
                    "format '{other}': expected auto, rfc5424 or rfc3164"
                )))
            }
        };
        let offset_minutes = parse_offset(&c.time_offset)
            .map_err(|e| PluginError::new(format!("time_offset {e}")))?;
        let max_size = c.max_message_size.0 as usize;
        if max_size < 64 {
            return Err(PluginError::new(
                "max_message_size must be at least 64 bytes",
            ));
        }
        let buffer_max_size = usize::try_from(c.buffer_max_size.0)
            .ok()
            .filter(|n| *n >= 64 * 1024)
            .ok_or_else(|| PluginError::new("buffer_max_size must be at least 64K"))?;
        let allow = AllowList::parse(c.allow_from.as_ref().map_or(&[][..], |l| &l.0[..]))
            .map_err(PluginError::new)?;
        if allow.is_some() && matches!(transport, Transport::UnixDgram | Transport::UnixStream) {
            return Err(PluginError::new(
                "allow_from: Unix sockets have no sender address; use the socket file's permissions (unix_perm)",
            ));
        }
        if !c.ratelimit_interval.is_zero() && c.ratelimit_burst == 0 {
            return Err(PluginError::new(
                "ratelimit.burst must be at least 1 (ratelimit.interval 0 turns the limit off)",
            ));
        }
        if c.max_connections == Some(0) {
            return Err(PluginError::new("max_connections must be at least 1"));
        }
        let unix_perm = c
            .unix_perm
            .as_deref()
            .map(|p| {
                u32::from_str_radix(p.trim().trim_start_matches("0o"), 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| {
                        PluginError::new(format!("unix_perm '{p}': expected octal, e.g. 0660"))
                    })
            })
            .transpose()?;
        let tls = if tls_on {
            let settings = TlsSettings {
                verify: c.tls_verify_client_cert,
                verify_hostname: false,
                ca_file: c.tls_ca_file.clone(),
                ca_path: c.tls_ca_path.clone(),
                crt_file: c.tls_crt_file.clone(),
                key_file: c.tls_key_file.clone(),
                key_passwd: c.tls_key_passwd.clone(),
                vhost: None,
                min_version: c.tls_min_version.clone(),
            };
            Some(tls_acceptor(&settings, c.tls_verify_client_cert).map_err(PluginError::new)?)
        } else {
            None
        };
        let listener = Listener::open(
            transport,
            &c.listen,
            c.port,
            c.path.as_deref(),
            unix_perm,
            c.receive_buffer_size.map(|b| b.0 as usize),
        )
        .map_err(PluginError::new)?;
        log::info!(
            "listening on {} ({}, {} format)",
            listener.describe(),
            transport.name(c.tls),
            c.format
        );
        let counter = |name: &str, help: &str| ctx.counter(name, help, &[]);
        let metrics = Metrics {
            messages: counter("messages_total", "Messages received")?,
            bytes: counter("bytes_total", "Bytes received")?,
            parse_errors: counter(
                "parse_errors_total",
                "Messages that fit neither RFC 5424 nor RFC 3164 (kept as raw)",
            )?,
            oversize: counter("oversize_total", "Messages over max_message_size (skipped)")?,
            framing_errors: counter(
                "framing_errors_total",
                "Connections closed over broken framing",
            )?,
            dropped: counter(
                "dropped_total",
                "Datagrams dropped while the input was paused or its queue full",
            )?,
            connections: ctx.gauge("connections", "Connections open", &[])?,
            buffered: ctx.gauge(
                "buffered_bytes",
                "Bytes of records held for Fluent Bit outside its chunks (at most buffer_max_size)",
                &[],
            )?,
            refused: counter(
                "connections_refused_total",
                "Connections refused at max_connections",
            )?,
            idle_closed: counter(
                "connections_idle_closed_total",
                "Connections closed after idle_timeout without data",
            )?,
            write_timeouts: counter(
                "write_timeouts_total",
                "RELP sessions closed because the peer read nothing for write_timeout",
            )?,
            handshake_timeouts: counter(
                "handshake_timeouts_total",
                "TLS connections closed because the handshake took longer than 10 s",
            )?,
            denied: counter(
                "denied_total",
                "Connections closed and datagrams dropped from senders outside allow_from",
            )?,
            rate_limited: counter(
                "rate_limited_total",
                "Datagrams dropped, and times stream or RELP senders were held back, over ratelimit.burst",
            )?,
        };
        Ok(SyslogInput {
            socket_file: listener.path().map(str::to_string),
            listener: Some(listener),
            transport,
            tls,
            shape: RecordShape::new(
                &c.key_prefix,
                c.nest_under,
                c.source_address_key,
                c.time_from_message,
            ),
            mode,
            offset_minutes,
            max_size,
            max_connections: c.max_connections,
            allow,
            ratelimit: (!c.ratelimit_interval.is_zero())
                .then_some((c.ratelimit_interval, c.ratelimit_burst)),
            buffer_max_size,
            idle_timeout: Some(c.idle_timeout).filter(|d| !d.is_zero()),
            write_timeout: c.write_timeout.max(POLL),
            metrics,
            spawner: ctx.spawner(),
            threads: Threads::default(),
        })
    }

    fn queue_max_bytes(&self) -> usize {
        self.buffer_max_size
    }

    fn start(&mut self, emitter: Emitter) -> Result<(), PluginError> {
        let Some(listener) = self.listener.take() else {
            return Err(PluginError::new("started twice"));
        };
        let ctx = Context {
            emitter,
            shape: self.shape.clone(),
            mode: self.mode,
            offset_minutes: self.offset_minutes,
            max_size: self.max_size,
            transport: self
                .transport
                .name(self.tls.is_some() && self.transport == Transport::Relp),
            metrics: self.metrics.clone(),
            idle_timeout: self.idle_timeout,
            write_timeout: self.write_timeout,
            allow: self.allow.clone(),
            denied_warned: AtomicBool::new(false),
            ratelimit: self
                .ratelimit
                .and_then(|(interval, burst)| RateLimit::new(interval, burst)),
            rate_warned: AtomicBool::new(false),
        };
        let server = Arc::new(Server {
            ctx: Arc::new(ctx),
            transport: self.transport,
            tls: self.tls.clone(),
            max_connections: self.max_connections,
            // A few loops serve every connection; more than the cores
            // would only contend with Fluent Bit's own threads.
            loops: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
            spawner: self.spawner.clone(),
            threads: self.threads.clone(),
        });
        server
            .start(listener)
            .map_err(|e| PluginError::new(format!("cannot start the listener thread: {e}")))
    }

    fn exit(&mut self) {
        self.threads.join();
        if let Some(p) = &self.socket_file {
            let _ = std::fs::remove_file(p);
        }
    }
}
