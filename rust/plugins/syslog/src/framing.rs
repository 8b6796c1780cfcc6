//! How messages are delimited on stream transports (RFC 6587).

/// Stream framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `LEN SP MSG` (RFC 6587 3.4.1, RFC 5425): any byte may appear in MSG.
    OctetCounting,
    /// `MSG LF` (RFC 6587 3.4.2). A line feed inside MSG would end the
    /// message early, so each one is written as a space.
    NonTransparent,
}

impl Framing {
    pub fn parse(s: &str) -> Result<Framing, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "octet_counting" | "octet-counting" => Ok(Framing::OctetCounting),
            "non_transparent" | "non-transparent" | "lf" => Ok(Framing::NonTransparent),
            other => Err(format!(
                "'{other}': expected octet_counting or non_transparent"
            )),
        }
    }

    /// Appends one framed message to `out`.
    pub fn frame(self, out: &mut Vec<u8>, msg: &[u8]) {
        match self {
            Framing::OctetCounting => {
                out.extend_from_slice(msg.len().to_string().as_bytes());
                out.push(b' ');
                out.extend_from_slice(msg);
            }
            Framing::NonTransparent => {
                out.extend(msg.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
                out.push(b'\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octet_counting_prefixes_the_byte_length() {
        let mut out = Vec::new();
        Framing::OctetCounting.frame(&mut out, "a\nb é".as_bytes());
        Framing::OctetCounting.frame(&mut out, b"");
        assert_eq!(out, "6 a\nb é0 ".as_bytes());
    }

    #[test]
    fn non_transparent_never_splits_a_message() {
        let mut out = Vec::new();
        Framing::NonTransparent.frame(&mut out, b"one\ntwo\n");
        assert_eq!(out, b"one two \n");
    }

    #[test]
    fn parse_names() {
        assert_eq!(Framing::parse("octet_counting"), Ok(Framing::OctetCounting));
        assert_eq!(Framing::parse("LF"), Ok(Framing::NonTransparent));
        assert!(Framing::parse("crlf").is_err());
    }
}
