//! Dialogs drawn over the view: help, lose, conflict, palette, forms.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{Theme, popup, popup_at};
use crate::app::{App, Dialog};
use crate::form::Form;
use crate::{fmt, palette};

/// Every key, by where it works (the `?` screen and the README's table).
pub const HELP: &[(&str, &[(&str, &str)])] = &[
    (
        "Everywhere",
        &[
            ("?", "this help"),
            (":", "jump: view, pipeline"),
            ("1 2 3  Tab", "board·contacts·tasks"),
            ("r", "reload"),
            ("Esc", "back / close"),
            ("q  Ctrl-c", "quit"),
        ],
    ),
    (
        "Lists",
        &[
            ("j k  ↑ ↓", "move"),
            ("gg  G", "first · last"),
            ("PgUp PgDn", "page"),
            ("⏎", "open"),
        ],
    ),
    (
        "Search · activities",
        &[
            ("type", "search as you type"),
            ("n", "new contact"),
            ("Space  s", "done · +1 day"),
        ],
    ),
    (
        "Duplicates (: dup)",
        &[
            ("⏎  t", "open · ⇄ companies"),
            ("s  m", "survivor · merge (asks)"),
            ("n", "not a duplicate"),
        ],
    ),
    (
        "Board",
        &[
            ("h l  ← →", "stage"),
            ("H L  Shift-←→", "move one stage"),
            ("m 1-9", "move to stage n"),
            ("w  x", "won · lost"),
            ("a", "add activity"),
            ("/", "filter text @AS #tag"),
            ("p", "next pipeline"),
        ],
    ),
    (
        "Deal · contact · company",
        &[
            ("e", "edit deal"),
            ("w x o", "won · lost · reopen"),
            ("a", "note, call or task"),
            ("Space  s", "done · +1 day"),
            ("Tab", "deals ⇄ activities"),
        ],
    ),
    (
        "Forms",
        &[
            ("Tab  S-Tab", "next · previous"),
            ("⏎  Esc", "save · cancel"),
        ],
    ),
];

/// Draws `d` over the frame.
pub fn draw(app: &App, d: &Dialog, f: &mut Frame, t: Theme) {
    match d {
        Dialog::Help => help(f, t),
        Dialog::Lose { .. } => lose_box(app, d, f, t),
        Dialog::Conflict { .. } => conflict_box(d, f, t),
        Dialog::Palette { input, selected } => palette_box(app, input, *selected, f, t),
        Dialog::Form(form) => form_box(form, f, t),
        Dialog::Merge { .. } => super::dupes::merge_box(d, f, t),
    }
}

/// Losing a deal: the reason to pick and an optional note.
fn lose_box(app: &App, d: &Dialog, f: &mut Frame, t: Theme) {
    let Dialog::Lose {
        title,
        reason,
        note,
        in_note,
        error,
        ..
    } = d
    else {
        return;
    };
    let h = (app.lost_reasons.len() as u16 + 7).min(f.area().height);
    let r = popup(f, f.area(), 52, h);
    let mut lines = vec![
        Line::styled(fmt::fit(title, 48), t.dim()),
        Line::styled("Reason", t.title()),
    ];
    for (i, e) in app.lost_reasons.iter().enumerate() {
        let sel = i == *reason;
        let style = if sel && !in_note {
            t.selected()
        } else {
            Default::default()
        };
        lines.push(Line::styled(
            format!("{} {}", if sel { ">" } else { " " }, app.reason_label(e)),
            style,
        ));
    }
    let cursor = if *in_note { "▏" } else { "" };
    lines.push(Line::from(vec![
        Span::styled(
            "Note (optional) ",
            if *in_note { t.title() } else { t.dim() },
        ),
        Span::raw(format!("{note}{cursor}")),
    ]));
    if let Some(e) = error {
        lines.push(Line::styled(e.as_str(), t.alert()));
    }
    lines.push(Line::styled("⏎ confirm · Tab note · Esc cancel", t.dim()));
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" Lose deal ")
                .border_style(t.alert()),
        ),
        r,
    );
}

/// A change lost to someone else's: what changed, and reload or apply again.
fn conflict_box(d: &Dialog, f: &mut Frame, t: Theme) {
    let Dialog::Conflict {
        attempted,
        changes,
        at,
        retry,
        ..
    } = d
    else {
        return;
    };
    let r = popup(f, f.area(), 60, changes.len() as u16 + 8);
    let when = at
        .as_deref()
        .map(|a| format!(" at {a}"))
        .unwrap_or_default();
    let mut lines = vec![Line::raw(format!("Someone else changed this deal{when}:"))];
    for (field, mine, now) in changes {
        lines.push(Line::raw(format!("  {field:<7} {mine} → {now}")));
    }
    lines.push(Line::raw(format!("Your “{attempted}” was not applied.")));
    lines.push(Line::raw(""));
    let f_key = if retry.is_some() {
        "  f apply to the new version"
    } else {
        ""
    };
    lines.push(Line::styled(format!("r reload{f_key}  Esc close"), t.dim()));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(" Conflict ")
                .border_style(t.alert()),
        ),
        r,
    );
}

/// The command palette: what was typed and the matching places to jump to.
fn palette_box(app: &App, input: &str, selected: usize, f: &mut Frame, t: Theme) {
    let matches = palette::matches(app, input);
    let area = f.area();
    let h = (matches.len() as u16 + 3)
        .min(area.height.saturating_sub(2))
        .max(4);
    let r = popup_at(f, area, 50, h, Some(2));
    let mut lines = vec![Line::from(vec![
        Span::styled(": ", t.key()),
        Span::raw(format!("{input}▏")),
    ])];
    for (i, (label, _)) in matches.iter().enumerate() {
        let style = if i == selected {
            t.selected()
        } else {
            Default::default()
        };
        lines.push(Line::styled(format!("  {label}"), style));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Jump to ")),
        r,
    );
}

fn help(f: &mut Frame, t: Theme) {
    let area = f.area();
    let r = popup(f, area, 84, area.height.saturating_sub(2));
    let block = Block::bordered().title(" Keys — Esc closes ");
    let inner = block.inner(r);
    f.render_widget(block, r);
    // Two columns of sections: everything fits 80×24.
    let [left, right] = ratatui::layout::Layout::horizontal([
        ratatui::layout::Constraint::Percentage(50),
        ratatui::layout::Constraint::Percentage(50),
    ])
    .areas(inner);
    for (part, rect) in [(&HELP[..4], left), (&HELP[4..], right)] {
        let mut lines = Vec::new();
        for (section, keys) in part {
            lines.push(Line::styled(*section, t.title()));
            for (k, what) in *keys {
                lines.push(Line::from(vec![
                    Span::styled(format!(" {k:<14}"), t.key()),
                    Span::raw(*what),
                ]));
            }
        }
        f.render_widget(Paragraph::new(lines), rect);
    }
}

fn form_box(form: &Form, f: &mut Frame, t: Theme) {
    let h = form.fields.len() as u16 * 3 + 4;
    let r = popup(f, f.area(), 64, h);
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
        let focus = i == form.focus;
        lines.push(Line::styled(
            field.label,
            if focus { t.title() } else { t.dim() },
        ));
        let cursor = if focus { "▏" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(if focus { "> " } else { "  " }, t.key()),
            Span::raw(format!("{}{cursor}", field.value)),
        ]));
        match &field.error {
            Some(e) => lines.push(Line::styled(format!("  ✗ {e}"), t.alert())),
            None => lines.push(Line::raw("")),
        }
    }
    if let Some(e) = &form.error {
        lines.push(Line::styled(format!("✗ {e}"), t.alert()));
    }
    let status = if form.saving {
        "saving…"
    } else {
        "⏎ save · Tab next · Esc cancel"
    };
    lines.push(Line::styled(status, t.dim()));
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(format!(" {} ", form.title))),
        r,
    );
}
