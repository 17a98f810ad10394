//! The data set the producer sends, switched while the lab runs: the Open Brewery DB is
//! fetched (or read from where it was kept) in the background, and the producer goes on with
//! the old records until the new ones are there.

use std::sync::Arc;

use super::{Outcome, Session};
use crate::data::load::{self, Said};
use crate::data::source::{Dataset, Progress, Source};
use crate::lab::actors::producer::ProducerCommand;
use crate::lab::protocol::Event;
use crate::lab::state::keymap::{key, Action as A, Mode};

/// The set in words.
fn name(source: &Source) -> String {
    match source {
        Source::Bundled => "the bundled sample".to_string(),
        Source::OpenBreweryDb { .. } => "the Open Brewery DB".to_string(),
        Source::File(path) => path.display().to_string(),
    }
}

/// The data sets `d` switches between.
pub struct DataSets {
    /// The set in use.
    pub current: Source,
    /// The set the lab started with: a switch away from the Open Brewery DB goes back to it.
    pub home: Source,
    /// The API's address, for the Open Brewery DB.
    pub api_url: String,
    /// A switch under way: asked again, it is said, not started twice.
    pub loading: bool,
}

impl DataSets {
    /// The set a switch goes to: the Open Brewery DB from the one the lab started with (the
    /// bundled sample or a file), and back.
    fn next(&self) -> Source {
        match (&self.current, &self.home) {
            (Source::OpenBreweryDb { .. }, Source::OpenBreweryDb { .. }) => Source::Bundled,
            (Source::OpenBreweryDb { .. }, home) => home.clone(),
            _ => Source::parse("openbrewerydb", &self.api_url),
        }
    }
}

impl Session {
    /// Loads the other data set in the background; the producer switches once it is there.
    pub(super) fn switch_data(&mut self) -> Vec<Event> {
        if self.clients.data.loading {
            return vec![Event::Notice(
                "the data set is being loaded: the producer switches once it is there".into(),
            )];
        }
        self.clients.data.loading = true;
        let next = self.clients.data.next();
        let said = format!(
            "loading {}: the producer goes on with the records it has until then",
            name(&next)
        );
        let outcomes = self.outcome_tx.clone();
        tokio::spawn(async move {
            let progress = outcomes.clone();
            let mut pages = 0;
            // Progress as status lines; one dropped when the screen is behind does no harm.
            let say = move |said: Said| {
                let text = match said {
                    Said::Fetching { url } => format!("fetching breweries from {url} ..."),
                    Said::Fetch(Progress::Expected { records }) => {
                        pages = records.div_ceil(crate::data::source::PER_PAGE);
                        return;
                    }
                    Said::Fetch(Progress::Page { page, total }) if pages > 0 => format!(
                        "fetching breweries: page {page} of {pages}, {} records",
                        crate::text::thousands(total as u64)
                    ),
                    Said::Fetch(Progress::Page { page, total }) => format!(
                        "fetching breweries: page {page}, {} records",
                        crate::text::thousands(total as u64)
                    ),
                    Said::Fetch(Progress::Waiting { page, waited }) => format!(
                        "fetching breweries: still waiting for page {page} ({} s so far)",
                        waited.as_secs()
                    ),
                    Said::Unusable { path, why } => {
                        format!("the breweries kept in {path} cannot be used ({why}): fetching them again")
                    }
                    Said::KeptIn {
                        path,
                        failed: Some(e),
                    } => {
                        format!("could not keep the breweries in {path}: {e}")
                    }
                    Said::Kept { .. } | Said::Fetched { .. } | Said::KeptIn { .. } => return,
                };
                let _ = progress.try_send(Outcome::Notice(text));
            };
            let loaded = load::load(&next, false, say)
                .await
                .map(|d| (next, Arc::new(d)))
                .map_err(|e| e.to_string());
            let _ = outcomes.send(Outcome::DataLoaded(loaded)).await;
        });
        vec![Event::Notice(said)]
    }

    /// The other data set is there (or could not be had): the producer goes on with it, in a
    /// new run.
    pub(super) fn data_loaded(
        &mut self,
        loaded: Result<(Source, Arc<Dataset>), String>,
    ) -> Vec<Event> {
        self.clients.data.loading = false;
        match loaded {
            Ok((source, dataset)) => {
                let described = dataset.describe();
                self.clients.data.current = source;
                self.clients
                    .producer
                    .send(ProducerCommand::SwitchData(dataset));
                vec![
                    Event::DataChanged(described.clone()),
                    Event::Notice(format!("the producer now sends: {described}")),
                ]
            }
            Err(e) => {
                // The reason first (the status line is narrow; the events log keeps the line
                // whole), without the command line's advice.
                let reason = e
                    .split("; check the network")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                vec![Event::Notice(format!(
                    "the data set stays as it was ({} shows why): {reason}",
                    key(Mode::Main, A::Events)
                ))]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From a file, `d` goes to the Open Brewery DB and back to the file, not to the sample.
    #[test]
    fn a_switch_goes_back_to_the_set_the_lab_started_with() {
        let file = Source::File("mine.json".into());
        let mut sets = DataSets {
            current: file.clone(),
            home: file.clone(),
            api_url: "http://mirror".into(),
            loading: false,
        };
        let api = sets.next();
        assert!(matches!(api, Source::OpenBreweryDb { .. }), "{api:?}");
        sets.current = api;
        assert_eq!(sets.next(), file);
        sets.home = sets.current.clone();
        assert_eq!(sets.next(), Source::Bundled);
    }
}
