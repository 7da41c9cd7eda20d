//! The console against a real database: placeholder, filled below.
