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

include_guard(GLOBAL)

# A cache variable, not a plain one: in zero-patch mode this file is
# included once, from the first plugin's directory, and the functions below
# run from the others.
get_filename_component(_flb_rs_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(FLB_RS_ROOT "${_flb_rs_root}" CACHE INTERNAL "flb-rust source directory")
set(FLB_RS_MIN_RUST "1.85.0")

include("${CMAKE_CURRENT_LIST_DIR}/plugins.cmake")

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
set(FLB_RUST_PROFILE "" CACHE STRING "Cargo profile for flb-rs (empty: from CMAKE_BUILD_TYPE)")
set(FLB_RUST_TARGET "" CACHE STRING "Rust target triple (empty: host, or derived when cross-compiling)")
if(EXISTS "${FLB_RS_ROOT}/vendor")
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
set(_flb_rs_args build --manifest-path "${FLB_RS_ROOT}/Cargo.toml" --locked
                 --profile "${_flb_rs_profile}" -p flb-rs --no-default-features)
string(REPLACE ";" "," _flb_rs_features "${FLB_RUST_FEATURES}")
if(_flb_rs_features)
  list(APPEND _flb_rs_args --features "${_flb_rs_features}")
endif()
if(FLB_RUST_OFFLINE)
  list(APPEND _flb_rs_args --offline)
endif()
if(_flb_rs_triple)
  list(APPEND _flb_rs_args --target "${_flb_rs_triple}")
  set(_flb_rs_lib "${_flb_rs_target_dir}/${_flb_rs_triple}/${_flb_rs_profile_dir}/libflb_rs.a")
  # cargo links nothing for a staticlib, but build scripts of dependencies
  # may compile C: give them the same cross compiler as Fluent Bit.
  string(TOUPPER "${_flb_rs_triple}" _flb_rs_triple_env)
  string(REPLACE "-" "_" _flb_rs_triple_env "${_flb_rs_triple_env}")
  list(APPEND _flb_rs_env
    "CARGO_TARGET_${_flb_rs_triple_env}_LINKER=${CMAKE_C_COMPILER}"
    "CC_${_flb_rs_triple}=${CMAKE_C_COMPILER}"
    "AR_${_flb_rs_triple}=${CMAKE_AR}")
else()
  set(_flb_rs_lib "${_flb_rs_target_dir}/${_flb_rs_profile_dir}/libflb_rs.a")
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

# ---- the static library -------------------------------------------------

# Rebuild when any Rust source or manifest changes (cargo itself decides
# what to recompile).
file(GLOB_RECURSE _flb_rs_sources CONFIGURE_DEPENDS
  "${FLB_RS_ROOT}/rust/*.rs" "${FLB_RS_ROOT}/rust/*Cargo.toml")
# The fuzz crate is not part of the library, and its target directory is
# large: neither is a reason to rebuild.
list(FILTER _flb_rs_sources EXCLUDE REGEX "/rust/fuzz/")
list(APPEND _flb_rs_sources "${FLB_RS_ROOT}/Cargo.toml" "${FLB_RS_ROOT}/Cargo.lock")

add_custom_command(
  OUTPUT "${_flb_rs_lib}"
  COMMAND "${CMAKE_COMMAND}" -E env ${_flb_rs_env} "${FLB_RUST_CARGO}" ${_flb_rs_args}
  DEPENDS ${_flb_rs_sources}
  WORKING_DIRECTORY "${FLB_RS_ROOT}"
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

# Registers every plugin of FLB_RS_PLUGIN_LIST whose feature is enabled.
macro(flb_rust_register_plugins)
  string(REPLACE "," ";" _flb_rs_feature_list "${FLB_RUST_FEATURES}")
  foreach(_flb_rs_entry ${FLB_RS_PLUGIN_LIST})
    string(REPLACE ":" ";" _flb_rs_parts "${_flb_rs_entry}")
    list(GET _flb_rs_parts 0 _flb_rs_kind)
    list(GET _flb_rs_parts 1 _flb_rs_name)
    list(GET _flb_rs_parts 2 _flb_rs_feature)
    list(FIND _flb_rs_feature_list "${_flb_rs_feature}" _flb_rs_on)
    if(_flb_rs_on GREATER -1)
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
