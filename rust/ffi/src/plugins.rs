//! Every plugin linked into the library: the in-tree ones, each behind its
//! feature (adding one is a line here, and its crate as an optional
//! dependency and feature in Cargo.toml), then those of the staticlib
//! crate that links this one (the symbol `flb_rs_linked_plugins`).

use std::sync::OnceLock;

use flb_rs_sdk::PluginEntry;

/// The in-tree plugins this build includes.
pub(crate) static IN_TREE: &[PluginEntry] = &[
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

extern "Rust" {
    /// The plugins of the staticlib crate that links this one: none for
    /// rust/staticlib, the plugin crates' for the crate FlbRust.cmake
    /// generates from `FLB_RUST_PLUGIN_CRATES`. Defined there under this
    /// symbol name; a staticlib without it does not link.
    #[link_name = "flb_rs_linked_plugins"]
    static LINKED: &'static [&'static [PluginEntry]];
}

/// Every plugin, in-tree first, in a fixed order (the descriptor table's).
pub(crate) fn all() -> &'static [&'static PluginEntry] {
    static ALL: OnceLock<Vec<&'static PluginEntry>> = OnceLock::new();
    ALL.get_or_init(|| {
        // SAFETY: the static is defined, immutable, by the one staticlib
        // crate of the build (or below, for tests), with this type: both
        // sides name it through this declaration's type, `PluginEntry`
        // from the same flb-rs-sdk (cargo builds one copy of it).
        let linked: &'static [&'static [PluginEntry]] = unsafe { LINKED };
        IN_TREE
            .iter()
            .chain(linked.iter().flat_map(|l| l.iter()))
            .collect()
    })
}

/// This crate's own tests link no staticlib crate.
#[cfg(test)]
mod linked_in_tests {
    #[export_name = "flb_rs_linked_plugins"]
    static LINKED: &[&[flb_rs_sdk::PluginEntry]] = &[];
}
