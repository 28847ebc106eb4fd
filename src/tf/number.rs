//! A Terraform number, exactly.
//!
//! Terraform numbers are arbitrary-precision (go-cty keeps a 512-bit
//! `big.Float`). On the wire (go-cty `cty/msgpack/marshal.go`) a number goes
//! out as an int64 when it is one exactly, else as a float64 when that is
//! exact, else as its decimal text (`big.Float.Text('f', -1)`) in a msgpack
//! *string*; unmarshal accepts a string for a number everywhere. cty
//! compares numbers by that same decimal text. So `0.1` arrives as the
//! string `"0.1"`, and only sending `"0.1"` back keeps plan and state equal
//! to the configuration (the float64 nearest 0.1 prints as 0.1000000000000000055…).
//!
//! [`Number`] therefore keeps the canonical decimal text: integers go out as
//! int64 when they fit, everything else as its exact decimal text. Numbers
//! the provider computes from an `f64` (defaults, recovered values, cost)
//! take the shortest decimal that reads back as that `f64`, the text a
//! person would write.

use std::fmt;

/// The decimal text of a finite number in canonical form (no exponent, no
/// `+`, no leading zeros, no trailing fractional zeros, no `-0`), or
/// `+Inf`/`-Inf`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

/// How far an exponent in decimal text may reach: more would mean
/// megabytes of digits, and no Terraform configuration needs it.
const MAX_EXPONENT: i64 = 4096;

impl Number {
    pub fn from_i64(n: i64) -> Number {
        Number(n.to_string())
    }

    pub fn from_u64(n: u64) -> Number {
        Number(n.to_string())
    }

    /// The shortest decimal that reads back as `n` (Rust's `Display` of an
    /// `f64` never uses an exponent). Infinities are kept; NaN is no
    /// Terraform number and becomes None.
    pub fn from_f64(n: f64) -> Option<Number> {
        if n.is_nan() {
            None
        } else if n.is_infinite() {
            Some(Number(if n > 0.0 { "+Inf" } else { "-Inf" }.into()))
        } else {
            Number::parse(&format!("{n}")).ok()
        }
    }

    /// Parse decimal text as Terraform sends it (`-12.5`, `0.333…`), or as a
    /// person writes it (`1e-3`, `+2`, `.5`).
    pub fn parse(text: &str) -> Result<Number, String> {
        let bad = || format!("{text:?} is not a number");
        let t = text.trim();
        match t {
            "+Inf" | "Inf" | "+inf" | "inf" | "infinity" | "+infinity" => {
                return Ok(Number("+Inf".into()))
            }
            "-Inf" | "-inf" | "-infinity" => return Ok(Number("-Inf".into())),
            _ => {}
        }
        let (negative, rest) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => {
                let e: i64 = rest[i + 1..].parse().map_err(|_| bad())?;
                if e.abs() > MAX_EXPONENT {
                    return Err(format!("{text:?} has an exponent beyond ±{MAX_EXPONENT}"));
                }
                (&rest[..i], e)
            }
            None => (rest, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        // All digits, with the decimal point `point` digits from the left.
        let digits = format!("{int_part}{frac_part}");
        let point = int_part.len() as i64 + exponent;
        let (int_digits, frac_digits) = if point <= 0 {
            (
                String::new(),
                format!("{}{digits}", "0".repeat((-point) as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        let int_digits = int_digits.trim_start_matches('0');
        let frac_digits = frac_digits.trim_end_matches('0');
        let int_digits = if int_digits.is_empty() {
            "0"
        } else {
            int_digits
        };
        let zero = int_digits == "0" && frac_digits.is_empty();
        let mut out = String::new();
        if negative && !zero {
            out.push('-');
        }
        out.push_str(int_digits);
        if !frac_digits.is_empty() {
            out.push('.');
            out.push_str(frac_digits);
        }
        Ok(Number(out))
    }

    /// The canonical decimal text: what cty's `Text('f', -1)` gives for the
    /// same number.
    pub fn text(&self) -> &str {
        &self.0
    }

    pub fn is_infinite(&self) -> bool {
        self.0.ends_with("Inf")
    }

    /// Whether the number has no fractional part.
    pub fn is_whole(&self) -> bool {
        !self.is_infinite() && !self.0.contains('.')
    }

    /// The number as an i64, when it is whole and in range.
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_whole() {
            self.0.parse().ok()
        } else {
            None
        }
    }

    /// The nearest f64 (Rust's parser rounds correctly, also for the long
    /// decimals Terraform sends for `1/3`).
    pub fn as_f64(&self) -> f64 {
        match self.0.as_str() {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            t => t.parse().unwrap_or(f64::NAN),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.0)
    }
}

impl std::str::FromStr for Number {
    type Err = String;
    fn from_str(s: &str) -> Result<Number, String> {
        Number::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Number::parse(s).unwrap().text().to_string()
    }

    #[test]
    fn canonical_text_is_what_cty_prints() {
        for (given, canonical) in [
            ("0.1", "0.1"),
            ("0.10", "0.1"),
            ("+2", "2"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("007", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e3", "1000"),
            ("1.5e-3", "0.0015"),
            ("-12.50", "-12.5"),
            ("1E2", "100"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
        ] {
            assert_eq!(canon(given), canonical, "{given}");
        }
        for bad in ["", "-", ".", "1.2.3", "abc", "1e", "0x10", "1 2"] {
            assert!(Number::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn floats_take_their_shortest_decimal() {
        assert_eq!(Number::from_f64(0.1).unwrap().text(), "0.1");
        assert_eq!(
            Number::from_f64(0.1 + 0.2).unwrap().text(),
            "0.30000000000000004"
        );
        assert_eq!(Number::from_f64(-0.0).unwrap().text(), "0");
        assert_eq!(
            Number::from_f64(1e21).unwrap().text(),
            "1000000000000000000000"
        );
        assert_eq!(Number::from_f64(1e-7).unwrap().text(), "0.0000001");
        assert!(Number::from_f64(f64::NAN).is_none());
        assert!(Number::from_f64(f64::INFINITY).unwrap().is_infinite());
    }

    #[test]
    fn whole_numbers_and_ranges() {
        assert_eq!(
            Number::parse("2147483648").unwrap().as_i64(),
            Some(2147483648)
        );
        assert_eq!(Number::parse("1.5").unwrap().as_i64(), None);
        assert_eq!(
            Number::parse("99999999999999999999").unwrap().as_i64(),
            None
        );
        assert!(Number::parse("99999999999999999999").unwrap().is_whole());
        assert_eq!(Number::parse("0.3").unwrap().as_f64(), 0.3);
    }
}
