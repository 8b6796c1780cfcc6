//! Example plugins: the smallest complete input, filter and output, built,
//! registered and tested exactly like the production ones. Copy one to
//! start a plugin of your own.
//!
//! - `rs_example_gen` (input): emits `count` records, one every `interval`.
//! - `rs_example_set` (filter): sets and removes fields.
//! - `rs_example_jsonl` (output): appends records to a file as JSON lines.

mod filter_set;
mod input_gen;
mod output_jsonl;

pub use filter_set::SetFilter;
pub use input_gen::GenInput;
pub use output_jsonl::JsonLinesOutput;
