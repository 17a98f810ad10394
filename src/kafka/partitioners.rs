//! Where a key lands under each of librdkafka's key partitioners, computed by librdkafka's own
//! partitioner functions (so the answer is the library's, not a copy of it). `murmur2` is also
//! what Java clients use, so keys from a Java producer and from a librdkafka one with the
//! default partitioner (`consistent_random`, CRC32) usually land on different partitions.

use std::ffi::c_void;

use rdkafka::bindings as rd;

/// A key hash librdkafka partitions by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHash {
    /// CRC32: `consistent` and `consistent_random` (librdkafka's default).
    Crc32,
    /// Murmur2: `murmur2` and `murmur2_random`, as Java's default partitioner.
    Murmur2,
    /// FNV-1a: `fnv1a` and `fnv1a_random`, as Sarama (Go) hashes.
    Fnv1a,
}

impl KeyHash {
    pub const ALL: [KeyHash; 3] = [KeyHash::Crc32, KeyHash::Murmur2, KeyHash::Fnv1a];

    /// The column name: the partitioner setting that uses this hash for keyed records.
    pub fn name(self) -> &'static str {
        match self {
            KeyHash::Crc32 => "consistent",
            KeyHash::Murmur2 => "murmur2",
            KeyHash::Fnv1a => "fnv1a",
        }
    }

    /// The partition of `key` among `partitions` (> 0); None for no partitions.
    pub fn partition(self, key: &[u8], partitions: i32) -> Option<i32> {
        if partitions <= 0 {
            return None;
        }
        let f = match self {
            KeyHash::Crc32 => rd::rd_kafka_msg_partitioner_consistent,
            KeyHash::Murmur2 => rd::rd_kafka_msg_partitioner_murmur2,
            KeyHash::Fnv1a => rd::rd_kafka_msg_partitioner_fnv1a,
        };
        // SAFETY: these partitioners read `keylen` bytes of `key` and use neither the topic
        // nor the opaques (only the *_random variants do, for keyless records).
        let p = unsafe {
            f(
                std::ptr::null(),
                key.as_ptr().cast::<c_void>(),
                key.len(),
                partitions,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        Some(p)
    }
}

/// Records counted by the partition each key hash would send them to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WouldGo {
    /// The partition count the keys were placed among.
    pub partitions: i32,
    /// Per hash (in [`KeyHash::ALL`] order), records per partition.
    pub counts: [Vec<u64>; 3],
    /// One key in this many was counted (1: every key).
    pub sampled_one_in: u64,
}

impl WouldGo {
    pub fn new(partitions: i32) -> WouldGo {
        let n = usize::try_from(partitions.max(0)).unwrap_or(0);
        WouldGo {
            partitions,
            counts: [vec![0; n], vec![0; n], vec![0; n]],
            sampled_one_in: 1,
        }
    }

    pub fn add(&mut self, key: &[u8]) {
        for (i, hash) in KeyHash::ALL.iter().enumerate() {
            if let Some(p) = hash.partition(key, self.partitions) {
                if let Some(n) = self.counts[i].get_mut(usize::try_from(p).unwrap_or(usize::MAX)) {
                    *n += 1;
                }
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.counts[0].iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_lands_in_range_and_always_in_the_same_place() {
        for hash in KeyHash::ALL {
            for n in [1, 2, 6, 7, 100] {
                for key in ["", "a", "brewery-1", "Köln", "oregon"] {
                    let p = hash.partition(key.as_bytes(), n).unwrap();
                    assert!((0..n).contains(&p), "{hash:?} {key} {n}: {p}");
                    assert_eq!(hash.partition(key.as_bytes(), n), Some(p));
                }
            }
            assert_eq!(hash.partition(b"x", 0), None);
        }
    }

    #[test]
    fn crc32_is_the_common_checksum() {
        // CRC-32 (IEEE) of "123456789" is 0xCBF43926; modulo a prime it names one partition.
        let n = 1_000_003;
        let want = i32::try_from(0xCBF4_3926_u32 % 1_000_003).unwrap();
        assert_eq!(KeyHash::Crc32.partition(b"123456789", n), Some(want));
    }

    #[test]
    fn fnv1a_is_the_32_bit_fnv_1a() {
        // FNV-1a 32-bit of "a" is 0xE40C292C; librdkafka (as Sarama) takes the absolute value
        // of the hash read as a signed number.
        let n = 1_000_003;
        let signed = i32::from_ne_bytes(0xE40C_292C_u32.to_ne_bytes());
        let want = i32::try_from(signed.unsigned_abs() % 1_000_003).unwrap();
        assert_eq!(KeyHash::Fnv1a.partition(b"a", n), Some(want));
    }

    #[test]
    fn would_go_counts_each_hash_apart() {
        let mut w = WouldGo::new(6);
        for i in 0..600 {
            w.add(format!("brewery-{i}").as_bytes());
        }
        assert_eq!(w.total(), 600);
        for counts in &w.counts {
            assert_eq!(counts.iter().sum::<u64>(), 600);
        }
        assert_ne!(
            w.counts[0], w.counts[1],
            "CRC32 and murmur2 spread keys differently"
        );
    }
}
