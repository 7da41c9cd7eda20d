//! The board: stages as columns (as many as fit, scrolled to the selected one), each with
//! its count and totals per currency, and only the cards that fit drawn (virtualised).

use crm_core::console::{Board, Card};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{Theme, placeholder};
use crate::app::App;
use crate::fmt;

/// Narrowest column.
const MIN_COL: u16 = 24;
/// Lines per card (three of text and a gap).
const CARD: u16 = 4;

/// Draws the board view.
pub fn draw(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let Some(board) = &app.board.data else {
        f.render_widget(
            Paragraph::new(placeholder(app, "no board")).block(Block::bordered()),
            area,
        );
        return;
    };
    let mut area = area;
    if app.board.filter_editing || !app.board.filter.input.is_empty() {
        let [line, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
        let cursor = if app.board.filter_editing { "▏" } else { "" };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(" / ", t.key()),
                Span::raw(format!("{}{cursor}", app.board.filter.input)),
                Span::styled("   text · @owner initials · #tag", t.dim()),
            ])),
            line,
        );
        area = rest;
    }
    if board.columns.is_empty() {
        f.render_widget(Paragraph::new("this pipeline has no stages"), area);
        return;
    }
    let fit = (area.width / MIN_COL).max(1) as usize;
    let n = board.columns.len();
    let shown = fit.min(n);
    let first = app.board.col.saturating_sub(shown - 1).min(n - shown);
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, shown as u32); shown]).split(area);
    for (i, rect) in areas.iter().enumerate() {
        column(app, board, first + i, f, *rect, t);
    }
}

fn column(app: &App, board: &Board, ci: usize, f: &mut Frame, area: Rect, t: Theme) {
    let col = &board.columns[ci];
    let vis = app.board.visible.get(ci).map_or(&[][..], Vec::as_slice);
    let current = ci == app.board.col;
    let title = format!(" {} {} ", ci + 1, col.name);
    let count = format!(" {} ", vis.len());
    let border = if current { t.title() } else { t.dim() };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Line::from(vec![
            Span::styled(
                fmt::fit(&title, area.width.saturating_sub(8) as usize),
                t.title(),
            ),
            Span::raw(count),
        ]));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let sums = app.board.sums.get(ci).map_or(&[][..], Vec::as_slice);
    if sums.is_empty() {
        lines.push(Line::styled("—", t.dim()));
    }
    for (cur, value, weighted) in sums {
        let text = format!(
            "{} · w {}",
            fmt::money_compact(*value, cur, app.german),
            fmt::money_compact(*weighted, cur, app.german)
        );
        lines.push(Line::styled(fmt::fit(&text, w), t.dim()));
    }
    lines.push(Line::raw(""));
    let head = lines.len() as u16;
    let room = inner.height.saturating_sub(head + 1) / CARD;
    let room = room.max(1) as usize;
    let sel = app.board.rows.get(ci).copied().unwrap_or(0);
    let offset = sel.saturating_sub(room - 1);
    for (pos, &idx) in vis.iter().enumerate().skip(offset).take(room) {
        let selected = current && pos == sel;
        card_lines(app, board, &col.cards[idx], selected, w, t, &mut lines);
    }
    let below = vis.len().saturating_sub(offset + room);
    if below > 0 {
        lines.push(Line::styled(format!(" … {below} more"), t.dim()));
    }
    if vis.is_empty() && !col.cards.is_empty() {
        lines.push(Line::styled(
            format!(" {} hidden by filter", col.cards.len()),
            t.dim(),
        ));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn card_lines<'a>(
    app: &App,
    board: &Board,
    card: &'a Card,
    selected: bool,
    w: usize,
    t: Theme,
    out: &mut Vec<Line<'a>>,
) {
    let base = if selected {
        t.selected()
    } else {
        ratatui::style::Style::default()
    };
    let overdue_close = card.expected_close_date.is_some_and(|d| d < app.today);
    let overdue = overdue_close || card.overdue_activity;
    let mark = if overdue { "! " } else { "" };
    let pointer = if selected { "› " } else { "" };
    let title_w = w.saturating_sub(mark.chars().count() + pointer.chars().count());
    let mut first = vec![];
    if selected {
        first.push(Span::styled(pointer, base));
    }
    if overdue {
        first.push(Span::styled(mark, t.alert()));
    }
    first.push(Span::styled(
        pad(&fmt::fit(&card.title, title_w), title_w),
        base.add_modifier(Modifier::BOLD),
    ));
    out.push(Line::from(first));
    let who = card
        .company
        .as_deref()
        .or(card.contact.as_deref())
        .unwrap_or("—");
    out.push(Line::styled(pad(&fmt::fit(who, w), w), base));
    let owners: Vec<&str> = card
        .owner_ids
        .iter()
        .filter_map(|id| board.users.iter().find(|u| u.id == *id))
        .map(|u| u.initials.as_str())
        .take(2)
        .collect();
    let third = format!(
        "{} · {} · {} d",
        fmt::money(card.value, &card.currency, app.german, false),
        if owners.is_empty() {
            "—".to_string()
        } else {
            owners.join(",")
        },
        card.days_in_stage
    );
    let style = if overdue_close {
        base.patch(t.alert())
    } else {
        base.patch(t.dim())
    };
    let style = if selected { base } else { style };
    out.push(Line::styled(pad(&fmt::fit(&third, w), w), style));
    out.push(Line::raw(""));
}

fn pad(s: &str, w: usize) -> String {
    let s = &*crm_core::domain::text::escape_for_terminal(s, false);
    let n = s.chars().count();
    if n >= w {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}
