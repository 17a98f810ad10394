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
            Mode::Help => " (in the help)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    ToggleProducer,
    AddConsumer,
    RemoveConsumer,
    HoldConsumer,
    NextPane,
    PrevPane,
    Settings,
    Detail,
    Runs,
    Partitions,
    Timeline,
    GroupBy,
    Export,
    BrokerOutage,
    Topics,
    Sink,
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

use Action as A;
use KeyCode as K;

const fn main(
    keys: &'static [KeyCode],
    label: &'static str,
    action: Action,
    help: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        mode: Some(Mode::Main),
        keys: Keys::Codes(keys),
        label,
        action,
        help,
        hint,
    }
}

const fn on(
    mode: Mode,
    keys: Keys,
    label: &'static str,
    action: Action,
    help: &'static str,
) -> Binding {
    Binding {
        mode: Some(mode),
        keys,
        label,
        action,
        help,
        hint: None,
    }
}

/// Scrolling, the same in every list.
const SCROLL: [(&[KeyCode], &str, Action, &str); 6] = [
    (
        &[K::Up, K::Char('k')],
        "↑, k",
        A::Up,
        "up a line (the focused list)",
    ),
    (&[K::Down, K::Char('j')], "↓, j", A::Down, "down a line"),
    (&[K::PageUp], "PgUp", A::PageUp, "up a page"),
    (&[K::PageDown], "PgDn", A::PageDown, "down a page"),
    (&[K::Home], "Home", A::Top, "the oldest"),
    (&[K::End], "End", A::Bottom, "the newest (and follow)"),
];

const fn scroll(mode: Mode, i: usize) -> Binding {
    let (keys, label, action, help) = SCROLL[i];
    on(mode, Keys::Codes(keys), label, action, help)
}

pub const KEYMAP: &[Binding] = &[
    main(
        &[K::Char('p')],
        "p",
        A::ToggleProducer,
        "start or stop the producer",
        Some("producer"),
    ),
    main(
        &[K::Char('c')],
        "c",
        A::AddConsumer,
        "add a consumer to the group (a new pane; the group rebalances)",
        Some("add consumer"),
    ),
    main(
        &[K::Char('x')],
        "x",
        A::RemoveConsumer,
        "remove the selected consumer (it commits and leaves the group)",
        Some("remove"),
    ),
    main(
        &[K::Char('h')],
        "h",
        A::HoldConsumer,
        "hold the selected consumer (it stays in the group); again to resume",
        None,
    ),
    main(
        &[K::Tab, K::Right],
        "Tab, →",
        A::NextPane,
        "select the next pane: the producer, each consumer or the view",
        Some("select"),
    ),
    main(
        &[K::BackTab, K::Left],
        "Shift-Tab, ←",
        A::PrevPane,
        "select the previous pane",
        None,
    ),
    scroll(Mode::Main, 0),
    scroll(Mode::Main, 1),
    scroll(Mode::Main, 2),
    scroll(Mode::Main, 3),
    scroll(Mode::Main, 4),
    scroll(Mode::Main, 5),
    main(
        &[K::Enter],
        "Enter",
        A::Detail,
        "the selected consumer's latest records in full: metadata, headers, value",
        None,
    ),
    main(
        &[K::Char('s')],
        "s",
        A::Settings,
        "edit the settings (producer, group, simulated round trip)",
        Some("settings"),
    ),
    main(
        &[K::Char('v')],
        "v",
        A::Partitions,
        "lower half: consumer panes / the partition view",
        Some("partitions"),
    ),
    main(
        &[K::Char('g')],
        "g",
        A::Timeline,
        "lower half: consumer panes / the rebalance timeline",
        Some("rebalances"),
    ),
    main(
        &[K::Char('r')],
        "r",
        A::Runs,
        "lower half: consumer panes / the runs table with its charts",
        Some("runs"),
    ),
    main(
        &[K::Char('z')],
        "z",
        A::Zoom,
        "the lower half takes the whole screen, or gives it back",
        None,
    ),
    main(
        &[K::Char('m')],
        "m",
        A::Mark,
        "runs table: mark the selected run; two marked are compared",
        None,
    ),
    main(
        &[K::Char('t')],
        "t",
        A::GroupBy,
        "stream table: count consumed breweries by type, state or country",
        None,
    ),
    main(
        &[K::Char('a')],
        "a",
        A::Topics,
        "topics: create one, add partitions, switch to another",
        None,
    ),
    main(
        &[K::Char('w')],
        "w",
        A::Sink,
        "start or stop writing consumed records to a JSON-lines file",
        None,
    ),
    main(
        &[K::Char('e')],
        "e",
        A::Export,
        "export the runs table to CSV and JSON files",
        Some("export"),
    ),
    main(
        &[K::Char('b')],
        "b",
        A::BrokerOutage,
        "fail a partition's leader (embedded: 5 s; kafka-local: choose how)",
        Some("broker down"),
    ),
    main(
        &[K::Char(' ')],
        "Space",
        A::Pause,
        "pause the screen, or a scenario (clients go on); again to resume",
        Some("pause"),
    ),
    main(
        &[K::Char('/')],
        "/",
        A::Filter,
        "show only records and deliveries whose key or value holds a text",
        None,
    ),
    main(
        &[K::Char('l')],
        "l",
        A::Events,
        "the events log: every notice, fault and error in full",
        None,
    ),
    main(
        &[K::Char('?')],
        "?",
        A::Help,
        "every key, on screen",
        Some("help"),
    ),
    main(
        &[K::Char('q')],
        "q",
        A::Quit,
        "quit: flush the producer, leave the group, restore the terminal",
        Some("quit"),
    ),
    Binding {
        mode: None,
        keys: Keys::Ctrl('c'),
        label: "Ctrl-C",
        action: A::Quit,
        help: "quit from anywhere",
        hint: None,
    },
    on(
        Mode::Settings,
        Keys::Codes(&[K::Up, K::BackTab]),
        "↑, Shift-Tab",
        A::Up,
        "previous field",
    ),
    on(
        Mode::Settings,
        Keys::Codes(&[K::Down, K::Tab]),
        "↓, Tab",
        A::Down,
        "next field",
    ),
    on(
        Mode::Settings,
        Keys::Codes(&[K::Left]),
        "←",
        A::Left,
        "the previous choice, or the cursor left",
    ),
    on(
        Mode::Settings,
        Keys::Codes(&[K::Right]),
        "→",
        A::Right,
        "the next choice, or the cursor right",
    ),
    on(
        Mode::Settings,
        Keys::Typing,
        "typing",
        A::Edit,
        "replaces the value (after ← → it edits)",
    ),
    on(
        Mode::Settings,
        Keys::Codes(&[K::Enter]),
        "Enter",
        A::Apply,
        "apply: what changed restarts",
    ),
    on(
        Mode::Settings,
        Keys::Codes(&[K::Esc]),
        "Esc",
        A::Close,
        "leave; edits not applied are discarded",
    ),
    on(
        Mode::Topics,
        Keys::Codes(&[K::Up]),
        "↑",
        A::Up,
        "previous row",
    ),
    on(
        Mode::Topics,
        Keys::Codes(&[K::Down, K::Tab]),
        "↓, Tab",
        A::Down,
        "next row",
    ),
    on(
        Mode::Topics,
        Keys::Codes(&[K::Left]),
        "←",
        A::Left,
        "switch row: the previous topic of the cluster",
    ),
    on(
        Mode::Topics,
        Keys::Codes(&[K::Right]),
        "→",
        A::Right,
        "switch row: the next topic of the cluster",
    ),
    on(Mode::Topics, Keys::Typing, "typing", A::Edit, "edits"),
    on(
        Mode::Topics,
        Keys::Codes(&[K::Enter]),
        "Enter",
        A::Apply,
        "do the row's action",
    ),
    on(
        Mode::Topics,
        Keys::Codes(&[K::Esc]),
        "Esc",
        A::Close,
        "close",
    ),
    on(
        Mode::Fault,
        Keys::Codes(&[K::Up]),
        "↑",
        A::Up,
        "previous row",
    ),
    on(
        Mode::Fault,
        Keys::Codes(&[K::Down, K::Tab]),
        "↓, Tab",
        A::Down,
        "next row",
    ),
    on(
        Mode::Fault,
        Keys::Codes(&[K::Left]),
        "←",
        A::Left,
        "previous choice",
    ),
    on(
        Mode::Fault,
        Keys::Codes(&[K::Right]),
        "→",
        A::Right,
        "next choice",
    ),
    on(
        Mode::Fault,
        Keys::Codes(&[K::Enter]),
        "Enter",
        A::Apply,
        "take the leader down",
    ),
    on(
        Mode::Fault,
        Keys::Codes(&[K::Esc]),
        "Esc",
        A::Close,
        "close",
    ),
    on(
        Mode::Detail,
        Keys::Codes(&[K::Up]),
        "↑",
        A::Up,
        "newer record",
    ),
    on(
        Mode::Detail,
        Keys::Codes(&[K::Down]),
        "↓",
        A::Down,
        "older record",
    ),
    on(
        Mode::Detail,
        Keys::Codes(&[K::PageUp, K::Char('k')]),
        "PgUp, k",
        A::PageUp,
        "scroll the value up",
    ),
    on(
        Mode::Detail,
        Keys::Codes(&[K::PageDown, K::Char('j')]),
        "PgDn, j",
        A::PageDown,
        "scroll the value down",
    ),
    on(
        Mode::Detail,
        Keys::Codes(&[K::Home]),
        "Home",
        A::Top,
        "the value's start",
    ),
    on(
        Mode::Detail,
        Keys::Codes(&[K::End]),
        "End",
        A::Bottom,
        "the value's end",
    ),
    on(
        Mode::Detail,
        Keys::Codes(&[K::Char('q')]),
        "q",
        A::Quit,
        "quit",
    ),
    on(
        Mode::Detail,
        Keys::Codes(&[K::Esc, K::Enter]),
        "Esc, Enter",
        A::Close,
        "close",
    ),
    on(
        Mode::Detail,
        Keys::Other,
        "any other key",
        A::Ignore,
        "nothing",
    ),
    scroll(Mode::Events, 0),
    scroll(Mode::Events, 1),
    scroll(Mode::Events, 2),
    scroll(Mode::Events, 3),
    scroll(Mode::Events, 4),
    scroll(Mode::Events, 5),
    on(
        Mode::Events,
        Keys::Codes(&[K::Char('q')]),
        "q",
        A::Quit,
        "quit",
    ),
    on(
        Mode::Events,
        Keys::Codes(&[K::Esc, K::Char('l')]),
        "Esc, l",
        A::Close,
        "close",
    ),
    on(
        Mode::Events,
        Keys::Other,
        "any other key",
        A::Ignore,
        "nothing",
    ),
    on(
        Mode::Filter,
        Keys::Typing,
        "typing",
        A::Edit,
        "the text to look for",
    ),
    on(
        Mode::Filter,
        Keys::Codes(&[K::Enter]),
        "Enter",
        A::Apply,
        "keep the filter (/ again changes it)",
    ),
    on(
        Mode::Filter,
        Keys::Codes(&[K::Esc]),
        "Esc",
        A::Close,
        "no filter",
    ),
    on(
        Mode::Help,
        Keys::Codes(&[K::Char('q')]),
        "q",
        A::Quit,
        "quit",
    ),
    on(Mode::Help, Keys::Other, "any other key", A::Close, "close"),
];

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
                if k.chars().count() == 1 || k.starts_with(char::is_uppercase) {
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

/// `p producer · c add consumer · ...` from the main screen's hints.
pub fn hints() -> String {
    let hints: Vec<String> = KEYMAP
        .iter()
        .filter_map(|b| {
            b.hint
                .map(|h| format!("{} {h}", b.label.split(", ").next().unwrap_or(b.label)))
        })
        .collect();
    hints.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_find_their_action_by_mode() {
        assert_eq!(
            action(Mode::Main, &key(K::Char('p'))),
            Some(A::ToggleProducer)
        );
        assert_eq!(action(Mode::Main, &key(K::Char('y'))), None);
        // In a form, letters are text, not commands.
        assert_eq!(action(Mode::Settings, &key(K::Char('q'))), Some(A::Edit));
        assert_eq!(action(Mode::Settings, &key(K::Enter)), Some(A::Apply));
        assert_eq!(action(Mode::Help, &key(K::Char('q'))), Some(A::Quit));
        assert_eq!(action(Mode::Help, &key(K::Char('c'))), Some(A::Close));
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
        let h = hints();
        assert!(h.starts_with("p producer · c add consumer"), "{h}");
        assert!(h.ends_with("? help · q quit"), "{h}");
    }
}

#[cfg(test)]
mod readme {
    use super::*;

    /// The first cells of the rows of the README's key table.
    fn readme_keys() -> Vec<String> {
        let path = crate::runtime::in_repo("README.md");
        let text = std::fs::read_to_string(path).unwrap();
        let section = text
            .split("\n## Keys\n")
            .nth(1)
            .expect("README has a Keys section");
        section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|l| l.split('|').nth(1).unwrap_or_default().trim().to_string())
            .collect()
    }

    #[test]
    fn the_readme_lists_exactly_the_keymaps_keys() {
        let ours: Vec<String> = KEYMAP.iter().map(Binding::readme_key).collect();
        let theirs = readme_keys();
        let table: Vec<String> = KEYMAP
            .iter()
            .map(|b| format!("| {} | {} |", b.readme_key(), b.help))
            .collect();
        assert_eq!(
            theirs,
            ours,
            "the README's key table must list the keymap's keys, in order; for example:\n{}",
            table.join("\n")
        );
    }
}
