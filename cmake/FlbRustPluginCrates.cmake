# FlbRustPluginCrates.cmake: plugin crates that live outside flb-rust
# (FLB_RUST_PLUGIN_CRATES), linked into the one static library.
#
# A plugin crate depends on flb-rs-sdk (by path, the SDK of this flb-rust
# checkout) and names its plugins in its Cargo.toml:
#
#   [package.metadata.flb-rust]
#   plugins = [
#       { kind = "output", name = "my_output", type = "MyOutput" },
#   ]
#
# `type` is the plugin type's path from the crate root; `name` must equal
# its NAME (the generated crate checks it when it compiles). Fluent Bit
# needs the names when it is configured, before any Rust is compiled: they
# are read here with `cargo metadata --no-deps`, which needs no network.
#
# From these this file generates, in the build directory, a crate whose
# staticlib is flb-rs-ffi (with the in-tree plugins of FLB_RUST_FEATURES)
# plus the plugin crates: still one library, one copy of Rust's std.
#
# Also runs as a script, for zero-patch builds (fluent-bit-patch/ext-flags.sh):
#   cmake -DFLB_RUST_PLUGIN_CRATES=<dirs> -DFLB_RS_EXT_DIR=<dir> -P FlbRustPluginCrates.cmake
# writes one directory per plugin under FLB_RS_EXT_DIR and prints, per
# plugin, "kind id dir".

# if(... IN_LIST ...), also when this file runs as a script (include()
# gives this file its own policy scope: the includer's is unchanged).
cmake_policy(SET CMP0057 NEW)

# A plugin's id in CMake and in C symbols: Fluent Bit's own convention
# (in_syslog, filter_lua, out_syslog), so that an input and an output may
# share a name, as rs_syslog does. Users see only the name.
function(flb_rust_plugin_id kind name out_id)
  if(kind STREQUAL "input")
    set(${out_id} "in_${name}" PARENT_SCOPE)
  elseif(kind STREQUAL "filter")
    set(${out_id} "filter_${name}" PARENT_SCOPE)
  else()
    set(${out_id} "out_${name}" PARENT_SCOPE)
  endif()
endfunction()

# Stops when a plugin crate's plugin ("kind:name" in `external`) has a
# name Fluent Bit already has for that kind: an enabled in-tree Rust
# plugin (`in_tree`) or one of Fluent Bit's own (a plugins/<id> directory
# in `fluent_bit_dir`). One of the two would silently win.
function(flb_rust_check_plugin_names in_tree external fluent_bit_dir)
  foreach(entry IN LISTS external)
    string(REPLACE ":" ";" parts "${entry}")
    list(GET parts 0 kind)
    list(GET parts 1 name)
    flb_rust_plugin_id(${kind} ${name} id)
    if(entry IN_LIST in_tree)
      message(FATAL_ERROR "flb-rust: the plugin crates' ${kind} plugin ${name} has the name "
                          "of an in-tree Rust plugin; rename it, or leave that one out of FLB_RUST_FEATURES.")
    endif()
    if(fluent_bit_dir AND EXISTS "${fluent_bit_dir}/plugins/${id}")
      message(FATAL_ERROR "flb-rust: the plugin crates' ${kind} plugin ${name} has the name of "
                          "one of Fluent Bit's own (plugins/${id}); rename it.")
    endif()
  endforeach()
endfunction()

# Reads the plugins of every crate in `crates` (a list of directories).
# Sets, in the caller's scope:
#   <prefix>_PLUGINS   "kind:name" per plugin, in order
#   <prefix>_DEPS      TOML dependency lines, one per crate
#   <prefix>_RUST      Rust lines of the generated plugin list
#   <prefix>_CHECKS    Rust lines that check each name against NAME
#   <prefix>_SOURCES   the crates' sources and manifests (rebuild triggers)
#   <prefix>_DIRS      the crates' directories, resolved
function(flb_rust_read_plugin_crates prefix crates cargo root offline)
  if(CMAKE_VERSION VERSION_LESS 3.19)
    message(FATAL_ERROR "flb-rust: FLB_RUST_PLUGIN_CRATES needs CMake 3.19 or newer "
                        "(string(JSON)); this is ${CMAKE_VERSION}.")
  endif()
  set(plugins "")
  set(deps "")
  set(rust "")
  set(checks "")
  set(sources "")
  set(seen_packages "")
  set(dirs "")
  get_filename_component(sdk_dir "${root}/rust/sdk" REALPATH)
  string(REPLACE "," ";" crates "${crates}")
  foreach(dir IN LISTS crates)
    get_filename_component(dir "${dir}" REALPATH)
    list(APPEND dirs "${dir}")
    if(NOT EXISTS "${dir}/Cargo.toml")
      message(FATAL_ERROR "flb-rust: FLB_RUST_PLUGIN_CRATES: ${dir} has no Cargo.toml.")
    endif()
    set(args metadata --format-version 1 --no-deps --manifest-path "${dir}/Cargo.toml")
    if(offline)
      list(APPEND args --offline)
    endif()
    execute_process(COMMAND "${cargo}" ${args}
      OUTPUT_VARIABLE json ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "flb-rust: cannot read the plugin crate in ${dir} (cargo metadata):\n${err}")
    endif()
    # The package whose manifest is this directory's (a workspace lists
    # its other members too).
    string(JSON count LENGTH "${json}" packages)
    set(pkg -1)
    if(count GREATER 0)
      math(EXPR last "${count} - 1")
      foreach(i RANGE ${last})
        string(JSON manifest GET "${json}" packages ${i} manifest_path)
        get_filename_component(manifest "${manifest}" REALPATH)
        if(manifest STREQUAL "${dir}/Cargo.toml")
          set(pkg ${i})
        endif()
      endforeach()
    endif()
    if(pkg EQUAL -1)
      message(FATAL_ERROR "flb-rust: ${dir}/Cargo.toml is not a package (a virtual workspace?); "
                          "FLB_RUST_PLUGIN_CRATES takes the directories of plugin crates.")
    endif()
    string(JSON package GET "${json}" packages ${pkg} name)
    if(package IN_LIST seen_packages)
      message(FATAL_ERROR "flb-rust: two plugin crates are named ${package}.")
    endif()
    list(APPEND seen_packages "${package}")
    # The crate's name in Rust: its library target's.
    set(crate "")
    string(JSON ntargets LENGTH "${json}" packages ${pkg} targets)
    math(EXPR last "${ntargets} - 1")
    foreach(t RANGE ${last})
      string(JSON kinds GET "${json}" packages ${pkg} targets ${t} kind)
      if(kinds MATCHES "\"(lib|rlib)\"")
        string(JSON crate GET "${json}" packages ${pkg} targets ${t} name)
        string(REPLACE "-" "_" crate "${crate}")
      endif()
    endforeach()
    if(NOT crate)
      message(FATAL_ERROR "flb-rust: the plugin crate ${package} (${dir}) has no library target.")
    endif()
    # The SDK must be this checkout's: the plugin types and the C ABI then
    # share one flb-rs-sdk.
    set(sdk_path "")
    string(JSON ndeps LENGTH "${json}" packages ${pkg} dependencies)
    if(ndeps GREATER 0)
      math(EXPR last "${ndeps} - 1")
      foreach(d RANGE ${last})
        string(JSON dname GET "${json}" packages ${pkg} dependencies ${d} name)
        if(dname STREQUAL "flb-rs-sdk")
          string(JSON sdk_path ERROR_VARIABLE no_path GET "${json}" packages ${pkg} dependencies ${d} path)
          if(no_path)
            set(sdk_path "(not a path dependency)")
          else()
            get_filename_component(sdk_path "${sdk_path}" REALPATH)
          endif()
        endif()
      endforeach()
    endif()
    if(NOT sdk_path)
      message(FATAL_ERROR "flb-rust: the plugin crate ${package} (${dir}) does not depend on flb-rs-sdk.")
    endif()
    if(NOT sdk_path STREQUAL sdk_dir)
      message(FATAL_ERROR
        "flb-rust: the plugin crate ${package} (${dir}) depends on flb-rs-sdk at ${sdk_path}, "
        "but this Fluent Bit links the SDK at ${sdk_dir}. Set "
        "flb-rs-sdk = { path = \"${sdk_dir}\" } in ${dir}/Cargo.toml.")
    endif()
    string(JSON list ERROR_VARIABLE no_list GET "${json}" packages ${pkg} metadata flb-rust plugins)
    set(n 0)
    if(NOT no_list)
      string(JSON n LENGTH "${list}")
    endif()
    if(n EQUAL 0)
      message(FATAL_ERROR
        "flb-rust: the plugin crate ${package} (${dir}) exports no plugin. Name them in its "
        "Cargo.toml:\n  [package.metadata.flb-rust]\n  plugins = [\n"
        "      { kind = \"output\", name = \"my_output\", type = \"MyOutput\" },\n  ]")
    endif()
    string(APPEND deps "${package} = { path = '${dir}' }\n")
    string(APPEND rust "    // ${package} (${dir})\n    &[\n")
    math(EXPR last "${n} - 1")
    foreach(j RANGE ${last})
      set(entry "")
      foreach(field kind name type)
        string(JSON ${field} ERROR_VARIABLE bad GET "${list}" ${j} ${field})
        if(bad)
          message(FATAL_ERROR "flb-rust: ${dir}/Cargo.toml: plugin ${j} of [package.metadata.flb-rust] "
                              "has no '${field}' (each needs kind, name and type).")
        endif()
      endforeach()
      if(kind STREQUAL "input")
        set(trait InputPlugin)
      elseif(kind STREQUAL "filter")
        set(trait FilterPlugin)
      elseif(kind STREQUAL "output")
        set(trait OutputPlugin)
      else()
        message(FATAL_ERROR "flb-rust: ${dir}/Cargo.toml: plugin '${name}' has kind '${kind}'; "
                            "it must be input, filter or output.")
      endif()
      # Fluent Bit's own plugin names: what its configuration and its
      # CMake ids (out_<name>) accept.
      if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
        message(FATAL_ERROR "flb-rust: ${dir}/Cargo.toml: plugin name '${name}' must be lower-case "
                            "letters, digits and '_', starting with a letter.")
      endif()
      if(NOT type MATCHES "^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$")
        message(FATAL_ERROR "flb-rust: ${dir}/Cargo.toml: plugin '${name}' has type '${type}'; "
                            "it must be a Rust path from the crate root, like MyOutput or outputs::MyOutput.")
      endif()
      if("${kind}:${name}" IN_LIST plugins)
        message(FATAL_ERROR "flb-rust: the ${kind} plugin ${name} is exported by two plugin crates.")
      endif()
      list(APPEND plugins "${kind}:${name}")
      string(APPEND rust "        PluginEntry::${kind}::<${crate}::${type}>(),\n")
      string(APPEND checks
        "const _: () = assert!(\n"
        "    same(<${crate}::${type} as flb_rs_sdk::${trait}>::NAME, \"${name}\"),\n"
        "    \"${package}: [package.metadata.flb-rust] names the ${kind} '${name}', but the NAME of ${type} is another\"\n"
        ");\n")
    endforeach()
    string(APPEND rust "    ],\n")
    if(CMAKE_SCRIPT_MODE_FILE)
      set(crate_sources "")
    else()
      file(GLOB_RECURSE crate_sources CONFIGURE_DEPENDS "${dir}/*.rs" "${dir}/*Cargo.toml")
    endif()
    list(FILTER crate_sources EXCLUDE REGEX "^${dir}/target/")
    list(APPEND sources ${crate_sources})
    if(EXISTS "${dir}/Cargo.lock")
      list(APPEND sources "${dir}/Cargo.lock")
    endif()
  endforeach()
  set(${prefix}_PLUGINS "${plugins}" PARENT_SCOPE)
  set(${prefix}_DEPS "${deps}" PARENT_SCOPE)
  set(${prefix}_RUST "${rust}" PARENT_SCOPE)
  set(${prefix}_CHECKS "${checks}" PARENT_SCOPE)
  set(${prefix}_SOURCES "${sources}" PARENT_SCOPE)
  set(${prefix}_DIRS "${dirs}" PARENT_SCOPE)
endfunction()

# Writes `content` to `path` only when it differs, so that an unchanged
# generated crate does not make cargo rebuild it.
function(flb_rust_write_if_changed path content)
  file(WRITE "${path}.new" "${content}")
  configure_file("${path}.new" "${path}" COPYONLY)
  file(REMOVE "${path}.new")
endfunction()

# Generates the crate in `dir` that links flb-rs-ffi (with `features`)
# and the plugin crates read by flb_rust_read_plugin_crates(<prefix>).
function(flb_rust_generate_bundle dir root prefix features)
  # The SDK's path as the plugin crates were checked to name it: cargo
  # takes two spellings of one directory for two packages.
  get_filename_component(root "${root}" REALPATH)
  # The release profiles of flb-rust's workspace, which cargo reads only
  # from the workspace being built (panic = "unwind", LTO): everything of
  # its Cargo.toml from the first [profile.*] table on (a test keeps the
  # profiles last there).
  file(READ "${root}/Cargo.toml" workspace_toml)
  string(FIND "${workspace_toml}" "\n[profile." at)
  if(at EQUAL -1)
    message(FATAL_ERROR "flb-rust: ${root}/Cargo.toml has no [profile.*] tables.")
  endif()
  string(SUBSTRING "${workspace_toml}" ${at} -1 profiles)
  string(REPLACE "," ";" features "${features}")
  set(feature_list "")
  foreach(f IN LISTS features)
    if(f)
      string(APPEND feature_list "\"${f}\", ")
    endif()
  endforeach()
  flb_rust_write_if_changed("${dir}/Cargo.toml"
"# Generated by flb-rust's cmake/FlbRustPluginCrates.cmake from
# FLB_RUST_PLUGIN_CRATES; every configure of Fluent Bit writes it again.
[package]
name = \"flb-rs-bundle\"
version = \"0.0.0\"
edition = \"2021\"
publish = false
build = false

[lib]
name = \"flb_rs_bundle\"
crate-type = [\"staticlib\"]
path = \"lib.rs\"

[dependencies]
flb-rs-ffi = { path = '${root}/rust/ffi', default-features = false, features = [${feature_list}] }
flb-rs-sdk = { path = '${root}/rust/sdk' }
${${prefix}_DEPS}
[workspace]
${profiles}")
  flb_rust_write_if_changed("${dir}/lib.rs"
"// Generated by flb-rust's cmake/FlbRustPluginCrates.cmake from
// FLB_RUST_PLUGIN_CRATES; every configure of Fluent Bit writes it again.
//! libflb_rs_bundle.a: flb-rs-ffi's C ABI and in-tree plugins, and the
//! plugins of the crates below, in one static library.

// Linked for its exported flb_rs_* functions, which nothing in Rust calls.
extern crate flb_rs_ffi;

use flb_rs_sdk::PluginEntry;

/// The plugins these crates add, which flb-rs-ffi reads by this symbol.
#[export_name = \"flb_rs_linked_plugins\"]
pub static LINKED_PLUGINS: &[&[PluginEntry]] = &[
${${prefix}_RUST}];

/// Whether two strings are equal, at compile time.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// Fluent Bit registered each plugin under the name its crate's manifest
// gives; the plugin must answer to the same.
${${prefix}_CHECKS}")
endfunction()

# Script mode: the plugin directories of a zero-patch build. Also what
# tests/cmake/plugin-crates.sh drives: FLB_RS_CHECK_IN_TREE and
# FLB_RS_CHECK_FLUENT_BIT add the name checks FlbRust.cmake makes, and
# FLB_RS_BUNDLE_DIR writes the generated crate there (in-tree features
# FLB_RUST_FEATURES).
if(CMAKE_SCRIPT_MODE_FILE AND CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  get_filename_component(_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
  if(NOT FLB_RS_EXT_DIR AND NOT FLB_RS_BUNDLE_DIR)
    message(FATAL_ERROR "FlbRustPluginCrates.cmake: set FLB_RS_EXT_DIR or FLB_RS_BUNDLE_DIR")
  endif()
  if(NOT FLB_RUST_CARGO)
    find_program(FLB_RUST_CARGO cargo HINTS "$ENV{CARGO_HOME}/bin" "$ENV{HOME}/.cargo/bin")
  endif()
  flb_rust_read_plugin_crates(_ext "${FLB_RUST_PLUGIN_CRATES}" "${FLB_RUST_CARGO}" "${_root}" "${FLB_RUST_OFFLINE}")
  string(REPLACE "," ";" _in_tree "${FLB_RS_CHECK_IN_TREE}")
  flb_rust_check_plugin_names("${_in_tree}" "${_ext_PLUGINS}" "${FLB_RS_CHECK_FLUENT_BIT}")
  if(FLB_RS_BUNDLE_DIR)
    file(MAKE_DIRECTORY "${FLB_RS_BUNDLE_DIR}")
    flb_rust_generate_bundle("${FLB_RS_BUNDLE_DIR}" "${_root}" _ext "${FLB_RUST_FEATURES}")
  endif()
  foreach(_p IN LISTS _ext_PLUGINS)
    string(REPLACE ":" ";" _parts "${_p}")
    list(GET _parts 0 _kind)
    list(GET _parts 1 _name)
    flb_rust_plugin_id(${_kind} ${_name} _id)
    if(FLB_RS_EXT_DIR)
      set(_dir "${FLB_RS_EXT_DIR}/${_id}")
      file(MAKE_DIRECTORY "${_dir}")
      flb_rust_write_if_changed("${_dir}/CMakeLists.txt"
"# Generated by flb-rust's fluent-bit-patch/ext-flags.sh: the ${_kind} plugin
# ${_name} of a plugin crate, in a zero-patch build.
include(\"${_root}/cmake/FlbRust.cmake\")
flb_rust_ext_plugin(${_kind} ${_name})
")
      # message() writes to stderr; the caller reads these lines.
      message("${_kind} ${_id} ${_dir}")
    endif()
  endforeach()
endif()
