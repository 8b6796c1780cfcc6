//! Fluent Bit must know the plugin names when it is configured, before any
//! Rust is built: cmake/plugins.cmake lists them. It must agree with the
//! registry in plugins.rs.

use flb_rs_sdk::PluginKind;

use crate::plugins::IN_TREE as PLUGINS;

/// Whether a cargo feature of this crate is on in this build. A feature
/// missing here fails the test, so a new plugin crate is noticed.
fn feature_enabled(feature: &str) -> bool {
    match feature {
        "example" => cfg!(feature = "example"),
        "syslog" => cfg!(feature = "syslog"),
        "redact" => cfg!(feature = "redact"),
        "testkit" => cfg!(feature = "testkit"),
        other => panic!("cmake/plugins.cmake names unknown feature '{other}'"),
    }
}

fn kind_name(k: PluginKind) -> &'static str {
    match k {
        PluginKind::Input => "input",
        PluginKind::Filter => "filter",
        PluginKind::Output => "output",
    }
}

#[test]
fn cmake_plugin_list_matches_the_registry() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../cmake/plugins.cmake");
    let text = std::fs::read_to_string(path).expect("cmake/plugins.cmake");
    let listed: Vec<(String, String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('"'))
        .map(|l| {
            let parts: Vec<&str> = l.trim_matches('"').split(':').collect();
            assert_eq!(parts.len(), 3, "bad entry {l}");
            (
                parts[0].to_string(),
                parts[1].to_string(),
                parts[2].to_string(),
            )
        })
        .collect();
    assert!(!listed.is_empty());
    for (kind, name, feature) in &listed {
        // The CMake id, as FlbRust.cmake's flb_rust_plugin_id makes it.
        let id = match kind.as_str() {
            "input" => format!("in_{name}"),
            "filter" => format!("filter_{name}"),
            _ => format!("out_{name}"),
        };
        let ext = format!(
            "{}/../../cmake/ext/{id}/CMakeLists.txt",
            env!("CARGO_MANIFEST_DIR")
        );
        let ext = std::fs::read_to_string(&ext).unwrap_or_default();
        assert!(
            ext.contains(&format!("flb_rust_ext_plugin({kind} {name})")),
            "cmake/ext/{id}/CMakeLists.txt is missing or does not declare {kind} {name}"
        );
        if feature_enabled(feature) {
            assert!(
                PLUGINS
                    .iter()
                    .any(|p| p.name == name && kind_name(p.kind) == kind),
                "{kind} {name} is in cmake/plugins.cmake but not registered"
            );
        }
    }
    for p in PLUGINS {
        if p.name.starts_with("rs_test_") {
            continue;
        }
        assert!(
            listed
                .iter()
                .any(|(k, n, _)| n == p.name && k == kind_name(p.kind)),
            "{} is registered but missing from cmake/plugins.cmake",
            p.name
        );
    }
}

/// cmake/FlbRustPluginCrates.cmake copies the workspace's profiles
/// (`panic = "unwind"`, LTO) into the crate it generates by taking
/// Cargo.toml from its first `[profile.*]` table to the end: nothing else
/// may follow them.
#[test]
fn the_workspace_profiles_come_last_in_cargo_toml() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let text = std::fs::read_to_string(path).expect("Cargo.toml");
    let tables: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('['))
        .collect();
    let first = tables
        .iter()
        .position(|t| t.starts_with("[profile."))
        .expect("Cargo.toml has [profile.*] tables");
    assert!(
        tables[first..].iter().all(|t| t.starts_with("[profile.")),
        "{tables:?}"
    );
    assert!(tables.contains(&"[profile.release]"));
}
