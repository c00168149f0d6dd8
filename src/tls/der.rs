//! Just enough DER to read an X.509 v1 certificate: the fields a legacy
//! client certificate is checked on (see `client_auth.rs`). Anything the
//! reader does not expect is an error; it never guesses.

/// One tag-length-value element.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    /// The whole element, tag and length included.
    pub der: &'a [u8],
    /// The element's contents.
    pub value: &'a [u8],
}

pub const SEQUENCE: u8 = 0x30;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT`: the version field of a TBSCertificate.
pub const VERSION: u8 = 0xA0;

/// Reads elements from a byte slice, front to back.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element, whatever its tag.
    pub fn any(&mut self) -> Option<Tlv<'a>> {
        let (&tag, after_tag) = self.rest.split_first()?;
        // Multi-byte tags never occur in the fields read here.
        if tag & 0x1F == 0x1F {
            return None;
        }
        let (&first, mut after_len) = after_tag.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 || n > 4 || after_len.len() < n {
                return None;
            }
            let mut len = 0usize;
            for &b in &after_len[..n] {
                len = (len << 8) | usize::from(b);
            }
            after_len = &after_len[n..];
            len
        };
        if after_len.len() < len {
            return None;
        }
        let header = self.rest.len() - after_len.len();
        let der = &self.rest[..header + len];
        let value = &after_len[..len];
        self.rest = &after_len[len..];
        Some(Tlv { tag, der, value })
    }

    /// The next element, which must have `tag`.
    pub fn take(&mut self, tag: u8) -> Option<Tlv<'a>> {
        let tlv = self.any()?;
        (tlv.tag == tag).then_some(tlv)
    }
}

/// Seconds since the Unix epoch of a UTCTime or GeneralizedTime in the
/// `Z` form that RFC 5280 requires.
pub fn time(tlv: &Tlv<'_>) -> Option<i64> {
    let text = std::str::from_utf8(tlv.value).ok()?;
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match (tlv.tag, digits.len()) {
        (UTC_TIME, 12) => {
            let yy: i16 = digits[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (GENERALIZED_TIME, 14) => (digits[..4].parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let field = |i: usize| rest[i..i + 2].parse::<i8>().ok();
    let at = jiff::civil::DateTime::new(
        year,
        field(0)?,
        field(2)?,
        field(4)?,
        field(6)?,
        field(8)?,
        0,
    )
    .ok()?;
    Some(
        at.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second(),
    )
}
