//! What the processors wrote, counted against what they were to read: one reader follows the
//! input and every output topic (`read_committed`, from their start) and counts, for each
//! input record (run tag and sequence), its copies in each output. A record of the input with
//! no copy is not written (yet); a second copy is a duplicate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::Guarantee;
use crate::config::ClientSettings;
use crate::kafka::verify::{run_and_seq, MAX_TRACKED};

/// One processor's output, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TallyFigures {
    /// Records of the input (distinct run tag and sequence).
    pub input: u64,
    /// Input records with at least one copy in the output.
    pub written: u64,
    /// Copies beyond the first.
    pub duplicated: u64,
    /// Input records with no copy in the output: not processed yet, or lost.
    pub missing: u64,
}

/// Per record, one byte: bit 0 set when read in the input; then two bits per output: its
/// copies, 0 to 3 (3: three or more).
#[derive(Default)]
struct Counts {
    runs: HashMap<Vec<u8>, Vec<u8>>,
    input: u64,
    written: [u64; 2],
    both: [u64; 2],
    duplicated: [u64; 2],
}

const IN_INPUT: u8 = 1;

fn shift(g: Guarantee) -> u32 {
    1 + 2 * g as u32
}

impl Counts {
    fn slot(&mut self, run: &[u8], seq: u64) -> Option<&mut u8> {
        if seq >= MAX_TRACKED {
            return None;
        }
        if !self.runs.contains_key(run) {
            self.runs.insert(run.to_vec(), Vec::new());
        }
        let bytes = self.runs.get_mut(run)?;
        let i = usize::try_from(seq).ok()?;
        if bytes.len() <= i {
            bytes.resize(i + 1, 0);
        }
        bytes.get_mut(i)
    }

    fn input(&mut self, run: &[u8], seq: u64) {
        let Some(byte) = self.slot(run, seq) else {
            return;
        };
        if *byte & IN_INPUT != 0 {
            return;
        }
        *byte |= IN_INPUT;
        let b = *byte;
        self.input += 1;
        for g in Guarantee::ALL {
            if (b >> shift(g)) & 3 > 0 {
                self.both[g as usize] += 1;
            }
        }
    }

    fn output(&mut self, g: Guarantee, run: &[u8], seq: u64) {
        let Some(byte) = self.slot(run, seq) else {
            return;
        };
        let copies = (*byte >> shift(g)) & 3;
        *byte = (*byte & !(3 << shift(g))) | ((copies + 1).min(3) << shift(g));
        let in_input = *byte & IN_INPUT != 0;
        let i = g as usize;
        if copies == 0 {
            self.written[i] += 1;
            if in_input {
                self.both[i] += 1;
            }
        } else {
            self.duplicated[i] += 1;
        }
    }

    fn figures(&self, g: Guarantee) -> TallyFigures {
        let i = g as usize;
        TallyFigures {
            input: self.input,
            written: self.written[i],
            duplicated: self.duplicated[i],
            missing: self.input.saturating_sub(self.both[i]),
        }
    }
}

#[derive(Default)]
struct Shared {
    counts: Mutex<Counts>,
    /// Output topics to follow (with their partition count) and whose they are.
    wanted: Mutex<Vec<(String, usize, Guarantee)>>,
    error: Mutex<Option<String>>,
}

/// The reader counting the processors' output; it stops when dropped.
pub struct OutputTally {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl Drop for OutputTally {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl OutputTally {
    /// Starts reading `input` (with `partitions` partitions) from its start.
    pub fn start(
        settings: &ClientSettings,
        input: &str,
        partitions: usize,
    ) -> Result<OutputTally, String> {
        let mut config = settings.client_config();
        config
            .set("group.id", "kafka-lab-process-tally")
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("auto.offset.reset", "earliest");
        let consumer: BaseConsumer = config.create().map_err(|e| e.to_string())?;
        consumer
            .assign(&from_start(input, partitions))
            .map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, input) = (shared.clone(), stop.clone(), input.to_string());
        std::thread::Builder::new()
            .name("processor-tally".into())
            .spawn(move || follow(&consumer, &input, partitions, &s, &st))
            .map_err(|e| e.to_string())?;
        Ok(OutputTally { shared, stop })
    }

    /// Follows `topic`, `g`'s output, from its start.
    pub fn watch(&self, topic: &str, partitions: usize, g: Guarantee) {
        let mut wanted = self
            .shared
            .wanted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !wanted.iter().any(|(t, ..)| t == topic) {
            wanted.push((topic.to_string(), partitions, g));
        }
    }

    pub fn figures(&self, g: Guarantee) -> TallyFigures {
        self.shared
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .figures(g)
    }

    /// Why the reader stopped, if it did.
    pub fn error(&self) -> Option<String> {
        self.shared
            .error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// How often the reader looks for partitions added to the topics it follows.
const NEW_PARTITIONS_EVERY: Duration = Duration::from_secs(5);

fn from_start(topic: &str, partitions: usize) -> TopicPartitionList {
    partitions_from_start(topic, 0..partitions)
}

fn partitions_from_start(topic: &str, partitions: std::ops::Range<usize>) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for p in partitions {
        // Adding to a list this function made cannot fail.
        let _ = tpl.add_partition_offset(
            topic,
            i32::try_from(p).unwrap_or(i32::MAX),
            Offset::Beginning,
        );
    }
    tpl
}

/// Partitions added to the topics followed (by the topics dialog, or by anyone) are read
/// from their start too: what is written there is counted.
fn follow_new_partitions(consumer: &BaseConsumer, known: &mut HashMap<String, usize>) {
    for (topic, count) in known.iter_mut() {
        let Ok(metadata) = consumer.fetch_metadata(Some(topic), Duration::from_secs(2)) else {
            continue;
        };
        let now = metadata
            .topics()
            .first()
            .map_or(0, |t| t.partitions().len());
        if now > *count
            && consumer
                .incremental_assign(&partitions_from_start(topic, *count..now))
                .is_ok()
        {
            *count = now;
        }
    }
}

fn follow(
    consumer: &BaseConsumer,
    input: &str,
    partitions: usize,
    shared: &Shared,
    stop: &AtomicBool,
) {
    let mut followed: HashMap<String, Guarantee> = HashMap::new();
    let mut known: HashMap<String, usize> = HashMap::from([(input.to_string(), partitions)]);
    let mut looked = std::time::Instant::now();
    while !stop.load(Ordering::SeqCst) {
        if looked.elapsed() >= NEW_PARTITIONS_EVERY {
            follow_new_partitions(consumer, &mut known);
            looked = std::time::Instant::now();
        }
        let new: Vec<_> = shared
            .wanted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(t, ..)| !followed.contains_key(t))
            .cloned()
            .collect();
        for (topic, partitions, g) in new {
            if let Err(e) = consumer.incremental_assign(&from_start(&topic, partitions)) {
                *shared.error.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(format!("cannot read {topic}: {e}"));
                return;
            }
            known.insert(topic.clone(), partitions);
            followed.insert(topic, g);
        }
        // A batch of records under one lock: the pane's reads wait at most one poll's worth.
        let Some(Ok(first)) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let mut counts = shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut count = |m: &rdkafka::message::BorrowedMessage<'_>| {
            let Some((run, seq)) = run_and_seq(m) else {
                return;
            };
            if m.topic() == input {
                counts.input(run, seq);
            } else if let Some(g) = followed.get(m.topic()) {
                counts.output(*g, run, seq);
            }
        };
        count(&first);
        drop(first);
        for _ in 0..4096 {
            match consumer.poll(Duration::ZERO) {
                Some(Ok(m)) => count(&m),
                _ => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_counted_per_output_whichever_comes_first() {
        let mut c = Counts::default();
        let (eo, alo) = (Guarantee::ExactlyOnce, Guarantee::AtLeastOnce);
        for seq in 0..10 {
            c.input(b"run-a", seq);
        }
        // The output can be read before its input.
        c.output(eo, b"run-a", 12);
        c.input(b"run-a", 12);
        c.input(b"run-a", 12);
        for seq in 0..8 {
            c.output(eo, b"run-a", seq);
            c.output(alo, b"run-a", seq);
        }
        for _ in 0..4 {
            c.output(alo, b"run-a", 3);
        }
        c.output(alo, b"run-b", 0);
        assert_eq!(
            c.figures(eo),
            TallyFigures {
                input: 11,
                written: 9,
                duplicated: 0,
                missing: 2,
            }
        );
        assert_eq!(
            c.figures(alo),
            TallyFigures {
                input: 11,
                written: 9,
                duplicated: 4,
                // 8, 9 and 12 have no copy; run-b's record has no input.
                missing: 3,
            }
        );
        // Past what is tracked: not counted, no huge allocation.
        c.input(b"run-a", MAX_TRACKED);
        assert_eq!(c.figures(eo).input, 11);
    }
}
