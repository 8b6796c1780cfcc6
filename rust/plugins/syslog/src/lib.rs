//! The syslog output (work in progress): message formatting per RFC 5424
//! and RFC 3164. Transports and the plugin itself follow.

pub mod format;
pub mod mapping;
pub mod time;
