# The Rust plugins of libflb_rs.a, as Fluent Bit must know them when it is
# configured: "kind:name:cargo-feature". Kept in step with
# rust/ffi/src/plugins.rs (a test of the flb-rs-ffi crate compares the two).
set(FLB_RS_PLUGIN_LIST
  "input:rs_example_gen:example"
  "filter:rs_example_set:example"
  "output:rs_example_jsonl:example"
  "output:rs_syslog:syslog"
  "input:rs_syslog:syslog"
  "filter:rs_redact:redact"
)
