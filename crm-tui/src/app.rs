//! Plain state, a pure key handler and a read-only view.

use crm_core::Scope;
use crm_core::report::{PipelineSummary, pipeline_summary};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

/// What the loop should do after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    None,
    Refresh,
    Quit,
}

#[derive(Debug)]
pub struct App {
    org: String,
    summary: Option<PipelineSummary>,
    error: Option<String>,
    selected: usize,
}

impl App {
    pub fn new(org: String) -> Self {
        Self {
            org,
            summary: None,
            error: None,
            selected: 0,
        }
    }

    pub async fn load(&mut self, scope: &Scope) {
        match scope.run(async |tx| pipeline_summary(tx, None).await).await {
            Ok(s) => {
                self.selected = self.selected.min(s.stages.len().saturating_sub(1));
                self.summary = Some(s);
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Action {
        let rows = self.summary.as_ref().map_or(0, |s| s.stages.len());
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Action::Quit,
            KeyCode::Char('r') => Action::Refresh,
            KeyCode::Down | KeyCode::Char('j') => {
                if self.selected + 1 < rows {
                    self.selected += 1;
                }
                Action::None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected = self.selected.saturating_sub(1);
                Action::None
            }
            _ => Action::None,
        }
    }

    pub fn draw(&self, f: &mut Frame) {
        let [main, help] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(f.area());
        let title = match &self.summary {
            Some(s) => format!(
                " {} · {} · won {} · lost {} ",
                self.org, s.pipeline, s.won, s.lost
            ),
            None => format!(" {} ", self.org),
        };
        let block = Block::default().borders(Borders::ALL).title(title);
        if let Some(err) = &self.error {
            f.render_widget(Paragraph::new(err.as_str()).block(block), main);
        } else if let Some(s) = &self.summary {
            let rows = s.stages.iter().map(|st| {
                Row::new(vec![
                    st.stage.clone(),
                    format!("{}%", st.probability.normalize()),
                    st.deals.to_string(),
                    format!("{} {}", st.value, st.currency),
                    format!("{} {}", st.weighted, st.currency),
                ])
            });
            let widths = [
                Constraint::Percentage(30),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Percentage(25),
                Constraint::Percentage(25),
            ];
            let table = Table::new(rows, widths)
                .header(
                    Row::new(vec!["Stage", "Prob.", "Deals", "Value", "Weighted"])
                        .style(Style::default().add_modifier(Modifier::BOLD)),
                )
                .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
                .block(block);
            let mut state = TableState::default().with_selected(Some(self.selected));
            f.render_stateful_widget(table, main, &mut state);
        } else {
            f.render_widget(Paragraph::new("loading…").block(block), main);
        }
        f.render_widget(Line::from(" q quit · r refresh · ↑/↓ select "), help);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::KeyEventState;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: ratatui::crossterm::event::KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn keys_map_to_actions() {
        let mut app = App::new("Org".into());
        assert_eq!(app.handle_key(key(KeyCode::Char('q'))), Action::Quit);
        assert_eq!(app.handle_key(key(KeyCode::Char('r'))), Action::Refresh);
        assert_eq!(app.handle_key(key(KeyCode::Down)), Action::None);
        assert_eq!(app.selected, 0, "nothing to select before loading");
    }

    #[test]
    fn renders_loading_and_errors() {
        let mut app = App::new("Beispiel GmbH".into());
        let mut term = Terminal::new(TestBackend::new(60, 6)).unwrap();
        term.draw(|f| app.draw(f)).unwrap();
        let screen = format!("{:?}", term.backend().buffer());
        assert!(screen.contains("Beispiel GmbH"));
        assert!(screen.contains("loading"));
        app.error = Some("database unavailable".into());
        term.draw(|f| app.draw(f)).unwrap();
        assert!(format!("{:?}", term.backend().buffer()).contains("database unavailable"));
    }
}
