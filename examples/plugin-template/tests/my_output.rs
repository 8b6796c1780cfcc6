//! The plugin through the SDK's test harness, which drives it as Fluent
//! Bit does (configuration from key/value pairs, flushes of real chunks).

use flb_rs_sdk::testing::{chunk, Harness};
use flb_rs_sdk::{EventTime, FlushResult};
use my_output::MyOutput;

fn temp_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("my-output-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn writes_the_field_of_every_record() {
    let path = temp_file("lines.txt");
    let h =
        Harness::output::<MyOutput>(&[("path", path.to_str().unwrap()), ("key", "msg")]).unwrap();
    let data = chunk(&[
        (EventTime::new(1, 0), &[("msg", "first")]),
        (EventTime::new(2, 0), &[("other", "x")]),
        (EventTime::new(3, 0), &[("msg", "third")]),
    ]);
    assert_eq!(h.flush("app", &data), FlushResult::Ok);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n\nthird\n");
    assert_eq!(h.host.metric("lines_total", &[]), Some(3.0));
}

#[test]
fn a_missing_path_is_a_configuration_error() {
    let e = Harness::output::<MyOutput>(&[]).err().unwrap();
    assert!(e.0.contains("path"), "{e}");
}
