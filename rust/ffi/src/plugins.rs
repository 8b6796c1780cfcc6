//! Every plugin linked into the library. Adding a plugin is one line here
//! (and its crate as an optional dependency and feature in Cargo.toml).

use flb_rs_sdk::PluginEntry;

pub(crate) static PLUGINS: &[PluginEntry] = &[
    #[cfg(feature = "example")]
    PluginEntry::input::<flb_rs_example::GenInput>(),
    #[cfg(feature = "example")]
    PluginEntry::filter::<flb_rs_example::SetFilter>(),
    #[cfg(feature = "example")]
    PluginEntry::output::<flb_rs_example::JsonLinesOutput>(),
    #[cfg(feature = "syslog")]
    PluginEntry::output::<flb_rs_syslog::SyslogOutput>(),
    #[cfg(feature = "syslog")]
    PluginEntry::input::<flb_rs_syslog::SyslogInput>(),
    #[cfg(feature = "redact")]
    PluginEntry::filter::<flb_rs_redact::RedactFilter>(),
    #[cfg(feature = "testkit")]
    PluginEntry::output::<flb_rs_testkit::CountOutput>(),
    #[cfg(feature = "testkit")]
    PluginEntry::filter::<flb_rs_testkit::PanicFilter>(),
];
