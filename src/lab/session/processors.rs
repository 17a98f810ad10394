//! The processors: one exactly once, one at least once, each reading the lab's topic in a
//! group of its own and writing a topic of its own; crashed and started again as the commands
//! ask. One reader (the [`OutputTally`]) counts their outputs against the input.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::Session;
use crate::config::Role;
use crate::kafka::processor::{derived_id, Done, Guarantee, OutputTally};
use crate::lab::actors::processor::{self, output_topic, ProcessorHandle};
use crate::lab::protocol::{Command, Event};

impl Session {
    pub(super) fn processor_command(&mut self, command: &Command) -> Vec<Event> {
        let said = match *command {
            Command::Processors(Some(partitions)) => self.start_processors(partitions),
            Command::Processors(None) => {
                self.keep_and_stop();
                None
            }
            Command::CrashProcessor(g) => match self.processor(g) {
                Some(p) if !p.ended() => {
                    p.crash();
                    None
                }
                _ => Some(format!("the {} processor is not running", g.name())),
            },
            Command::RestartProcessor(g) => self.restart_processor(g),
            _ => None,
        };
        said.map(Event::Notice).into_iter().collect()
    }

    fn processor(&mut self, g: Guarantee) -> Option<&mut ProcessorHandle> {
        self.processors
            .running
            .iter_mut()
            .find(|p| p.guarantee == g)
    }

    pub(super) fn start_processors(&mut self, partitions: usize) -> Option<String> {
        if !self.processors.running.is_empty() {
            return None;
        }
        // Those stopped on this topic are done first: a new instance with their group and
        // transactional.id would fence one still committing its last batch.
        let topic = self.cluster.topic.clone();
        let waiting: Vec<_> = self
            .processors
            .stopping
            .iter()
            .filter(|(t, p)| *t == topic && !p.ended())
            .map(|(_, p)| p.ended_flag())
            .collect();
        if !waiting.is_empty() {
            self.later(move || {
                let until = std::time::Instant::now() + Duration::from_secs(60);
                while waiting.iter().any(|f| !f.raised()) && std::time::Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
                super::Outcome::ProcessorsReady(partitions)
            });
            return None;
        }
        for (t, p) in std::mem::take(&mut self.processors.stopping) {
            if p.ended() {
                self.processors
                    .kept
                    .insert((t, p.guarantee), (p.crashes, p.done()));
            } else {
                self.processors.stopping.push((t, p));
            }
        }
        self.processors.partitions = partitions;
        let tally = match OutputTally::start(&self.clients.consumer_settings, &topic, partitions) {
            Ok(t) => Arc::new(t),
            Err(e) => return Some(format!("cannot count the processors' output: {e}")),
        };
        self.processors.tally = Some(tally);
        for g in Guarantee::ALL {
            // Started again on a topic they ran on: their figures go on (the output they
            // are counted against holds what they wrote then).
            let (crashes, before) = self
                .processors
                .kept
                .remove(&(topic.clone(), g))
                .unwrap_or_default();
            if let Err(e) = self.spawn_processor(g, crashes, before) {
                return Some(e);
            }
        }
        None
    }

    /// Stops every processor; what each did is kept, once it is done, for a start on the
    /// same topic.
    fn keep_and_stop(&mut self) {
        for p in std::mem::take(&mut self.processors.running) {
            p.stop();
            self.processors
                .stopping
                .push((self.cluster.topic.clone(), p));
        }
        self.processors.tally = None;
    }

    fn restart_processor(&mut self, g: Guarantee) -> Option<String> {
        let i = self
            .processors
            .running
            .iter()
            .position(|p| p.guarantee == g);
        let Some(i) = i else {
            return Some(format!("there is no {} processor to restart", g.name()));
        };
        let p = &self.processors.running[i];
        if !p.ended() {
            return Some(format!(
                "the {} processor is running (or still stopping): crash it first",
                g.name()
            ));
        }
        let (crashes, before) = (p.crashes, p.done());
        self.processors.running.remove(i);
        self.spawn_processor(g, crashes, before).err()
    }

    fn spawn_processor(&mut self, g: Guarantee, crashes: u32, before: Done) -> Result<(), String> {
        let Some(tally) = self.processors.tally.clone() else {
            return Err("the processors are not on".into());
        };
        let from = self.cluster.topic.clone();
        let id = derived_id(&from, &output_topic(&from, g));
        let c = &self.clients.consumer;
        let mut layers = c.layers(&self.clients.base_layers, self.cluster.mock, 0);
        layers.set_live("group.id", &id, "the processor's own");
        layers.set_live("client.id", format!("kafka-lab-{}", g.name()), "dashboard");
        layers.set_live("auto.offset.reset", "earliest", "the processor's own");
        // Static: an instance started again takes its partitions back at once, as a
        // redeployed application with a fixed instance id does (no wait for the crashed
        // one's session to time out).
        layers.set_live("group.instance.id", &id, "the processor's own");
        let consumer = layers.resolve(Role::Consumer).map_err(|e| e.to_string())?;
        self.processors.instances += 1;
        self.processors
            .running
            .push(processor::spawn(processor::Start {
                instance: self.processors.instances,
                guarantee: g,
                from,
                partitions: self.processors.partitions,
                consumer,
                producer: self.clients.producer_settings.clone(),
                embedded: self.cluster.embedded.clone(),
                events: self.kafka_tx.clone(),
                tally,
                crashes,
                before,
            }));
        Ok(())
    }

    /// Stops every processor and waits (at most `timeout`) for their last commits.
    pub(super) async fn stop_processors(&mut self, timeout: Duration) {
        for p in &self.processors.running {
            p.stop();
        }
        let deadline = tokio::time::Instant::now() + timeout;
        while self.processors.running.iter().any(|p| !p.ended())
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.processors.running.clear();
        self.processors.tally = None;
    }
}

/// The processors running (or crashed) and what counts their output.
#[derive(Default)]
pub struct Processors {
    running: Vec<ProcessorHandle>,
    tally: Option<Arc<OutputTally>>,
    partitions: usize,
    /// What processors stopped by the user had done and how often they crashed, by topic.
    kept: BTreeMap<(String, Guarantee), (u32, Done)>,
    /// Stopped and finishing their last batch, by the topic they read.
    stopping: Vec<(String, ProcessorHandle)>,
    /// Each processor started gets the next number: its snapshots carry it.
    instances: u64,
}
