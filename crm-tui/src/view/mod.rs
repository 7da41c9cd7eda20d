//! Drawing: `draw(&App, &mut Frame)` reads the state and never changes it. The frame is a
//! header, tabs, the view, an optional banner and the footer with the view's keys.

/// A vocabulary value's label in the user's language.
macro_rules! label {
    ($app:expr, $v:expr) => {
        if $app.german {
            $v.label_de()
        } else {
            $v.label_en()
        }
    };
}

mod board;
mod detail;
mod dialog;
mod dupes;
mod lists;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::app::{App, Dialog, Live, View};

/// Styles that read on dark and light terminals; without colour (`NO_COLOR`) only bold,
/// reversed and markers.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// The theme for `app`.
    pub fn of(app: &App) -> Self {
        Self { color: app.color }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    /// Titles.
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Secondary text.
    pub fn dim(self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    /// Overdue, errors.
    pub fn alert(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Good news.
    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    /// The selection.
    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// Keys in the footer.
    pub fn key(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
}

const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];

/// Draws the whole console.
pub fn draw(app: &App, f: &mut Frame) {
    let t = Theme::of(app);
    let banner = u16::from(app.banner.is_some());
    let [head, tabs, body, ban, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(banner),
        Constraint::Length(1),
    ])
    .areas(f.area());
    header(app, f, head, t);
    tab_line(app, f, tabs, t);
    match app.view {
        View::Board => board::draw(app, f, body, t),
        View::Search => lists::search(app, f, body, t),
        View::Due => lists::due(app, f, body, t),
        View::Deal => detail::deal(app, f, body, t),
        View::Contact => detail::contact(app, f, body, t),
        View::Company => detail::company(app, f, body, t),
        View::Duplicates => dupes::draw(app, f, body, t),
    }
    if let Some(b) = &app.banner {
        let style = if b.error { t.alert() } else { t.ok() };
        let mark = if b.error { "✗ " } else { "✓ " };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(mark, style),
                Span::styled(b.text.as_str(), style),
                Span::styled("  (Esc)", t.dim()),
            ])),
            ban,
        );
    }
    footer(app, f, foot, t);
    if let Some(d) = &app.dialog {
        dialog::draw(app, d, f, t);
    }
}

fn header(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let pipeline = app
        .board
        .data
        .as_ref()
        .map(|b| format!(" · {}", b.pipeline))
        .unwrap_or_default();
    let spin = if app.loading() {
        SPINNER[app.tick % SPINNER.len()]
    } else {
        " "
    };
    let live = match app.live {
        Live::Connected => Span::styled("● live", t.ok()),
        Live::Reconnecting => Span::styled("○ reconnecting", t.alert()),
        Live::Off => Span::styled("○ offline", t.dim()),
    };
    let left = format!(" crm · {}{pipeline} ", app.me.org);
    let right = format!("{} · {} ", app.me.user, app.me.role);
    let used = left.chars().count() + right.chars().count() + 2 + live.width();
    let pad = (area.width as usize).saturating_sub(used);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(crate::fmt::fit(&left, area.width as usize), t.title()),
            Span::raw(spin),
            Span::raw(" ".repeat(pad)),
            Span::raw(right),
            live,
        ])),
        area,
    );
}

fn tab_line(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let mut spans = Vec::new();
    for (i, v) in View::TABS.iter().enumerate() {
        let active =
            *v == app.view || (app.back.first() == Some(v) && !View::TABS.contains(&app.view));
        let style = if active {
            t.selected()
        } else {
            Style::default()
        };
        spans.push(Span::styled(format!(" {} {} ", i + 1, v.label()), style));
        spans.push(Span::raw(" "));
    }
    if !View::TABS.contains(&app.view) {
        spans.push(Span::styled(format!("› {}", app.view.label()), t.title()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The keys of the current view (the footer), as (key, what) pairs.
pub fn footer_keys(app: &App) -> Vec<(&'static str, &'static str)> {
    if let Some(d) = &app.dialog {
        return match d {
            Dialog::Help => vec![("Esc", "close")],
            Dialog::Lose { .. } => vec![
                ("↑↓", "reason"),
                ("Tab", "note"),
                ("⏎", "confirm"),
                ("Esc", "cancel"),
            ],
            Dialog::Conflict { .. } => {
                vec![
                    ("r", "reload"),
                    ("f", "apply to new version"),
                    ("Esc", "close"),
                ]
            }
            Dialog::Palette { .. } => vec![("↑↓", "choose"), ("⏎", "go"), ("Esc", "cancel")],
            Dialog::Form(_) => vec![("Tab", "next field"), ("⏎", "save"), ("Esc", "cancel")],
            Dialog::Merge { .. } => vec![("⏎/y", "merge"), ("Esc", "cancel")],
        };
    }
    if app.board.filter_editing && app.view == View::Board {
        return vec![("text @XY #tag", "filter"), ("⏎", "keep"), ("Esc", "clear")];
    }
    if app.board.move_pending && app.view == View::Board {
        return vec![("1-9", "target stage"), ("Esc", "cancel")];
    }
    let mut keys = match app.view {
        View::Board => vec![
            ("←→", "stage"),
            ("↑↓", "deal"),
            ("⏎", "open"),
            ("H/L", "move"),
            ("w", "won"),
            ("x", "lost"),
            ("/", "filter"),
            ("p", "pipeline"),
        ],
        View::Search if app.search.editing => {
            vec![
                ("type", "search"),
                ("↑↓", "choose"),
                ("⏎", "open"),
                ("Esc", "list keys"),
            ]
        }
        View::Search => vec![
            ("/", "search"),
            ("j/k", "choose"),
            ("⏎", "open"),
            ("n", "new contact"),
        ],
        View::Due => vec![
            ("j/k", "choose"),
            ("Space", "done"),
            ("s", "+1 day"),
            ("⏎", "open"),
        ],
        View::Deal => vec![
            ("e", "edit"),
            ("w", "won"),
            ("x", "lost"),
            ("o", "reopen"),
            ("a", "activity"),
            ("Space", "done"),
            ("Esc", "back"),
        ],
        View::Contact | View::Company => vec![
            ("Tab", "deals/activities"),
            ("⏎", "open deal"),
            ("a", "activity"),
            ("Space", "done"),
            ("Esc", "back"),
        ],
        View::Duplicates if app.dupes.open => vec![
            ("j/k", "record"),
            ("s", "survivor"),
            ("m", "merge"),
            ("n", "not a duplicate"),
            ("Esc", "groups"),
        ],
        View::Duplicates => vec![("j/k", "group"), ("⏎", "open"), ("t", "contacts/companies")],
    };
    keys.insert(0, ("?", "help"));
    keys.extend([(":", "jump"), ("q", "quit")]);
    keys
}

fn footer(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let mut spans = vec![Span::raw(" ")];
    let mut width = 1;
    for (k, what) in footer_keys(app) {
        let w = k.chars().count() + what.chars().count() + 3;
        if width + w > area.width as usize {
            break;
        }
        width += w;
        spans.push(Span::styled(k, t.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A rectangle of `w`×`h` centred in `area` (clipped to it), cleared.
pub fn popup(f: &mut Frame, area: Rect, w: u16, h: u16) -> Rect {
    popup_at(f, area, w, h, None)
}

/// As [`popup`], at row `top` when given.
pub fn popup_at(f: &mut Frame, area: Rect, w: u16, h: u16, top: Option<u16>) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: top.map_or(area.y + (area.height - h) / 2, |t| {
            area.y + t.min(area.height - h)
        }),
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    r
}

/// `loading…` with the spinner, or `text` when idle: the placeholder of an empty pane.
pub fn placeholder(app: &App, text: &str) -> String {
    if app.loading() {
        format!("{} loading…", SPINNER[app.tick % SPINNER.len()])
    } else {
        text.to_string()
    }
}
