//! The syslog input (work in progress): message parsing per RFC 5424 and
//! RFC 3164, and stream framing per RFC 6587. Listeners and the plugin
//! follow.

pub mod deframe;
pub mod parse;
