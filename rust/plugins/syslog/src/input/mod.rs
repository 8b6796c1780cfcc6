//! `rs_syslog` as an input: a syslog receiver over UDP, TCP, TLS, RELP and
//! Unix sockets. Frames are cut per RFC 6587 (`deframe`), parsed per RFC
//! 5424 or RFC 3164 (`parse`), turned into records (`record`) by the
//! threads that serve each socket (`serve`, `listen`; stream connections
//! by a few `event_loop`s, each connection a `conn` state machine), for the senders
//! `allow_from` lets in (`allow`), at the rate each may send (`ratelimit`).

mod allow;
mod conn;
pub mod deframe;
mod event_loop;
mod listen;
pub mod parse;
mod plugin;
mod ratelimit;
pub mod record;
mod serve;

pub use plugin::{SyslogInput, SyslogInputConfig};
pub use serve::BATCH_BYTES;
