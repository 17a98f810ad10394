//! Every key of the dashboard, once: the key handling, the help overlay, the status bar's
//! hints and the README's key table all come from [`KEYMAP`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What has the keyboard: the main screen, or one overlay at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Main,
    Settings,
    Topics,
    Fault,
    Detail,
    Events,
    Filter,
    /// Typing where to rewind the group to.
    Rewind,
    Help,
}

impl Mode {
    /// How the README and the help qualify a key of this mode.
    pub fn qualifier(self) -> &'static str {
        match self {
            Mode::Main => "",
            Mode::Settings => " (in settings)",
            Mode::Topics => " (in the topic dialog)",
            Mode::Fault => " (in the fault dialog)",
            Mode::Detail => " (in the record detail)",
            Mode::Events => " (in the events log)",
            Mode::Filter => " (in the filter)",
            Mode::Rewind => " (in the rewind prompt)",
            Mode::Help => " (in the help)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Give the terminal back to the shell (the front end stops the process until `fg`).
    Suspend,
    Help,
    ToggleProducer,
    AddConsumer,
    RemoveConsumer,
    HoldConsumer,
    /// Crash the selected consumer, or restart a crashed one.
    CrashConsumer,
    /// The selected consumer's own work per record, in steps.
    WorkConsumer,
    /// The selected consumer's own `isolation.level`: the other one, then the group's.
    IsolateConsumer,
    /// Start the processors (exactly once and at least once), or stop them.
    Processors,
    /// Crash the running processors, or restart crashed ones.
    CrashProcessors,
    NextPane,
    PrevPane,
    /// Select a pane by its number (the digit is the key's).
    Jump,
    /// Copy the selected run or record to the terminal's clipboard.
    Copy,
    /// The charts' time window: shorter, longer.
    ChartsShorter,
    ChartsLonger,
    /// Runs tables: the column they are sorted by.
    SortNext,
    SortPrev,
    Settings,
    Detail,
    Runs,
    ConsumerRuns,
    /// Reset the group's committed offsets.
    Rewind,
    Partitions,
    Timeline,
    GroupBy,
    Export,
    BrokerOutage,
    Topics,
    Sink,
    Data,
    Pause,
    Filter,
    Mark,
    Zoom,
    Events,
    /// In a form or list: the previous row.
    Up,
    /// In a form or list: the next row.
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// In a form: the previous choice, or the cursor left.
    Left,
    /// In a form: the next choice, or the cursor right.
    Right,
    /// In a form: apply it.
    Apply,
    /// Leave the overlay.
    Close,
    /// In a form: the key edits the selected value.
    Edit,
    /// A key the mode does not use.
    Ignore,
}

/// Which keys a binding takes.
#[derive(Debug, Clone, Copy)]
pub enum Keys {
    /// These keys, without Control or Alt.
    Codes(&'static [KeyCode]),
    /// Control and this letter.
    Ctrl(char),
    /// Keys that edit text: characters, Backspace, Delete, ←, →, Home, End.
    Typing,
    /// Any key no other binding of the mode takes.
    Other,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// None: in every mode.
    pub mode: Option<Mode>,
    pub keys: Keys,
    /// The keys as the help and the README write them.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// A short word for the status bar's key hints, for the main screen's keys.
    pub hint: Option<&'static str>,
}

use KeyCode as K;

mod table;
pub use table::KEYMAP;

fn plain(key: &KeyEvent) -> bool {
    !key.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

fn edits_text(key: &KeyEvent) -> bool {
    plain(key)
        && matches!(
            key.code,
            K::Char(_) | K::Backspace | K::Delete | K::Left | K::Right | K::Home | K::End
        )
}

impl Binding {
    fn takes(&self, key: &KeyEvent) -> bool {
        match self.keys {
            Keys::Codes(codes) => plain(key) && codes.contains(&key.code),
            Keys::Ctrl(c) => {
                key.modifiers.contains(KeyModifiers::CONTROL) && key.code == K::Char(c)
            }
            Keys::Typing => edits_text(key),
            Keys::Other => true,
        }
    }

    /// How the README's key table names this binding's keys.
    pub fn readme_key(&self) -> String {
        let keys: Vec<String> = self
            .label
            .split(", ")
            .map(|k| {
                // Keys are one character or a capitalised name; words (typing) are not.
                // A range (`1-9`) is two keys.
                if let Some((a, b)) = k
                    .split_once('-')
                    .filter(|(a, b)| a.len() == 1 && b.len() == 1)
                {
                    format!("`{a}`-`{b}`")
                } else if k.chars().count() == 1 || k.starts_with(char::is_uppercase) {
                    format!("`{k}`")
                } else {
                    k.to_string()
                }
            })
            .collect();
        format!(
            "{}{}",
            keys.join(", "),
            self.mode.map_or("", Mode::qualifier)
        )
    }
}

/// The action of `key` in `mode`: the bindings for every mode first, then the mode's own
/// keys, then typing, then "any other key".
pub fn action(mode: Mode, key: &KeyEvent) -> Option<Action> {
    let of_mode = |kind: fn(&Keys) -> bool| {
        KEYMAP
            .iter()
            .filter(move |b| b.mode == Some(mode) && kind(&b.keys))
            .find(|b| b.takes(key))
    };
    KEYMAP
        .iter()
        .filter(|b| b.mode.is_none())
        .find(|b| b.takes(key))
        .or_else(|| of_mode(|k| matches!(k, Keys::Codes(_) | Keys::Ctrl(_))))
        .or_else(|| of_mode(|k| matches!(k, Keys::Typing)))
        .or_else(|| of_mode(|k| matches!(k, Keys::Other)))
        .map(|b| b.action)
}

/// The bindings of `mode` (and those of every mode), in order.
pub fn bindings(mode: Mode) -> impl Iterator<Item = &'static Binding> {
    KEYMAP
        .iter()
        .filter(move |b| b.mode.is_none_or(|m| m == mode))
}

/// The key of `action` in `mode` as the screen names it (the first of its binding's keys:
/// `Tab`, `x`, `Esc`): every key a hint or a message names comes from here.
pub fn key(mode: Mode, action: Action) -> &'static str {
    bindings(mode)
        .find(|b| b.action == action)
        .map_or("?", |b| b.label.split(", ").next().unwrap_or(b.label))
}

/// `p producer · c add consumer · ... · ? help · q quit` from the main screen's hints, in
/// `width` columns: hints give way from the end of the list, but help and quit stay.
pub fn hints(width: usize) -> String {
    let hints: Vec<String> = KEYMAP
        .iter()
        .filter_map(|b| {
            b.hint
                .map(|h| format!("{} {h}", b.label.split(", ").next().unwrap_or(b.label)))
        })
        .collect();
    let all = hints.join(" · ");
    if all.chars().count() <= width {
        return all;
    }
    let (head, tail) = hints.split_at(hints.len().saturating_sub(2));
    let tail = format!(" · … · {}", tail.join(" · "));
    let room = width.saturating_sub(tail.chars().count());
    let mut shown = String::new();
    for h in head {
        let next = if shown.is_empty() {
            h.clone()
        } else {
            format!("{shown} · {h}")
        };
        if next.chars().count() > room {
            break;
        }
        shown = next;
    }
    if shown.is_empty() {
        tail.trim_start_matches(" · … · ").to_string()
    } else {
        shown + &tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_find_their_action_by_mode() {
        assert_eq!(
            action(Mode::Main, &key(K::Char('p'))),
            Some(A::ToggleProducer)
        );
        assert_eq!(action(Mode::Main, &key(K::Char('y'))), Some(A::Copy));
        assert_eq!(action(Mode::Main, &key(K::Char('u'))), None);
        // In a form, letters are text, not commands.
        assert_eq!(action(Mode::Settings, &key(K::Char('q'))), Some(A::Edit));
        assert_eq!(action(Mode::Settings, &key(K::Enter)), Some(A::Apply));
        assert_eq!(action(Mode::Help, &key(K::Char('q'))), Some(A::Quit));
        // The help closes on Esc or ?; other keys do nothing (a stray key keeps it open).
        assert_eq!(action(Mode::Help, &key(K::Char('c'))), Some(A::Ignore));
        assert_eq!(action(Mode::Help, &key(K::Esc)), Some(A::Close));
        assert_eq!(action(Mode::Help, &key(K::Char('j'))), Some(A::Down));
        // PgDn scrolls a record's value; only Esc or Enter close it.
        assert_eq!(action(Mode::Detail, &key(K::PageDown)), Some(A::PageDown));
        assert_eq!(action(Mode::Detail, &key(K::Char('x'))), Some(A::Ignore));
        let ctrl_c = KeyEvent::new(K::Char('c'), KeyModifiers::CONTROL);
        for mode in [
            Mode::Main,
            Mode::Settings,
            Mode::Topics,
            Mode::Fault,
            Mode::Detail,
            Mode::Help,
        ] {
            assert_eq!(action(mode, &ctrl_c), Some(A::Quit), "{mode:?}");
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_a_mode() {
        for b in KEYMAP {
            let Keys::Codes(codes) = b.keys else { continue };
            for code in codes {
                let again = KEYMAP.iter().filter(|o| {
                    o.mode == b.mode && matches!(o.keys, Keys::Codes(c) if c.contains(code))
                });
                assert_eq!(again.count(), 1, "{code:?} in {:?}", b.mode);
            }
        }
    }

    #[test]
    fn hints_name_the_main_keys() {
        let h = hints(500);
        assert!(h.starts_with("p producer · c add consumer"), "{h}");
        assert!(h.ends_with("? help · q quit"), "{h}");
        assert!(!h.contains('…'), "{h}");
    }

    /// At any width help and quit stay: the hints before them give way, marked `…`.
    #[test]
    fn hints_keep_help_and_quit_at_every_width() {
        for width in [16, 40, 80, 120, 160] {
            let h = hints(width);
            assert!(h.chars().count() <= width, "{width}: {h}");
            assert!(h.ends_with("? help · q quit"), "{width}: {h}");
        }
        assert!(hints(80).starts_with("p producer · c add consumer"));
        assert!(hints(80).contains(" · … · ? help"));
    }
}

#[cfg(test)]
mod docs {
    use super::*;

    /// The rows of the first table under `heading` in the file at `path` (from the repository's
    /// root): key and what it does.
    fn table(path: &str, heading: &str) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(crate::runtime::in_repo(path)).unwrap();
        let section = text
            .split(&format!("\n{heading}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("{path} has a section {heading}"));
        section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells[1].to_string(), cells[2].to_string())
            })
            .collect()
    }

    fn rows<'a>(bindings: impl Iterator<Item = &'a Binding>) -> Vec<(String, String)> {
        bindings
            .map(|b| (b.readme_key(), b.help.to_string()))
            .collect()
    }

    fn as_table(rows: &[(String, String)]) -> String {
        rows.iter()
            .map(|(k, h)| format!("| {k} | {h} |"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn docs_keys_lists_exactly_the_keymaps_keys() {
        let ours = rows(KEYMAP.iter());
        assert_eq!(
            table("docs/keys.md", "## Every key"),
            ours,
            "docs/keys.md must list the keymap's keys, in order:\n{}",
            as_table(&ours)
        );
    }

    #[test]
    fn the_readme_lists_the_keys_the_status_bar_names() {
        let ours = rows(KEYMAP.iter().filter(|b| b.hint.is_some()));
        assert_eq!(
            table("README.md", "## Main keys"),
            ours,
            "the README's main keys are the keymap's keys with a hint, in order:\n{}",
            as_table(&ours)
        );
    }
}
