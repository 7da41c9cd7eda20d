//! Deal, contact and company screens: fields, related records and the activity timeline.

use chrono::{DateTime, NaiveDate, Utc};
use crm_core::console::{DealDetail, Person};
use crm_core::store::deal::Deal;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};

use super::lists::activity_table;
use super::{Theme, placeholder};
use crate::app::App;
use crate::fmt;

fn field<'a>(label: &'a str, value: String, t: Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<13}"), t.dim()),
        // Stored text may hold control characters: shown as escapes (issue 14, item 9).
        Span::raw(crm_core::domain::text::escape_for_terminal(&value, false).into_owned()),
    ])
}

fn name_of(users: &[Person], id: Option<crm_core::UserId>) -> String {
    id.and_then(|id| users.iter().find(|u| u.id == id))
        .map_or_else(|| "—".to_string(), |u| u.name.clone())
}

fn split(area: Rect) -> (Rect, Rect, Rect) {
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    (left, right, bottom)
}

fn loading(app: &App, f: &mut Frame, area: Rect) {
    f.render_widget(
        Paragraph::new(placeholder(app, "not found")).block(Block::bordered()),
        area,
    );
}

fn days(from: DateTime<Utc>, to: NaiveDate) -> i64 {
    (to - from.date_naive()).num_days().max(0)
}

/// One deal: fields, stage history with days per stage, activities.
pub fn deal(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let Some(d) = &app.detail.deal else {
        return loading(app, f, area);
    };
    let (left, right, bottom) = split(area);
    let lines = deal_fields(app, d, left.width, t);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Deal ")),
        left,
    );
    f.render_widget(stage_history(app, d, t), right);
    activities(app, f, bottom, t, true);
}

/// The deal's fields, one line each.
fn deal_fields(app: &App, d: &DealDetail, width: u16, t: Theme) -> Vec<Line<'static>> {
    let deal = &d.deal;
    let owners: Vec<String> = deal
        .owners
        .iter()
        .map(|o| {
            format!(
                "{} ({})",
                name_of(&d.users, Some(o.user_id)),
                label!(app, o.role)
            )
        })
        .collect();
    let mut lines = vec![
        Line::styled(fmt::fit(&deal.title, width as usize), t.title()),
        field("Status", status(app, deal), t),
        field(
            "Stage",
            format!("{} ({}%)", deal.stage, deal.probability.normalize()),
            t,
        ),
        field(
            "Value",
            fmt::money(deal.value, &deal.currency, app.german, true),
            t,
        ),
        field(
            "Weighted",
            fmt::money(
                deal.value * deal.probability / rust_decimal::Decimal::ONE_HUNDRED,
                &deal.currency,
                app.german,
                true,
            ),
            t,
        ),
        field(
            "Contact",
            deal.contact.clone().unwrap_or_else(|| "—".into()),
            t,
        ),
        field(
            "Company",
            deal.company.clone().unwrap_or_else(|| "—".into()),
            t,
        ),
        field(
            "Owners",
            if owners.is_empty() {
                "—".into()
            } else {
                owners.join(", ")
            },
            t,
        ),
    ];
    let close = deal.expected_close_date.map(|c| fmt::date(c, app.german));
    let overdue =
        deal.expected_close_date.is_some_and(|c| c < app.today) && !deal.status.is_closed();
    lines.push(Line::from(vec![
        Span::styled(format!("{:<13}", "Close by"), t.dim()),
        Span::styled(
            close.unwrap_or_else(|| "—".into()),
            if overdue {
                t.alert()
            } else {
                Default::default()
            },
        ),
        Span::styled(if overdue { " ! overdue" } else { "" }, t.alert()),
    ]));
    if let Some(r) = &deal.lost_reason {
        let label = app
            .lost_reasons
            .iter()
            .find(|e| &e.key == r)
            .map_or(r.as_str(), |e| app.reason_label(e));
        let text = deal
            .lost_reason_text
            .as_deref()
            .map(|t| format!(" — {t}"))
            .unwrap_or_default();
        lines.push(field("Lost because", format!("{label}{text}"), t));
    }
    lines
}

/// The stage history with the days spent in each stage.
fn stage_history(app: &App, d: &DealDetail, t: Theme) -> Table<'static> {
    let deal = &d.deal;
    let rows = d.history.iter().enumerate().map(|(i, h)| {
        let until = d
            .history
            .get(i + 1)
            .map_or(app.today, |n| n.moved_at.date_naive());
        let stayed = if i + 1 == d.history.len() && deal.status.is_closed() {
            deal.closed_at
                .map_or(0, |c| days(h.moved_at, c.date_naive()))
        } else {
            days(h.moved_at, until)
        };
        Row::new(vec![
            fmt::date(h.moved_at.date_naive(), app.german),
            h.to_stage.clone().unwrap_or_else(|| "(removed)".into()),
            format!("{stayed} d"),
            name_of(&d.users, h.actor_id),
        ])
    });
    Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Fill(2),
            Constraint::Length(6),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(vec!["moved", "stage", "days", "by"]).style(t.title()))
    .block(Block::bordered().title(" Stage history "))
}

fn status(app: &App, d: &Deal) -> String {
    let label = label!(app, d.status);
    match d.closed_at {
        Some(c) => format!("{label} · {}", fmt::date(c.date_naive(), app.german)),
        None => label.to_string(),
    }
}

fn activities(app: &App, f: &mut Frame, area: Rect, t: Theme, focused: bool) {
    let items = app.detail_activities();
    let block = Block::bordered()
        .title(format!(" Activities ({}) ", items.len()))
        .border_style(if focused { t.title() } else { t.dim() });
    if items.is_empty() {
        f.render_widget(Paragraph::new("none yet — a adds one").block(block), area);
        return;
    }
    let table = activity_table(app, items, t, false).block(block);
    let sel = focused.then_some(app.detail.activity);
    let mut state = TableState::default().with_selected(sel);
    f.render_stateful_widget(table, area, &mut state);
}

fn deal_rows(app: &App, deals: &[Deal], t: Theme, area: Rect, f: &mut Frame) {
    let rows = deals.iter().map(|d| {
        Row::new(vec![
            d.title.clone(),
            d.stage.clone(),
            label!(app, d.status).to_string(),
            fmt::money(d.value, &d.currency, app.german, false),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(2),
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(12),
        ],
    )
    .header(Row::new(vec!["deal", "stage", "status", "value"]).style(t.title()))
    .row_highlight_style(t.selected())
    .block(
        Block::bordered()
            .title(format!(" Deals ({}) ", deals.len()))
            .border_style(if app.detail.in_deals {
                t.title()
            } else {
                t.dim()
            }),
    );
    let mut state =
        TableState::default().with_selected(app.detail.in_deals.then_some(app.detail.deal_row));
    f.render_stateful_widget(table, area, &mut state);
}

/// One contact: e-mails, phones, company, deals, timeline.
pub fn contact(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let Some(d) = &app.detail.contact else {
        return loading(app, f, area);
    };
    let (left, right, bottom) = split(area);
    let c = &d.contact;
    let name = format!("{} {}", c.first_name, c.last_name);
    let mut lines = vec![
        Line::styled(fmt::fit(name.trim(), left.width as usize), t.title()),
        field("Job", c.job_title.clone().unwrap_or_else(|| "—".into()), t),
        field(
            "Company",
            c.company.clone().unwrap_or_else(|| "—".into()),
            t,
        ),
        field("Status", label!(app, c.status).to_string(), t),
    ];
    for e in &c.emails {
        lines.push(field(
            "E-mail",
            format!("{} ({})", e.email, label!(app, e.kind)),
            t,
        ));
    }
    for p in &c.phones {
        lines.push(field(
            "Phone",
            format!("{} ({})", p.number, label!(app, p.kind)),
            t,
        ));
    }
    if !c.tags.is_empty() {
        lines.push(field("Tags", c.tags.join(", "), t));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Contact ")),
        left,
    );
    deal_rows(app, &d.deals, t, right, f);
    activities(app, f, bottom, t, !app.detail.in_deals);
}

/// One company: addresses, e-mails, phones, deals, timeline.
pub fn company(app: &App, f: &mut Frame, area: Rect, t: Theme) {
    let Some(d) = &app.detail.company else {
        return loading(app, f, area);
    };
    let (left, right, bottom) = split(area);
    let c = &d.company;
    let city = [c.billing_postal_code.as_deref(), c.billing_city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut lines = vec![
        Line::styled(fmt::fit(&c.name, left.width as usize), t.title()),
        field(
            "Industry",
            c.industry.clone().unwrap_or_else(|| "—".into()),
            t,
        ),
        field("City", if city.is_empty() { "—".into() } else { city }, t),
        field(
            "Website",
            c.website.clone().unwrap_or_else(|| "—".into()),
            t,
        ),
        field("VAT id", c.vat_id.clone().unwrap_or_else(|| "—".into()), t),
    ];
    for e in &c.emails {
        lines.push(field("E-mail", e.email.clone(), t));
    }
    for p in &c.phones {
        lines.push(field("Phone", p.number.clone(), t));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Company ")),
        left,
    );
    deal_rows(app, &d.deals, t, right, f);
    activities(app, f, bottom, t, !app.detail.in_deals);
}
