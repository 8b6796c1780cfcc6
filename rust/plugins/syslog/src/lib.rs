//! `rs_syslog`, a syslog output for Fluent Bit: RFC 5424 and RFC 3164 over
//! UDP, TCP and Unix sockets (TLS and RELP to come), built to lose nothing
//! silently.

//! The syslog output (work in progress): message formatting per RFC 5424
//! and RFC 3164. Transports and the plugin itself follow.

pub mod format;
pub mod framing;
pub mod input;
pub mod mapping;
mod plugin;
pub mod relp;
pub mod transport;
pub use plugin::{SyslogConfig, SyslogOutput};
pub mod time;
