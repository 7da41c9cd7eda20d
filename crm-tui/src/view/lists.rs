//! Search results and the due list.

use crm_core::store::activity::Activity;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};

use super::{Theme, placeholder};
use crate::app::App;
use crate::fmt;

/// Search as you type: the query line and the ranked hits.
pub fn search(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let [input, list] = Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(area);
    let cursor = if app.search.editing { "▏" } else { "" };
    let title = if app.search.editing {
        " Search contacts and companies (Müller = Mueller, typos welcome) "
    } else {
        " Search (/ to type) "
    };
    f.render_widget(
        Paragraph::new(format!("{}{cursor}", app.search.query)).block(
            Block::bordered()
                .title(title)
                .border_style(if app.search.editing {
                    t.title()
                } else {
                    t.dim()
                }),
        ),
        input,
    );
    let hits = &app.search.hits.items;
    if hits.is_empty() {
        let text = if app.search.query.trim().is_empty() {
            "type a name, e-mail address, phone number or company"
        } else {
            "no matches"
        };
        f.render_widget(
            Paragraph::new(placeholder(app, text)).block(Block::bordered()),
            list,
        );
        return;
    }
    let rows = hits.iter().map(|h| {
        Row::new(vec![
            Cell::from(match h.kind.as_str() {
                "company" => "company",
                "deal" => "deal",
                _ => "contact",
            }),
            Cell::from(h.name.as_str()),
            Cell::from(h.email.as_deref().unwrap_or("")),
            Cell::from(format!("{:>3.0}%", h.score * 100.0)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Percentage(45),
            Constraint::Percentage(40),
            Constraint::Length(5),
        ],
    )
    .header(Row::new(vec!["kind", "name", "e-mail", "match"]).style(t.title()))
    .row_highlight_style(t.selected())
    .block(Block::bordered().title(format!(" {} hits ", hits.len())));
    let mut state = TableState::default().with_selected(Some(app.search.hits.selected));
    f.render_stateful_widget(table, list, &mut state);
}

/// What an activity is about: deal, contact or company name.
pub fn about(a: &Activity) -> String {
    [
        a.deal.as_deref(),
        a.contact.as_deref(),
        a.company.as_deref(),
    ]
    .into_iter()
    .flatten()
    .next()
    .map(|s| crm_core::domain::text::escape_for_terminal(s, false).into_owned())
    .unwrap_or_else(|| "—".to_string())
}

/// A table of activities (the due list, a detail's timeline).
pub fn activity_table<'a>(
    app: &App,
    items: &'a [Activity],
    t: Theme,
    with_about: bool,
) -> Table<'a> {
    let rows = items.iter().map(|a| {
        let due = a
            .due_at
            .map(|d| fmt::when(d, app.german, app.zone))
            .unwrap_or_default();
        let state = if a.done_at.is_some() {
            Span::styled("✓", t.ok())
        } else if a.overdue {
            Span::styled("!", t.alert())
        } else {
            Span::raw("·")
        };
        let mut cells = vec![
            Cell::from(state),
            Cell::from(Span::styled(
                due,
                if a.overdue && a.done_at.is_none() {
                    t.alert()
                } else {
                    Default::default()
                },
            )),
            Cell::from(label!(app, a.kind)),
            Cell::from(crm_core::domain::text::escape_for_terminal(
                &a.subject, false,
            )),
        ];
        if with_about {
            cells.push(Cell::from(about(a)));
        }
        Row::new(cells)
    });
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Fill(2),
    ];
    let mut header = vec!["", "due", "kind", "subject"];
    if with_about {
        widths.push(Constraint::Fill(1));
        header.push("about");
    }
    Table::new(rows, widths)
        .header(Row::new(header).style(t.title()))
        .row_highlight_style(t.selected())
}

/// My due and overdue activities.
pub fn due(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let items = &app.due.items;
    let overdue = items.iter().filter(|a| a.overdue).count();
    let block = Block::bordered().title(Line::from(vec![
        Span::styled(" My due activities ", t.title()),
        Span::raw(format!("{} · ", items.len())),
        Span::styled(
            format!("{overdue} overdue "),
            if overdue > 0 { t.alert() } else { t.dim() },
        ),
    ]));
    if items.is_empty() {
        f.render_widget(
            Paragraph::new(placeholder(app, "nothing due today — well done")).block(block),
            area,
        );
        return;
    }
    let table = activity_table(app, items, t, true).block(block);
    let mut state = TableState::default().with_selected(Some(app.due.selected));
    f.render_stateful_widget(table, area, &mut state);
}
