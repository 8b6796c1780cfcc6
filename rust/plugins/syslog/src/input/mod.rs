//! `rs_syslog` as an input: a syslog receiver over UDP, TCP, TLS, RELP and
//! Unix sockets. Frames are cut per RFC 6587 (`deframe`), parsed per RFC
//! 5424 or RFC 3164 (`parse`), turned into records (`record`) by the
//! threads that serve each socket (`serve`, `listen`), for the senders
//! `allow_from` lets in (`allow`), at the rate each may send (`ratelimit`).

mod allow;
pub mod deframe;
mod listen;
pub mod parse;
mod plugin;
mod ratelimit;
pub mod record;
mod serve;

pub use plugin::{SyslogInput, SyslogInputConfig};
pub use serve::BATCH_BYTES;
