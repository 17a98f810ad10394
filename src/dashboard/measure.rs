//! The dashboard measured as it runs: the whole of it (producer, one member, the watcher, the
//! loop) drawing into an off-screen terminal, with a key pressed twice a second. The speed
//! benchmark (`examples/speed`) compares its producer with headless `bench`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tokio::sync::mpsc;

use super::{event_loop, End};
use crate::cli::{Connection, DashboardArgs};
use crate::config::Role;
use crate::lab::protocol::{Event, Step};
use crate::lab::Lab;
use crate::stats::{Latency, LatencySummary};
use crate::target::Target;

/// What a measured dashboard run did.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// The producer's records/s over its run, warm-up left out (as the runs table shows it).
    pub records_per_sec: f64,
    pub delivered: u64,
    pub seconds: f64,
    pub frames: u64,
    /// Time to draw one frame.
    pub frame_ms: LatencySummary,
    /// From a key sent to the first frame that shows what it did.
    pub key_ms: LatencySummary,
    /// Resident memory (MB) after every second, with the records delivered by then.
    pub rss_mb: Vec<(u64, f64)>,
}

/// The process's resident memory in MB.
pub fn rss_mb() -> f64 {
    let pages: f64 = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse().ok()))
        .unwrap_or(0.0);
    // SAFETY: sysconf only reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64;
    pages * page / (1024.0 * 1024.0)
}

/// Runs the dashboard of `c` and `args` on a `width` x `height` off-screen terminal until its
/// producer has delivered `records`.
pub async fn measure(
    c: &Connection,
    args: &DashboardArgs,
    records: u64,
    (width, height): (u16, u16),
) -> Result<Measured> {
    let target = Target::connect(c, Role::Producer)?;
    let mut lab = Lab::open(c, args, target).await?;
    lab.apply(Event::Script(Step::Members(
        crate::lab::protocol::Members::To(args.consumers),
    )));
    let (key_tx, mut key_rx) = mpsc::channel(64);
    let pressed: Arc<Mutex<Option<Instant>>> = Arc::default();
    let keyboard = {
        let pressed = pressed.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                *pressed.lock().unwrap() = Some(Instant::now());
                let v = KeyEvent::new(KeyCode::Char('v'), KeyModifiers::NONE);
                if key_tx.send(TermEvent::Key(v)).await.is_err() {
                    return;
                }
            }
        })
    };
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    lab.apply(Event::Resize(width, height));
    let began = Instant::now();
    let (mut frames, mut frame_times, mut key_times) =
        (0u64, Latency::default(), Latency::default());
    let mut rss = Vec::new();
    let mut last_view = lab.app().view();
    let mut next_sample = began + Duration::from_secs(1);
    let mut delivered = 0;
    let end = event_loop(&mut terminal, &mut lab, &mut key_rx, None, |app, drawn| {
        frames += 1;
        frame_times.record(drawn);
        if app.view() != last_view {
            last_view = app.view();
            if let Some(at) = pressed.lock().unwrap().take() {
                key_times.record(at.elapsed());
            }
        }
        delivered = app.producer().map_or(0, |s| s.delivered);
        if Instant::now() >= next_sample {
            next_sample += Duration::from_secs(1);
            rss.push((delivered, rss_mb()));
        }
        delivered < records
    })
    .await?;
    keyboard.abort();
    let records_per_sec = lab
        .app()
        .producer()
        .and_then(|s| s.report.as_ref())
        .map_or(0.0, |r| r.records_per_sec);
    let _ = lab.shut_down().await;
    drop(lab);
    if let End::Panic(p) = end {
        anyhow::bail!("the dashboard failed: {p}");
    }
    Ok(Measured {
        records_per_sec,
        delivered,
        seconds: began.elapsed().as_secs_f64(),
        frames,
        frame_ms: frame_times.summary(),
        key_ms: key_times.summary(),
        rss_mb: rss,
    })
}
