//! `crm-tui`: the terminal console of the CRM for sales power users — pipeline board, deals,
//! contacts and companies, search as you type, due activities.
//!
//! Shaped after gitui and atuin (STYLE.md habit 10): [`app::App`] is plain state;
//! [`key::handle_key`] turns a key into state changes and [`command::Command`]s without any
//! I/O; each command runs in a task of its own against crm-core and sends a
//! [`command::Message`] back, which [`update::apply`] folds into the state; [`view::draw`]
//! only reads the state. [`run`] is generic over the ratatui backend, so tests drive the
//! real console over `TestBackend`.
#![warn(missing_docs)]

pub mod app;
pub mod bench;
pub mod command;
mod detail_key;
pub mod dialog;
pub mod dupes;
pub mod fmt;
pub mod form;
pub mod key;
pub mod live;
pub mod palette;
pub mod update;
pub mod view;

use std::time::Duration;

use crm_core::Scope;
use crossterm::event::Event;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::app::App;
use crate::command::Command;

/// Runs the console until the user quits or `input` ends: draws, then waits for a terminal
/// event, a task's message or the spinner tick, whichever comes first. Database work never
/// runs on this loop. `first` are the commands to start with (the board, the lost
/// reasons); `live` starts following the event outbox.
pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    scope: &Scope,
    mut input: UnboundedReceiver<Event>,
    first: Vec<Command>,
    live: bool,
) -> Result<(), B::Error> {
    let (tx, mut rx) = unbounded_channel();
    for c in first {
        command::spawn(scope, c, &tx);
    }
    if live {
        live::spawn(scope.clone(), tx.clone());
    }
    let mut tick = tokio::time::interval(Duration::from_millis(update::TICK_MS));
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|f| view::draw(app, f))?;
            dirty = false;
        }
        if app.quit {
            return Ok(());
        }
        tokio::select! {
            ev = input.recv() => match ev {
                Some(Event::Key(k)) => {
                    for c in key::handle_key(app, k) {
                        command::spawn(scope, c, &tx);
                    }
                    dirty = true;
                }
                Some(Event::Resize(..)) => dirty = true,
                Some(_) => {}
                None => return Ok(()),
            },
            Some(msg) = rx.recv() => {
                for c in update::apply(app, msg) {
                    command::spawn(scope, c, &tx);
                }
                dirty = true;
            }
            _ = tick.tick() => {
                let cmds = update::tick(app);
                dirty = app.loading() || !cmds.is_empty();
                for c in cmds {
                    command::spawn(scope, c, &tx);
                }
            }
        }
    }
}
