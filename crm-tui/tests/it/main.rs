//! crm-tui's integration tests: screens as snapshots, the console against a real database,
//! and the real binary driven in tmux.

mod console;
mod e2e;
mod screens;
