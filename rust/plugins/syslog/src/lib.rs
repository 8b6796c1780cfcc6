//! `rs_syslog`: syslog for Fluent Bit in both directions, built to lose
//! nothing silently.
//!
//! - The output (`plugin`, `mapping`, `message`, `format`, `framing`,
//!   `transport`, `relp`, `retry`): records as RFC 5424 or RFC 3164 messages over UDP, TCP, TLS,
//!   RELP and Unix sockets.
//! - The input (`input`): a receiver for the same transports that parses
//!   both formats into records.

pub mod format;
pub mod framing;
pub mod input;
pub mod mapping;
pub mod message;
mod plugin;
pub mod relp;
mod retry;
pub mod time;
pub mod transport;

pub use input::{SyslogInput, SyslogInputConfig};
pub use plugin::{SyslogConfig, SyslogOutput};
