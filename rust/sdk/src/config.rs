//! Typed plugin configuration.
//!
//! A plugin declares its keys once, with [`config_struct!`](crate::config_struct):
//! name, type, default and description. From that one declaration the host
//! gets the key list (Fluent Bit's config map, `fluent-bit -o NAME -h`) and
//! the plugin gets a parsed struct. Values are parsed the way Fluent Bit
//! parses its own config map, so a key means the same in both worlds; a bad
//! value is an error naming the key and the value.

use std::fmt;
use std::time::Duration;

/// The type of a key, as the host's config map knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// Any string.
    Str,
    /// A signed integer.
    Int,
    /// `on`/`off`, `true`/`false` or `yes`/`no`, in any case.
    Bool,
    /// A floating-point number.
    Double,
    /// A size in bytes, with an optional K, M or G suffix (powers of 1000,
    /// as in Fluent Bit).
    Size,
    /// A duration: seconds, or a number with an m, h or d suffix.
    Time,
    /// A comma-separated list of strings.
    CommaList,
    /// A space-separated list of strings.
    SpaceList,
}

/// One configuration key of a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    /// The key as users write it (matched without regard to ASCII case).
    pub name: &'static str,
    /// How the value is parsed, and what `fluent-bit -h` shows for it.
    pub ty: KeyType,
    /// The default as the user would write it; `None` when the key has none.
    pub default: Option<&'static str>,
    /// The one-line help that `fluent-bit -<kind> <name> -h` prints.
    pub description: &'static str,
    /// The key may be given several times; every value is kept.
    pub multiple: bool,
}

/// A configuration problem, found at init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The properties an instance was configured with, in the order given.
/// Keys compare without regard to ASCII case, as in Fluent Bit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<(String, String)>,
}

impl Properties {
    /// No properties.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one `key value` pair after the others (a repeated key keeps
    /// every value).
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.entries.push((key.into(), value.into()));
    }

    /// Every pair, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Every value given for `key`, in order.
    pub fn values<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// Refuses any key that is not declared.
    pub fn check_known(&self, keys: &[ConfigKey]) -> Result<(), ConfigError> {
        for (k, _) in self.iter() {
            if !keys.iter().any(|d| d.name.eq_ignore_ascii_case(k)) {
                let known: Vec<&str> = keys.iter().map(|d| d.name).collect();
                return Err(ConfigError(format!(
                    "unknown configuration key '{k}' (known keys: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        }
        Ok(())
    }

    /// Parses the value of one declared key, falling back to its default.
    pub fn parse<T: ConfigValue>(&self, key: &ConfigKey) -> Result<T, ConfigError> {
        let mut given: Vec<&str> = self.values(key.name).collect();
        if given.is_empty() {
            if let Some(d) = key.default {
                given.push(d);
            }
        }
        T::from_values(&given).map_err(|why| {
            if given.is_empty() {
                ConfigError(format!("missing required configuration key '{}'", key.name))
            } else {
                ConfigError(format!(
                    "invalid value '{}' for configuration key '{}': {why}",
                    given.join("', '"),
                    key.name
                ))
            }
        })
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Properties {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut p = Properties::new();
        for (k, v) in iter {
            p.push(k, v);
        }
        p
    }
}

/// A struct of configuration, declared with [`config_struct!`](crate::config_struct).
pub trait PluginConfig: Sized {
    /// The keys the plugin declares: what the host registers in its config
    /// map, and all that [`from_properties`](Self::from_properties) accepts.
    const KEYS: &'static [ConfigKey];
    /// Parses an instance's properties; an unknown key, a missing required
    /// one or a value of the wrong type is an error naming the key.
    fn from_properties(props: &Properties) -> Result<Self, ConfigError>;
}

/// A plugin without configuration.
impl PluginConfig for () {
    const KEYS: &'static [ConfigKey] = &[];
    fn from_properties(_: &Properties) -> Result<Self, ConfigError> {
        Ok(())
    }
}

/// A Rust type that a configuration value parses into. `values` holds every
/// value given for the key (or its default), empty when there is none.
pub trait ConfigValue: Sized {
    /// The key type declared for fields of this type.
    const TYPE: KeyType;
    /// Whether the key may be given several times (true for `Vec<T>`).
    const MULTIPLE: bool = false;
    /// Parses the values; the error says what was expected, without the
    /// key's name (the caller adds it).
    fn from_values(values: &[&str]) -> Result<Self, String>;
}

/// A single value: the last one given wins, as in Fluent Bit.
fn single<'v>(values: &[&'v str]) -> Result<&'v str, String> {
    values
        .last()
        .copied()
        .ok_or_else(|| "a value is required".to_string())
}

impl ConfigValue for String {
    const TYPE: KeyType = KeyType::Str;
    fn from_values(values: &[&str]) -> Result<Self, String> {
        single(values).map(str::to_string)
    }
}

impl ConfigValue for bool {
    const TYPE: KeyType = KeyType::Bool;
    fn from_values(values: &[&str]) -> Result<Self, String> {
        parse_bool(single(values)?)
    }
}

/// Fluent Bit's booleans: true/false, on/off, yes/no, any case.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    let s = s.trim();
    for t in ["true", "on", "yes"] {
        if s.eq_ignore_ascii_case(t) {
            return Ok(true);
        }
    }
    for f in ["false", "off", "no"] {
        if s.eq_ignore_ascii_case(f) {
            return Ok(false);
        }
    }
    Err("expected a boolean (true/false, on/off, yes/no)".to_string())
}

macro_rules! int_config_value {
    ($($t:ty),*) => {$(
        impl ConfigValue for $t {
            const TYPE: KeyType = KeyType::Int;
            fn from_values(values: &[&str]) -> Result<Self, String> {
                let s = single(values)?.trim();
                s.parse::<$t>().map_err(|_| {
                    format!("expected an integer from {} to {}", <$t>::MIN, <$t>::MAX)
                })
            }
        }
    )*};
}
int_config_value!(i32, i64, u16, u32, u64, usize);

impl ConfigValue for f64 {
    const TYPE: KeyType = KeyType::Double;
    fn from_values(values: &[&str]) -> Result<Self, String> {
        single(values)?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| "expected a number".to_string())
    }
}

/// A size in bytes (`Size` key type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ByteSize(pub u64);

impl ConfigValue for ByteSize {
    const TYPE: KeyType = KeyType::Size;
    fn from_values(values: &[&str]) -> Result<Self, String> {
        parse_size(single(values)?).map(ByteSize)
    }
}

/// Parses a size as Fluent Bit does: a number with an optional K, KB, M,
/// MB, G or GB suffix in any case, powers of 1000; `false` means 0.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let bad = || "expected a size such as 512, 64K, 10M or 1G".to_string();
    if s.eq_ignore_ascii_case("false") {
        return Ok(0);
    }
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.trim().parse().map_err(|_| bad())?;
    let mult: f64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1.0,
        "K" | "KB" => 1e3,
        "M" | "MB" => 1e6,
        "G" | "GB" => 1e9,
        _ => return Err(bad()),
    };
    let v = n * mult;
    if !v.is_finite() || v < 0.0 || v >= u64::MAX as f64 {
        return Err(bad());
    }
    Ok(v as u64)
}

impl ConfigValue for Duration {
    const TYPE: KeyType = KeyType::Time;
    fn from_values(values: &[&str]) -> Result<Self, String> {
        parse_time(single(values)?)
    }
}

/// Parses a duration: seconds (fractions allowed), or a number with an
/// `ms`, `s`, `m`, `h` or `d` suffix.
pub fn parse_time(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || "expected a duration such as 30, 1.5s, 500ms, 5m, 1h or 1d".to_string();
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.trim().parse().map_err(|_| bad())?;
    let secs = match unit.to_ascii_lowercase().as_str() {
        "" | "s" => n,
        "ms" => n / 1e3,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// A comma-separated list (`CommaList` key type); items are trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommaList(pub Vec<String>);

impl ConfigValue for CommaList {
    const TYPE: KeyType = KeyType::CommaList;
    fn from_values(values: &[&str]) -> Result<Self, String> {
        Ok(CommaList(
            single(values)?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ))
    }
}

/// A space-separated list (`SpaceList` key type).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpaceList(pub Vec<String>);

impl ConfigValue for SpaceList {
    const TYPE: KeyType = KeyType::SpaceList;
    fn from_values(values: &[&str]) -> Result<Self, String> {
        Ok(SpaceList(
            single(values)?
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        ))
    }
}

/// An optional key: `None` when neither given nor defaulted.
impl<T: ConfigValue> ConfigValue for Option<T> {
    const TYPE: KeyType = T::TYPE;
    const MULTIPLE: bool = T::MULTIPLE;
    fn from_values(values: &[&str]) -> Result<Self, String> {
        if values.is_empty() {
            Ok(None)
        } else {
            T::from_values(values).map(Some)
        }
    }
}

/// A repeatable key: every value given, each parsed as `T`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Multi<T>(pub Vec<T>);

impl<T: ConfigValue> ConfigValue for Multi<T> {
    const TYPE: KeyType = T::TYPE;
    const MULTIPLE: bool = true;
    fn from_values(values: &[&str]) -> Result<Self, String> {
        values
            .iter()
            .map(|v| T::from_values(std::slice::from_ref(v)))
            .collect::<Result<Vec<T>, String>>()
            .map(Multi)
    }
}

/// Declares a plugin's configuration once: the struct, its keys for the
/// host, and the parsing.
///
/// ```
/// flb_rs_sdk::config_struct! {
///     pub struct MyConfig {
///         /// Where to write.
///         pub path: String,
///         /// Flush to disk after each chunk.
///         pub sync: bool = "off",
///         /// Key names may differ from field names.
///         pub tls_verify as "tls.verify": bool = "on",
///         /// Optional keys are `Option`s; repeatable ones are `Multi`s.
///         pub extra: flb_rs_sdk::config::Multi<String>,
///     }
/// }
/// ```
///
/// A field without a default and not an `Option` or `Multi` is required.
/// The doc comments become the keys' descriptions.
#[macro_export]
macro_rules! config_struct {
    (
        $(#[$smeta:meta])*
        $svis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $fvis:vis $field:ident $(as $key:literal)? : $ty:ty $(= $default:literal)?
            ),* $(,)?
        }
    ) => {
        $(#[$smeta])*
        $svis struct $name {
            $( $(#[doc = $doc])* $fvis $field: $ty, )*
        }

        impl $crate::config::PluginConfig for $name {
            const KEYS: &'static [$crate::config::ConfigKey] = &[
                $( $crate::__config_key!($field $(as $key)? : $ty $(= $default)? ; $($doc)*), )*
            ];

            fn from_properties(
                props: &$crate::config::Properties,
            ) -> ::std::result::Result<Self, $crate::config::ConfigError> {
                props.check_known(Self::KEYS)?;
                ::std::result::Result::Ok($name {
                    $( $field: props.parse::<$ty>(
                        &$crate::__config_key!($field $(as $key)? : $ty $(= $default)? ; $($doc)*),
                    )?, )*
                })
            }
        }
    };
}

/// The `ConfigKey` of one field of [`config_struct!`](crate::config_struct).
#[doc(hidden)]
#[macro_export]
macro_rules! __config_key {
    ($field:ident $(as $key:literal)? : $ty:ty $(= $default:literal)? ; $($doc:literal)*) => {
        $crate::config::ConfigKey {
            name: $crate::__config_key_name!($field $(, $key)?),
            ty: <$ty as $crate::config::ConfigValue>::TYPE,
            default: $crate::__config_default!($($default)?),
            description: concat!($($doc, "\n",)* ""),
            multiple: <$ty as $crate::config::ConfigValue>::MULTIPLE,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __config_key_name {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident, $key:literal) => {
        $key
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __config_default {
    () => {
        None
    };
    ($d:literal) => {
        Some($d)
    };
}

/// The description of a key as one line: doc comments arrive with a leading
/// space per line and a line break after each.
pub fn one_line(description: &str) -> String {
    description
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
