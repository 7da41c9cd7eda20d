//! Web site addresses.

use std::fmt;
use std::str::FromStr;

use super::InvalidValue;

/// The longest address accepted, in characters.
const MAX_LEN: usize = 2048;
/// The longest host name accepted, in characters.
const MAX_HOST_LEN: usize = 253;

/// Characters never allowed in the path, query or fragment of an address.
const PATH_FORBIDDEN: &[char] = &['<', '>', '"', '\\', '^', '`', '{', '|', '}'];

/// A web site address: an `http` or `https` URL with a host name that has a dot.
///
/// Input without a scheme gets `https://`. Scheme and host are stored in lower case, the rest
/// as entered. [`Website::domain`] gives the host without a leading `www.` (the company's
/// `domain` column, used for matching e-mail domains and duplicates).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Website {
    url: String,
    domain: String,
}

impl Website {
    /// Parses `example.com`, `www.example.com`, `https://example.com/path` and the like.
    /// Rejects spaces, user names, hosts without a dot, bad characters and other schemes.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        if s.chars().count() > MAX_LEN {
            return Err(InvalidValue::new("is longer than 2048 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidValue::new("must not contain spaces"));
        }
        // A "://" counts as the end of a scheme only before any path: not in
        // `example.com/?next=https://other.example`.
        let scheme_end = s.find("://").filter(|&i| is_scheme(&s[..i]));
        let (scheme, rest) = match scheme_end {
            Some(i) => {
                let scheme = s[..i].to_ascii_lowercase();
                if scheme != "http" && scheme != "https" {
                    return Err(InvalidValue::new("must be an http or https address"));
                }
                (scheme, &s[i + 3..])
            }
            None => ("https".to_string(), s),
        };
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(split);
        if authority.contains('@') {
            return Err(InvalidValue::new("must not contain a user name"));
        }
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let host = host.to_lowercase();
        if !valid_host(&host) {
            return Err(InvalidValue::new("is not a valid web address (host name)"));
        }
        if let Some(port) = port {
            let ok = !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok_and(|p| p > 0);
            if !ok {
                return Err(InvalidValue::new("is not a valid web address (port)"));
            }
        }
        if tail.contains(PATH_FORBIDDEN) {
            return Err(InvalidValue::new(
                "contains characters not allowed in a web address",
            ));
        }
        let domain = host.strip_prefix("www.").unwrap_or(&host).to_string();
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let url = format!("{scheme}://{host}{port}{tail}");
        Ok(Self { url, domain })
    }

    /// The full address, e.g. `https://www.example.com/path`.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The host in lower case without a leading `www.`, e.g. `example.com`.
    pub fn domain(&self) -> &str {
        &self.domain
    }
}

/// RFC 3986 scheme syntax: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn valid_host(host: &str) -> bool {
    if host.chars().count() > MAX_HOST_LEN || !host.contains('.') {
        return false;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.chars().count() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    labels_ok && tld_ok
}

impl fmt::Display for Website {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl AsRef<str> for Website {
    fn as_ref(&self) -> &str {
        &self.url
    }
}

impl FromStr for Website {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Website {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.url)
    }
}

impl<'de> serde::Deserialize<'de> for Website {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::deserialize_parsed(deserializer, Self::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_forms() {
        for (raw, url, domain) in [
            ("example.com", "https://example.com", "example.com"),
            ("www.example.com", "https://www.example.com", "example.com"),
            ("WWW.Example.COM", "https://www.example.com", "example.com"),
            (
                "https://example.com/path",
                "https://example.com/path",
                "example.com",
            ),
            (
                "http://www.example.de/",
                "http://www.example.de/",
                "example.de",
            ),
            (
                "HTTPS://Shop.Example.de/A?b=C#D",
                "https://shop.example.de/A?b=C#D",
                "shop.example.de",
            ),
            (
                "example.com:8080/x",
                "https://example.com:8080/x",
                "example.com",
            ),
            (
                "  müller-bau.de  ",
                "https://müller-bau.de",
                "müller-bau.de",
            ),
            ("example.com?q=1", "https://example.com?q=1", "example.com"),
            (
                "example.com/go?to=https://other.example",
                "https://example.com/go?to=https://other.example",
                "example.com",
            ),
        ] {
            let w = Website::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(w.as_str(), url, "{raw}");
            assert_eq!(w.to_string(), url, "{raw}");
            assert_eq!(w.domain(), domain, "{raw}");
        }
    }

    #[test]
    fn rejects_bad_addresses() {
        for bad in [
            "",
            "   ",
            "example",
            "localhost",
            "exa mple.com",
            "https://example.com/a b",
            "ftp://example.com",
            "javascript://example.com",
            "mailto:anna@example.com",
            "anna@example.com",
            "https://user:pw@example.com",
            "https://",
            "https:///path",
            "https://.example.com",
            "https://example..com",
            "https://-example.com",
            "https://exa_mple.com",
            "https://example.c",
            "https://192.168.0.1",
            "https://example.com:",
            "https://example.com:0",
            "https://example.com:99999",
            "https://example.com:80a",
            "https://example.com/<script>",
            "example.com/\"x\"",
        ] {
            assert!(Website::parse(bad).is_err(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn serde_round_trip() {
        let w: Website = serde_json::from_str("\"www.Example.com\"").unwrap();
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            "\"https://www.example.com\""
        );
        assert_eq!(w.domain(), "example.com");
        assert!(serde_json::from_str::<Website>("\"no-dot\"").is_err());
    }
}
