//! The checked-in header must be exactly what cbindgen makes of this crate.

use std::path::PathBuf;

#[test]
fn header_matches_the_rust_source() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../../include/flb_rs.h");
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("header is UTF-8");
    if std::env::var_os("FLB_RS_BLESS").is_some() {
        std::fs::write(&header, &generated).expect("write header");
        return;
    }
    let current = std::fs::read_to_string(&header).unwrap_or_default();
    assert!(
        current == generated,
        "include/flb_rs.h is out of date with rust/ffi: run `FLB_RS_BLESS=1 cargo test -p flb-rs-ffi header` and commit it"
    );
}
