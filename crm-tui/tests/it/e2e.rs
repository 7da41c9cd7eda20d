//! The real binary in tmux: placeholder, filled below.
