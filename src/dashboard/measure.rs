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

/// What the dashboard costs at a steady state, measured over a window after it settled.
#[derive(Debug, Clone, Default)]
pub struct Steady {
    /// CPU time (user and system, every thread: the clients' too) per second of the window,
    /// as a percentage of one core.
    pub cpu_percent: f64,
    pub rss_start_mb: f64,
    pub rss_end_mb: f64,
    /// The most over the window, looked at every ten seconds.
    pub rss_peak_mb: f64,
    /// From asking for the members until every partition of the topic shows an owner.
    pub partitions_shown: Option<Duration>,
    /// From the start (connecting included) to the first frame drawn.
    pub first_frame: Duration,
    pub frames: u64,
    pub frame_ms: LatencySummary,
}

/// The process's CPU time so far (user and system, all threads), in seconds.
pub fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given; a zeroed one is a valid start.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to a rusage the call may write.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Runs the dashboard of `c` and `args` (its rate, its members) on a `width` x `height`
/// off-screen terminal with no key pressed: once `settle` has passed, its CPU time and memory
/// over `window`. With `producing` false the producer is stopped at once.
pub async fn measure_steady(
    c: &Connection,
    args: &DashboardArgs,
    producing: bool,
    (settle, window): (Duration, Duration),
    (width, height): (u16, u16),
) -> Result<Steady> {
    let opened = Instant::now();
    let target = Target::connect(c, Role::Producer)?;
    let mut lab = Lab::open(c, args, target).await?;
    if !producing {
        lab.apply(Event::Script(Step::Stop));
    }
    let asked = Instant::now();
    lab.apply(Event::Script(Step::Members(
        crate::lab::protocol::Members::To(args.consumers),
    )));
    // Nothing pressed: the loop ends by its frames, or by this `q` should frames stop.
    let (key_tx, mut key_rx) = mpsc::channel(4);
    let quit = tokio::spawn(async move {
        tokio::time::sleep(settle + window + Duration::from_secs(5)).await;
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        let _ = key_tx.send(TermEvent::Key(q)).await;
    });
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    lab.apply(Event::Resize(width, height));
    let mut s = Steady::default();
    let mut frame_times = Latency::default();
    let mut start: Option<(Instant, f64)> = None;
    let mut looked = Instant::now();
    let end = event_loop(&mut terminal, &mut lab, &mut key_rx, None, |app, drawn| {
        if s.first_frame.is_zero() {
            s.first_frame = opened.elapsed();
        }
        if s.partitions_shown.is_none()
            && app
                .partition_summary()
                .is_some_and(|p| p.partitions > 0 && p.unowned == 0)
        {
            s.partitions_shown = Some(asked.elapsed());
        }
        let Some((began, cpu)) = start else {
            if asked.elapsed() >= settle {
                start = Some((Instant::now(), cpu_seconds()));
                s.rss_start_mb = rss_mb();
                s.rss_peak_mb = s.rss_start_mb;
            }
            return true;
        };
        s.frames += 1;
        frame_times.record(drawn);
        if looked.elapsed() >= Duration::from_secs(10) {
            looked = Instant::now();
            s.rss_peak_mb = s.rss_peak_mb.max(rss_mb());
        }
        if began.elapsed() < window {
            return true;
        }
        s.cpu_percent = (cpu_seconds() - cpu) * 100.0 / began.elapsed().as_secs_f64();
        s.rss_end_mb = rss_mb();
        s.rss_peak_mb = s.rss_peak_mb.max(s.rss_end_mb);
        false
    })
    .await?;
    quit.abort();
    let _ = lab.shut_down().await;
    drop(lab);
    if let End::Panic(p) = end {
        anyhow::bail!("the dashboard failed: {p}");
    }
    s.frame_ms = frame_times.summary();
    Ok(s)
}
