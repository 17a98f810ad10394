//! Records as a producer sends them: every key and value laid end to end in one buffer.
//!
//! At full speed librdkafka's queue streams tens of megabytes through the caches, so what a
//! send reads of its own must be little and in order. Read from the [`Dataset`], a record
//! costs a `Brewery` (368 bytes), its key's allocation and its payload's, scattered over the
//! heap, mostly cache misses. Here a record is its key and value side by side, the next record
//! right after it, which the CPU fetches ahead: `bench` on the embedded cluster sent 11 % more
//! records/s with its two headers and 2.5 % more without (medians of 8 paired runs).

use super::source::{Dataset, KeyField};

/// Where one record's key and value lie in [`Wire::bytes`]: `key_len` bytes at `start`
/// ([`NO_KEY`] when the record has none), then the value at `value_at`, right after the key
/// unless the value is shared with an earlier record.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    value_at: usize,
    key_len: u32,
    value_len: u32,
}

const NO_KEY: u32 = u32::MAX;

/// The records of a run, handed out in an endless loop, ready to send.
#[derive(Debug, Clone)]
pub struct Wire {
    bytes: Vec<u8>,
    spans: Vec<Span>,
    field: KeyField,
}

/// At most this many bytes of values are made for `--record-size`: with large values, fewer
/// values than records, taken in turn (every record keeps its own key).
pub const SIZED_BYTES: usize = 64 << 20;

impl Wire {
    /// The dataset's records with keys from `key`, values as they are.
    pub fn new(dataset: &Dataset, key: KeyField) -> Wire {
        Self::build(dataset, key, None)
    }

    /// The dataset's records with keys from `key`, each value the record's JSON cut or repeated
    /// to exactly `size` bytes; as many values as fit in [`SIZED_BYTES`] (at least one), taken
    /// in turn when there are fewer than records.
    pub fn sized(dataset: &Dataset, key: KeyField, size: usize) -> Wire {
        Self::build(dataset, key, Some(size))
    }

    fn build(dataset: &Dataset, field: KeyField, size: Option<usize>) -> Wire {
        let values = size.map_or(dataset.len(), |size| {
            (SIZED_BYTES / size.max(1)).clamp(1, dataset.len())
        });
        let value_bytes = size.map_or_else(
            || (dataset.mean_payload_len() * dataset.len() as f64) as usize,
            |size| size * values,
        );
        let mut bytes = Vec::with_capacity(value_bytes + 40 * dataset.len());
        let mut spans: Vec<Span> = Vec::with_capacity(dataset.len());
        for n in 0..dataset.len() {
            let (record, payload) = dataset.get(n as u64);
            let start = bytes.len();
            let key = record.key(field).map(str::as_bytes);
            if let Some(key) = key {
                bytes.extend_from_slice(key);
            }
            let (value_at, value_len) = if n < values {
                let at = bytes.len();
                match size {
                    // An empty payload cannot be repeated: its value stays empty.
                    Some(size) => bytes.extend(payload.iter().copied().cycle().take(size)),
                    None => bytes.extend_from_slice(payload),
                }
                (at, bytes.len() - at)
            } else {
                let shared = spans[n % values];
                (shared.value_at, shared.value_len as usize)
            };
            spans.push(Span {
                start,
                value_at,
                key_len: key.map_or(NO_KEY, |k| {
                    u32::try_from(k.len()).expect("a key under 4 GiB")
                }),
                value_len: u32::try_from(value_len).expect("a value under 4 GiB"),
            });
        }
        Wire {
            bytes,
            spans,
            field,
        }
    }

    /// The key and value of the n-th record of the endless loop.
    #[inline]
    pub fn get(&self, n: u64) -> (Option<&[u8]>, &[u8]) {
        let span = self.spans[(n % self.spans.len() as u64) as usize];
        let key = (span.key_len != NO_KEY)
            .then(|| &self.bytes[span.start..span.start + span.key_len as usize]);
        (
            key,
            &self.bytes[span.value_at..span.value_at + span.value_len as usize],
        )
    }

    /// The field the keys come from.
    pub fn key_field(&self) -> KeyField {
        self.field
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
        let mut records: Vec<_> = bundled().into_iter().take(50).collect();
        // A record without the key's field has no key; an empty field is an empty key.
        records[1].city = None;
        records[2].city = Some(String::new());
        let d = Dataset::new(records);
        for field in [
            KeyField::Id,
            KeyField::State,
            KeyField::City,
            KeyField::None,
        ] {
            let wire = Wire::new(&d, field);
            assert_eq!(wire.len(), d.len());
            for n in [0, 1, 49, 50, 51, 1234] {
                let (record, payload) = d.get(n);
                let (key, value) = wire.get(n);
                assert_eq!(key, record.key(field).map(str::as_bytes), "{field:?} #{n}");
                assert_eq!(value, payload, "#{n}");
            }
            if field == KeyField::City {
                assert_eq!(wire.get(1).0, None);
                assert_eq!(wire.get(2).0, Some(&b""[..]));
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
        // Values too large for all to be made: fewer values, taken in turn; every record keeps
        // its own key, so the keys still spread over the partitions.
        let huge = Wire::sized(&d, KeyField::Id, SIZED_BYTES / 4);
        assert_eq!(huge.len(), d.len());
        for n in [0, 3, 4, 7, 49] {
            let (key, value) = huge.get(n);
            assert_eq!(key, Some(d.get(n).0.id.as_bytes()));
            assert_eq!(value.len(), SIZED_BYTES / 4);
            assert_eq!(
                &value[..20],
                &d.get(n % 4).1[..20],
                "value #{n} is value #{}",
                n % 4
            );
        }
        assert_eq!(Wire::sized(&d, KeyField::Id, 0).get(2).1, b"");
    }
}
