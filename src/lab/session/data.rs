//! The data set the producer sends, switched while the lab runs: the Open Brewery DB is
//! fetched (or read from where it was kept) in the background, and the producer goes on with
//! the old records until the new ones are there.

use std::sync::Arc;

use super::{Outcome, Session};
use crate::data::load::{self, Said};
use crate::data::source::{Dataset, Progress, Source};
use crate::lab::actors::producer::ProducerCommand;
use crate::lab::protocol::Event;

/// The data sets `d` switches between.
pub struct DataSets {
    /// The set in use.
    pub current: Source,
    /// The API's address, for the Open Brewery DB.
    pub api_url: String,
    /// A switch under way: asked again, it is said, not started twice.
    pub loading: bool,
}

impl DataSets {
    /// The set a switch goes to: the Open Brewery DB from the bundled sample or a file, the
    /// bundled sample from the Open Brewery DB.
    fn next(&self) -> Source {
        match self.current {
            Source::OpenBreweryDb { .. } => Source::Bundled,
            Source::Bundled | Source::File(_) => Source::parse("openbrewerydb", &self.api_url),
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
            match &next {
                Source::Bundled => "the bundled sample",
                _ => "the Open Brewery DB",
            }
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
            Err(e) => vec![Event::Notice(format!(
                "the data set stays as it was: {}",
                e.replace('\n', " ")
            ))],
        }
    }
}
