//! A hash that is the same on every machine and every build, below every
//! layer that names things with it: specs (role names), adapters
//! (idempotency tokens, the task definition's spec hash) and resources.

/// A stable 64-bit FNV-1a hash as 16 hex digits: the same on every machine
/// and every build (unlike `std`'s hasher), for idempotency tokens and the
/// task definition's spec hash.
pub fn stable_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable() {
        assert_eq!(stable_hash(""), "cbf29ce484222325");
        assert_eq!(stable_hash("a"), "af63dc4c8601ec8c");
    }
}
