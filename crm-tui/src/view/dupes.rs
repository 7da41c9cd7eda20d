//! The duplicates view: candidate groups with score and reasons; an open group's records
//! with the survivor marked; the merge confirmation.

use crm_core::dedupe::{Group, Kind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::{Theme, placeholder, popup};
use crate::app::{App, Dialog};
use crate::fmt;

fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contacts",
        Kind::Company => "companies",
    }
}

fn reasons(g: &Group) -> String {
    let r: Vec<&str> = g.reasons.iter().map(|r| r.as_str()).collect();
    r.join(", ")
}

/// Draws the list of groups, or the open group.
pub fn draw(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let d = &app.dupes;
    let other = plural(match d.kind {
        Kind::Contact => Kind::Company,
        Kind::Company => Kind::Contact,
    });
    if d.open
        && let Some(g) = d.group()
    {
        return group(app, g, f, area, t);
    }
    let groups = &d.groups.items;
    let title = format!(
        " Duplicate {} · {} groups · t: {other} ",
        plural(d.kind),
        groups.len()
    );
    if groups.is_empty() {
        f.render_widget(
            Paragraph::new(placeholder(
                app,
                "no likely duplicates at the default score",
            ))
            .block(Block::bordered().title(title)),
            area,
        );
        return;
    }
    let rows = groups.iter().map(|g| {
        let names: Vec<&str> = g.members.iter().map(|m| m.name.as_str()).collect();
        Row::new(vec![
            Cell::from(format!("{:.2}", g.score)),
            Cell::from(g.ids.len().to_string()),
            Cell::from(names.join(" · ")),
            Cell::from(reasons(g)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(5),
            Constraint::Length(3),
            Constraint::Percentage(55),
            Constraint::Percentage(45),
        ],
    )
    .header(Row::new(vec!["score", "n", "records", "why"]).style(t.title()))
    .row_highlight_style(t.selected())
    .block(Block::bordered().title(title));
    let mut state = TableState::default().with_selected(Some(d.groups.selected));
    f.render_stateful_widget(table, area, &mut state);
}

/// One group: why, and its records with the survivor marked.
fn group(app: &App, g: &Group, f: &mut Frame, area: Rect, t: Theme) {
    let d = &app.dupes;
    let [why, list] = Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(area);
    f.render_widget(
        Paragraph::new(format!("score {:.2} · {}", g.score, reasons(g))).block(
            Block::bordered()
                .title(format!(" Likely the same {} ", g.kind))
                .border_style(t.title()),
        ),
        why,
    );
    let rows = g.members.iter().enumerate().map(|(i, m)| {
        let mark = if i == d.survivor { "★ keep" } else { "" };
        Row::new(vec![
            Cell::from(mark),
            Cell::from(m.name.as_str()),
            Cell::from(m.detail.as_deref().unwrap_or("")),
            Cell::from(fmt::date(m.updated_at.date_naive(), app.german)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(6),
            Constraint::Percentage(40),
            Constraint::Percentage(40),
            Constraint::Length(10),
        ],
    )
    .header(Row::new(vec!["", "name", "e-mail / domain", "changed"]).style(t.title()))
    .row_highlight_style(t.selected())
    .block(Block::bordered().title(format!(
        " {} records · s survivor · m merge · n not a duplicate ",
        g.members.len()
    )));
    let mut state = TableState::default().with_selected(Some(d.member));
    f.render_stateful_widget(table, list, &mut state);
}

/// The merge confirmation.
pub fn merge_box(d: &Dialog, f: &mut Frame, t: Theme) {
    let Dialog::Merge {
        kind,
        ids,
        survivor,
    } = d
    else {
        return;
    };
    let r = popup(f, f.area(), 60, 10);
    let others = ids.len().saturating_sub(1);
    let lines = vec![
        Line::raw(format!(
            "Merge {others} {} into “{survivor}”?",
            if others == 1 {
                kind.as_str()
            } else {
                plural(*kind)
            }
        )),
        Line::raw("Its empty fields are filled from the others; their"),
        Line::raw("e-mails, phones, tags, deals, activities and links move"),
        Line::raw("to it."),
        Line::raw(format!("Undo: crm {kind} unmerge MERGE_ID (shown after)")),
        Line::raw(""),
        Line::styled("⏎/y merge   Esc cancel", t.dim()),
    ];
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Merge ").border_style(t.alert())),
        r,
    );
}
