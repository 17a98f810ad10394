//! Records as a producer sends them: every key and value laid end to end in one buffer.
//!
//! At full speed librdkafka's queue streams tens of megabytes through the caches, so what a
//! send reads of its own must be little and in order. Read from the [`Dataset`], a record
//! costs a `Brewery` (368 bytes), its key's allocation and its payload's, scattered over the
//! heap, mostly cache misses. Here a record is its key and value side by side, the next record
//! right after it, which the CPU fetches ahead: `bench` on the embedded cluster sent 11 % more
//! records/s with its two headers and 2.5 % more without (medians of 8 paired runs).

use super::source::{Dataset, KeyField};

/// Where one record's key and value lie in [`Wire::bytes`]: the key first (`key_len` bytes,
/// [`NO_KEY`] when the record has none), then the value.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    key_len: u32,
    value_len: u32,
}

const NO_KEY: u32 = u32::MAX;

/// The records of a run, handed out in an endless loop, ready to send.
#[derive(Debug, Clone)]
pub struct Wire {
    bytes: Vec<u8>,
    spans: Vec<Span>,
}

/// At most this many bytes of values are made for `--record-size`: with large values the loop
/// is shorter than the dataset.
pub const SIZED_BYTES: usize = 64 << 20;

impl Wire {
    /// The dataset's records with keys from `key`, values as they are.
    pub fn new(dataset: &Dataset, key: KeyField) -> Wire {
        Self::build(dataset, key, None)
    }

    /// The dataset's records with keys from `key`, each value the record's JSON cut or repeated
    /// to exactly `size` bytes; as many records as fit in [`SIZED_BYTES`] (at least one).
    pub fn sized(dataset: &Dataset, key: KeyField, size: usize) -> Wire {
        Self::build(dataset, key, Some(size))
    }

    fn build(dataset: &Dataset, field: KeyField, size: Option<usize>) -> Wire {
        let count = size.map_or(dataset.len(), |size| {
            (SIZED_BYTES / size.max(1)).clamp(1, dataset.len())
        });
        let mut bytes = Vec::new();
        let mut spans = Vec::with_capacity(count);
        for n in 0..count as u64 {
            let (record, payload) = dataset.get(n);
            let start = bytes.len();
            let key = record.key(field).map(str::as_bytes);
            if let Some(key) = key {
                bytes.extend_from_slice(key);
            }
            let before = bytes.len();
            match size {
                // An empty payload cannot be repeated: its value stays empty.
                Some(size) => bytes.extend(payload.iter().copied().cycle().take(size)),
                None => bytes.extend_from_slice(payload),
            }
            let value_len = bytes.len() - before;
            spans.push(Span {
                start,
                key_len: key.map_or(NO_KEY, |k| {
                    u32::try_from(k.len()).expect("a key under 4 GiB")
                }),
                value_len: u32::try_from(value_len).expect("a value under 4 GiB"),
            });
        }
        Wire { bytes, spans }
    }

    /// The key and value of the n-th record of the endless loop.
    #[inline]
    pub fn get(&self, n: u64) -> (Option<&[u8]>, &[u8]) {
        let span = self.spans[(n % self.spans.len() as u64) as usize];
        let (key, value_at) = if span.key_len == NO_KEY {
            (None, span.start)
        } else {
            let end = span.start + span.key_len as usize;
            (Some(&self.bytes[span.start..end]), end)
        };
        (
            key,
            &self.bytes[value_at..value_at + span.value_len as usize],
        )
    }

    /// Records before the loop starts again.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::source::bundled;

    fn dataset() -> Dataset {
        Dataset::new(bundled().into_iter().take(50).collect())
    }

    #[test]
    fn records_come_out_as_the_dataset_has_them() {
        let d = dataset();
        for field in [KeyField::Id, KeyField::State, KeyField::None] {
            let wire = Wire::new(&d, field);
            assert_eq!(wire.len(), d.len());
            for n in [0, 1, 49, 50, 51, 1234] {
                let (record, payload) = d.get(n);
                let (key, value) = wire.get(n);
                assert_eq!(key, record.key(field).map(str::as_bytes), "{field:?} #{n}");
                assert_eq!(value, payload, "#{n}");
            }
        }
    }

    #[test]
    fn sized_values_have_the_exact_size_and_start_as_the_record() {
        let d = dataset();
        let small = Wire::sized(&d, KeyField::Id, 10);
        assert_eq!(small.len(), d.len());
        for n in 0..60 {
            let (key, value) = small.get(n);
            assert_eq!(value, &d.get(n).1[..10]);
            assert_eq!(key, Some(d.get(n).0.id.as_bytes()));
        }
        let big = Wire::sized(&d, KeyField::None, 5000);
        assert!((0..50).all(|n| big.get(n).1.len() == 5000 && big.get(n).0.is_none()));
        // Repeated from the record's own JSON.
        let (_, value) = big.get(3);
        let json = d.get(3).1;
        assert_eq!(&value[json.len()..2 * json.len()], json);
        // Values larger than the budget: one record, the loop still turns.
        let huge = Wire::sized(&d, KeyField::Id, SIZED_BYTES);
        assert_eq!(huge.len(), 1);
        assert_eq!(huge.get(7).1.len(), SIZED_BYTES);
        assert_eq!(Wire::sized(&d, KeyField::Id, 0).get(2).1, b"");
    }
}
