# FlbRust.cmake: builds flb-rust's static library with cargo and registers
# its Rust plugins as native Fluent Bit plugins.
#
# Included from Fluent Bit's plugins/CMakeLists.txt, after its
# REGISTER_*_PLUGIN and FLB_PLUGIN macros are defined:
#   - by the patch in fluent-bit-patch/ when FLB_RUST is On, or
#   - by cmake/ext/<plugin>/CMakeLists.txt in zero-patch mode
#     (-DEXT_OUT_PLUGINS=rs_x=<flb-rust>/cmake/ext/rs_x, ...).
#
# Cache variables (all optional):
#   FLB_RUST_FEATURES   cargo features of flb-rs = which plugins to link
#                       (semicolon or comma separated; default: example,syslog,redact)
#   FLB_RUST_PROFILE    cargo profile; default from CMAKE_BUILD_TYPE:
#                       Debug -> dev, otherwise release, or release-small
#                       when FLB_SMALL is On
#   FLB_RUST_TARGET     Rust target triple; default: the host, or, when
#                       cross-compiling, CMAKE_C_COMPILER_TARGET or the
#                       prefix of CMAKE_C_COMPILER (aarch64-linux-gnu-gcc)
#   FLB_RUST_OFFLINE    pass --offline to cargo (default: On when the crates
#                       are vendored, i.e. <flb-rust>/vendor exists)
#   FLB_RUST_CARGO      the cargo program; FLB_RUST_RUSTC likewise
#   FLB_RUST_TARGET_DIR cargo's target directory (default: flb-rust-target in
#                       the build directory); builds of the same features and
#                       profile may share one, so Rust is compiled once
#   FLB_RUST_PLUGIN_CRATES directories of plugin crates kept outside flb-rust
#                       (semicolon or comma separated), linked into the same
#                       library with the in-tree plugins (FlbRustPluginCrates.cmake)
#   FLB_RUST_PLUGIN_LOCK the Cargo.lock of that combined build: used with
#                       --locked when the file exists, written there by the
#                       first build when it does not
#   FLB_RUST_VENDOR_DIR crates vendored with `cargo vendor`: cargo reads them
#                       instead of crates.io, offline

include_guard(GLOBAL)

# A cache variable, not a plain one: in zero-patch mode this file is
# included once, from the first plugin's directory, and the functions below
# run from the others.
get_filename_component(_flb_rs_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(FLB_RS_ROOT "${_flb_rs_root}" CACHE INTERNAL "flb-rust source directory")
set(FLB_RS_MIN_RUST "1.85.0")

include("${CMAKE_CURRENT_LIST_DIR}/plugins.cmake")
# Plugin ids, and plugin crates from elsewhere (FLB_RUST_PLUGIN_CRATES).
include("${CMAKE_CURRENT_LIST_DIR}/FlbRustPluginCrates.cmake")

# ---- toolchain ----------------------------------------------------------

find_program(FLB_RUST_CARGO cargo HINTS "$ENV{CARGO_HOME}/bin" "$ENV{HOME}/.cargo/bin")
find_program(FLB_RUST_RUSTC rustc HINTS "$ENV{CARGO_HOME}/bin" "$ENV{HOME}/.cargo/bin")
if(NOT FLB_RUST_CARGO OR NOT FLB_RUST_RUSTC)
  message(FATAL_ERROR
    "flb-rust: cargo and rustc ${FLB_RS_MIN_RUST} or newer are needed to build the "
    "Rust plugins (FLB_RUST=On). Install a Rust toolchain (rustup, or your "
    "distribution's cargo and rustc packages), or set FLB_RUST_CARGO and FLB_RUST_RUSTC.")
endif()
execute_process(COMMAND "${FLB_RUST_RUSTC}" --version
  OUTPUT_VARIABLE _flb_rs_rustc_version RESULT_VARIABLE _flb_rs_rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" _flb_rs_rustc_semver "${_flb_rs_rustc_version}")
if(NOT _flb_rs_rc EQUAL 0 OR NOT _flb_rs_rustc_semver)
  message(FATAL_ERROR "flb-rust: cannot run '${FLB_RUST_RUSTC} --version'.")
endif()
if(_flb_rs_rustc_semver VERSION_LESS FLB_RS_MIN_RUST)
  message(FATAL_ERROR
    "flb-rust: rustc ${_flb_rs_rustc_semver} is too old; ${FLB_RS_MIN_RUST} or newer is needed "
    "(${FLB_RUST_RUSTC}).")
endif()

# ---- profile, target, offline --------------------------------------------

set(FLB_RUST_FEATURES "example,syslog,redact" CACHE STRING "Cargo features of flb-rs: the Rust plugins to link")
set(FLB_RUST_PLUGIN_CRATES "" CACHE STRING "Directories of plugin crates from outside flb-rust to link too")
set(FLB_RUST_PLUGIN_LOCK "" CACHE FILEPATH "Cargo.lock of the build with FLB_RUST_PLUGIN_CRATES (used with --locked once it exists)")
set(FLB_RUST_VENDOR_DIR "" CACHE PATH "Directory of crates vendored with cargo vendor (implies offline)")
set(FLB_RUST_PROFILE "" CACHE STRING "Cargo profile for flb-rs (empty: from CMAKE_BUILD_TYPE)")
set(FLB_RUST_TARGET "" CACHE STRING "Rust target triple (empty: host, or derived when cross-compiling)")
if(EXISTS "${FLB_RS_ROOT}/vendor" OR FLB_RUST_VENDOR_DIR)
  set(_flb_rs_offline_default On)
else()
  set(_flb_rs_offline_default Off)
endif()
option(FLB_RUST_OFFLINE "Build the Rust crates with cargo --offline (vendored sources)" ${_flb_rs_offline_default})

if(FLB_RUST_PROFILE)
  set(_flb_rs_profile "${FLB_RUST_PROFILE}")
elseif(CMAKE_BUILD_TYPE STREQUAL "Debug")
  set(_flb_rs_profile "dev")
elseif(FLB_SMALL)
  set(_flb_rs_profile "release-small")
else()
  set(_flb_rs_profile "release")
endif()
if(_flb_rs_profile STREQUAL "dev")
  set(_flb_rs_profile_dir "debug")
else()
  set(_flb_rs_profile_dir "${_flb_rs_profile}")
endif()

set(_flb_rs_triple "${FLB_RUST_TARGET}")
if(NOT _flb_rs_triple AND CMAKE_CROSSCOMPILING)
  if(CMAKE_C_COMPILER_TARGET)
    set(_flb_rs_triple "${CMAKE_C_COMPILER_TARGET}")
  else()
    get_filename_component(_flb_rs_cc "${CMAKE_C_COMPILER}" NAME)
    string(REGEX MATCH "^(.+)-(gcc|cc|clang)(-[0-9.]+)?$" _flb_rs_m "${_flb_rs_cc}")
    if(CMAKE_MATCH_1)
      # GNU triples (aarch64-linux-gnu) become Rust's (aarch64-unknown-linux-gnu).
      string(REGEX REPLACE "^([^-]+)-linux-" "\\1-unknown-linux-" _flb_rs_triple "${CMAKE_MATCH_1}")
    endif()
  endif()
  if(NOT _flb_rs_triple)
    message(FATAL_ERROR
      "flb-rust: cross-compiling, but the Rust target is unknown. Set FLB_RUST_TARGET "
      "(e.g. -DFLB_RUST_TARGET=aarch64-unknown-linux-gnu) and install it "
      "(rustup target add ...).")
  endif()
endif()

set(FLB_RUST_TARGET_DIR "${CMAKE_BINARY_DIR}/flb-rust-target" CACHE PATH
  "Cargo target directory of the Rust plugins (may be shared by builds of the same features)")
set(_flb_rs_target_dir "${FLB_RUST_TARGET_DIR}")
set(_flb_rs_env "CARGO_TARGET_DIR=${_flb_rs_target_dir}")
string(REPLACE ";" "," _flb_rs_features "${FLB_RUST_FEATURES}")
# Plugin crates from elsewhere: a generated crate links them with
# flb-rs-ffi (FlbRustPluginCrates.cmake); without them, rust/staticlib.
set(FLB_RS_EXTERNAL_PLUGIN_LIST "")
set(_flb_rs_extra_sources "")
set(_flb_rs_after_build "")
set(_flb_rs_workdir "${FLB_RS_ROOT}")
if(FLB_RUST_PLUGIN_CRATES)
  flb_rust_read_plugin_crates(_flb_rs_ext "${FLB_RUST_PLUGIN_CRATES}" "${FLB_RUST_CARGO}"
                              "${FLB_RS_ROOT}" "${FLB_RUST_OFFLINE}")
  set(FLB_RS_EXTERNAL_PLUGIN_LIST "${_flb_rs_ext_PLUGINS}")
  # In the target directory, named after what it is made of: builds that
  # share a target directory and link the same crates with the same
  # features share one generated crate, so Rust is compiled once for them.
  get_filename_component(_flb_rs_real_root "${FLB_RS_ROOT}" REALPATH)
  string(SHA256 _flb_rs_bundle_id
    "${_flb_rs_real_root};${_flb_rs_ext_DIRS};${_flb_rs_features}")
  string(SUBSTRING "${_flb_rs_bundle_id}" 0 12 _flb_rs_bundle_id)
  set(_flb_rs_bundle "${_flb_rs_target_dir}/flb-rust-bundle-${_flb_rs_bundle_id}")
  file(MAKE_DIRECTORY "${_flb_rs_bundle}")
  flb_rust_generate_bundle("${_flb_rs_bundle}" "${FLB_RS_ROOT}" _flb_rs_ext "${_flb_rs_features}")
  # The combined lock file: the one given, with --locked; otherwise seeded
  # from flb-rust's (the in-tree crates keep their tested versions) and
  # completed by cargo, then written where FLB_RUST_PLUGIN_LOCK says.
  set(_flb_rs_locked "")
  if(FLB_RUST_PLUGIN_LOCK AND EXISTS "${FLB_RUST_PLUGIN_LOCK}")
    configure_file("${FLB_RUST_PLUGIN_LOCK}" "${_flb_rs_bundle}/Cargo.lock" COPYONLY)
    set(_flb_rs_locked --locked)
    list(APPEND _flb_rs_extra_sources "${FLB_RUST_PLUGIN_LOCK}")
  else()
    if(NOT EXISTS "${_flb_rs_bundle}/Cargo.lock")
      configure_file("${FLB_RS_ROOT}/Cargo.lock" "${_flb_rs_bundle}/Cargo.lock" COPYONLY)
    endif()
    if(FLB_RUST_PLUGIN_LOCK)
      set(_flb_rs_after_build COMMAND "${CMAKE_COMMAND}" -E copy_if_different
          "${_flb_rs_bundle}/Cargo.lock" "${FLB_RUST_PLUGIN_LOCK}")
      message(STATUS "flb-rust: ${FLB_RUST_PLUGIN_LOCK} does not exist yet: the first build "
                     "writes the plugin crates' lock file there; later builds use it with --locked")
    else()
      message(STATUS "flb-rust: the plugin crates are built without a lock file of their own "
                     "(set FLB_RUST_PLUGIN_LOCK for reproducible --locked builds)")
    endif()
  endif()
  set(_flb_rs_args build --manifest-path "${_flb_rs_bundle}/Cargo.toml" ${_flb_rs_locked}
                   --profile "${_flb_rs_profile}" -p flb-rs-bundle)
  set(_flb_rs_libname "libflb_rs_bundle.a")
  set(_flb_rs_workdir "${_flb_rs_bundle}")
  list(APPEND _flb_rs_extra_sources ${_flb_rs_ext_SOURCES}
       "${_flb_rs_bundle}/Cargo.toml" "${_flb_rs_bundle}/lib.rs")
else()
  set(_flb_rs_args build --manifest-path "${FLB_RS_ROOT}/Cargo.toml" --locked
                   --profile "${_flb_rs_profile}" -p flb-rs --no-default-features)
  if(_flb_rs_features)
    list(APPEND _flb_rs_args --features "${_flb_rs_features}")
  endif()
  set(_flb_rs_libname "libflb_rs.a")
endif()
if(FLB_RUST_VENDOR_DIR)
  get_filename_component(_flb_rs_vendor "${FLB_RUST_VENDOR_DIR}" ABSOLUTE)
  list(APPEND _flb_rs_args
    --config "source.crates-io.replace-with='flb-rust-vendored'"
    --config "source.flb-rust-vendored.directory='${_flb_rs_vendor}'")
endif()
if(FLB_RUST_OFFLINE)
  list(APPEND _flb_rs_args --offline)
endif()
if(_flb_rs_triple)
  list(APPEND _flb_rs_args --target "${_flb_rs_triple}")
  set(_flb_rs_lib "${_flb_rs_target_dir}/${_flb_rs_triple}/${_flb_rs_profile_dir}/${_flb_rs_libname}")
  # cargo links nothing for a staticlib, but build scripts of dependencies
  # may compile C: give them the same cross compiler as Fluent Bit.
  string(TOUPPER "${_flb_rs_triple}" _flb_rs_triple_env)
  string(REPLACE "-" "_" _flb_rs_triple_env "${_flb_rs_triple_env}")
  list(APPEND _flb_rs_env
    "CARGO_TARGET_${_flb_rs_triple_env}_LINKER=${CMAKE_C_COMPILER}"
    "CC_${_flb_rs_triple}=${CMAKE_C_COMPILER}"
    "AR_${_flb_rs_triple}=${CMAKE_AR}")
else()
  set(_flb_rs_lib "${_flb_rs_target_dir}/${_flb_rs_profile_dir}/${_flb_rs_libname}")
endif()

message(STATUS "flb-rust: Rust plugins from ${FLB_RS_ROOT}")
if(_flb_rs_triple)
  set(_flb_rs_shown_target "${_flb_rs_triple}")
else()
  set(_flb_rs_shown_target "host")
endif()
message(STATUS "flb-rust: rustc ${_flb_rs_rustc_semver}, profile ${_flb_rs_profile}, "
               "target ${_flb_rs_shown_target}, features '${_flb_rs_features}', "
               "offline ${FLB_RUST_OFFLINE}")
if(FLB_RUST_PLUGIN_CRATES)
  message(STATUS "flb-rust: plugin crates ${FLB_RUST_PLUGIN_CRATES}")
endif()

# ---- the static library -------------------------------------------------

# Rebuild when any Rust source or manifest changes (cargo itself decides
# what to recompile).
file(GLOB_RECURSE _flb_rs_sources CONFIGURE_DEPENDS
  "${FLB_RS_ROOT}/rust/*.rs" "${FLB_RS_ROOT}/rust/*Cargo.toml")
# The fuzz crate is not part of the library, and its target directory is
# large: neither is a reason to rebuild.
list(FILTER _flb_rs_sources EXCLUDE REGEX "/rust/fuzz/")
list(APPEND _flb_rs_sources "${FLB_RS_ROOT}/Cargo.toml" "${FLB_RS_ROOT}/Cargo.lock"
     ${_flb_rs_extra_sources})

add_custom_command(
  OUTPUT "${_flb_rs_lib}"
  COMMAND "${CMAKE_COMMAND}" -E env ${_flb_rs_env} "${FLB_RUST_CARGO}" ${_flb_rs_args}
  ${_flb_rs_after_build}
  DEPENDS ${_flb_rs_sources}
  WORKING_DIRECTORY "${_flb_rs_workdir}"
  COMMENT "flb-rust: cargo build (${_flb_rs_profile})"
  USES_TERMINAL
  VERBATIM)
add_custom_target(flb-rust-cargo DEPENDS "${_flb_rs_lib}")

# The native libraries the staticlib needs on the target (what
# `--print native-static-libs` lists for Linux; Fluent Bit links them too).
# rs_syslog's TLS and rs_redact's keyed hash use the system OpenSSL, the one
# Fluent Bit links.
find_package(Threads REQUIRED)
set(_flb_rs_native "Threads::Threads;${CMAKE_DL_LIBS};m;rt;util")
string(FIND ",${_flb_rs_features}," ",syslog," _flb_rs_has_syslog)
string(FIND ",${_flb_rs_features}," ",redact," _flb_rs_has_redact)
if(_flb_rs_has_syslog GREATER -1 OR _flb_rs_has_redact GREATER -1)
  find_package(OpenSSL REQUIRED)
  set(_flb_rs_native "OpenSSL::SSL;OpenSSL::Crypto;${_flb_rs_native}")
endif()
add_library(flb-rust STATIC IMPORTED GLOBAL)
set_target_properties(flb-rust PROPERTIES
  IMPORTED_LOCATION "${_flb_rs_lib}"
  INTERFACE_LINK_LIBRARIES "${_flb_rs_native}")
add_dependencies(flb-rust flb-rust-cargo)

# The C shim, compiled against this Fluent Bit tree's headers.
add_library(flb-rust-shim STATIC
  "${FLB_RS_ROOT}/cmake/shim/flb_rs_shim_common.c"
  "${FLB_RS_ROOT}/cmake/shim/flb_rs_shim_input.c"
  "${FLB_RS_ROOT}/cmake/shim/flb_rs_shim_filter.c"
  "${FLB_RS_ROOT}/cmake/shim/flb_rs_shim_output.c")
target_include_directories(flb-rust-shim PUBLIC
  "${FLB_RS_ROOT}/include" "${FLB_RS_ROOT}/cmake/shim")
target_link_libraries(flb-rust-shim PUBLIC fluent-bit-static flb-rust)
# Fluent Bit 4.0 and later parse tls.min_version themselves (and keep it
# from the plugin); 3.2 passes it on like any plugin key.
file(READ "${PROJECT_SOURCE_DIR}/include/fluent-bit/flb_output.h" _flb_rs_output_h)
string(FIND "${_flb_rs_output_h}" "tls_min_version" _flb_rs_has_min_version)
if(_flb_rs_has_min_version GREATER -1)
  target_compile_definitions(flb-rust-shim PRIVATE FLB_RS_HAVE_TLS_MIN_VERSION)
endif()
# 4.0 and later make tasks of chunks still pending during the shutdown
# grace period; 3.2 only waits for tasks already running.
file(READ "${PROJECT_SOURCE_DIR}/src/flb_engine.c" _flb_rs_engine_c)
string(FIND "${_flb_rs_engine_c}" "flb_storage_chunk_count(config" _flb_rs_flushes_pending)
if(_flb_rs_flushes_pending GREATER -1)
  target_compile_definitions(flb-rust-shim PRIVATE FLB_RS_ENGINE_FLUSHES_PENDING_AT_STOP)
endif()
# 5.0 and later parse tls.verify_client_cert for inputs.
file(READ "${PROJECT_SOURCE_DIR}/include/fluent-bit/flb_input.h" _flb_rs_input_h)
string(FIND "${_flb_rs_input_h}" "tls_verify_client" _flb_rs_has_verify_client)
if(_flb_rs_has_verify_client GREATER -1)
  target_compile_definitions(flb-rust-shim PRIVATE FLB_RS_HAVE_TLS_VERIFY_CLIENT)
endif()
if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  # -Wextra without the two checks that Fluent Bit's own inline headers
  # (flb_sds.h, flb_log.h, flb_input.h) trip in every release.
  target_compile_options(flb-rust-shim PRIVATE
    -Wall -Wextra -Wno-sign-compare -Wno-unused-parameter)
endif()

# ---- plugins --------------------------------------------------------------

# Writes the directory Fluent Bit's REGISTER_*_PLUGIN("id=dir") adds for
# one Rust plugin: the generated plugin struct and its FLB_PLUGIN target.
function(flb_rust_plugin_dir kind name out_dir)
  flb_rust_plugin_id(${kind} ${name} id)
  set(dir "${CMAKE_BINARY_DIR}/flb-rust-plugins/${id}")
  set(FLB_RS_KIND "${kind}")
  set(FLB_RS_NAME "${name}")
  set(FLB_RS_ID "${id}")
  configure_file("${FLB_RS_ROOT}/cmake/shim/plugin.c.in" "${dir}/${id}.c" @ONLY)
  file(WRITE "${dir}/CMakeLists.txt.new"
    "# Generated by flb-rust's cmake/FlbRust.cmake\n"
    "FLB_PLUGIN(${id} \"${dir}/${id}.c\" \"flb-rust-shim\")\n")
  configure_file("${dir}/CMakeLists.txt.new" "${dir}/CMakeLists.txt" COPYONLY)
  set(${out_dir} "${dir}" PARENT_SCOPE)
endfunction()

# The enabled plugins, "kind:name" each: the in-tree ones of
# FLB_RS_PLUGIN_LIST whose feature is on, then the plugin crates' (whose
# names are checked against the others and Fluent Bit's own).
function(flb_rust_enabled_plugins out)
  string(REPLACE "," ";" features "${FLB_RUST_FEATURES}")
  set(enabled "")
  foreach(entry ${FLB_RS_PLUGIN_LIST})
    string(REPLACE ":" ";" parts "${entry}")
    list(GET parts 0 kind)
    list(GET parts 1 name)
    list(GET parts 2 feature)
    if(feature IN_LIST features)
      list(APPEND enabled "${kind}:${name}")
    endif()
  endforeach()
  flb_rust_check_plugin_names("${enabled}" "${FLB_RS_EXTERNAL_PLUGIN_LIST}" "${PROJECT_SOURCE_DIR}")
  list(APPEND enabled ${FLB_RS_EXTERNAL_PLUGIN_LIST})
  set(${out} "${enabled}" PARENT_SCOPE)
endfunction()

# Registers every enabled plugin.
macro(flb_rust_register_plugins)
  flb_rust_enabled_plugins(_flb_rs_enabled)
  foreach(_flb_rs_entry ${_flb_rs_enabled})
    string(REPLACE ":" ";" _flb_rs_parts "${_flb_rs_entry}")
    list(GET _flb_rs_parts 0 _flb_rs_kind)
    list(GET _flb_rs_parts 1 _flb_rs_name)
    flb_rust_plugin_dir(${_flb_rs_kind} ${_flb_rs_name} _flb_rs_dir)
    flb_rust_plugin_id(${_flb_rs_kind} ${_flb_rs_name} _flb_rs_id)
    message(STATUS "flb-rust: ${_flb_rs_kind} plugin ${_flb_rs_name}")
    if(_flb_rs_kind STREQUAL "input")
      REGISTER_IN_PLUGIN("${_flb_rs_id}=${_flb_rs_dir}")
    elseif(_flb_rs_kind STREQUAL "filter")
      REGISTER_FILTER_PLUGIN("${_flb_rs_id}=${_flb_rs_dir}")
    else()
      REGISTER_OUT_PLUGIN("${_flb_rs_id}=${_flb_rs_dir}")
    endif()
  endforeach()
endmacro()

# Zero-patch mode: called from cmake/ext/<id>/CMakeLists.txt, which
# Fluent Bit adds for -DEXT_<KIND>_PLUGINS=<id>=<flb-rust>/cmake/ext/<id>.
# Defines the plugin's target in that directory.
function(flb_rust_ext_plugin kind name)
  flb_rust_plugin_id(${kind} ${name} id)
  set(FLB_RS_KIND "${kind}")
  set(FLB_RS_NAME "${name}")
  set(FLB_RS_ID "${id}")
  configure_file("${FLB_RS_ROOT}/cmake/shim/plugin.c.in"
                 "${CMAKE_CURRENT_BINARY_DIR}/${id}.c" @ONLY)
  FLB_PLUGIN(${id} "${CMAKE_CURRENT_BINARY_DIR}/${id}.c" "flb-rust-shim")
endfunction()

# The plugin crates' names, checked at configure time in both modes (the
# patch's flb_rust_register_plugins checks them again as it registers).
if(FLB_RS_EXTERNAL_PLUGIN_LIST)
  flb_rust_enabled_plugins(_flb_rs_checked)
endif()
