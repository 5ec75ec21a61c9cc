//! One small component per file, each with plain-data props and callbacks (the contract is in
//! the web lab brief): actions go up as core `Action`s, never as state changes.

pub mod controls;
pub mod events;
pub mod history;
pub mod inspector;
pub mod invariants;
pub mod layout;
pub mod logs;
pub mod node_menu;
pub mod paced;
pub mod scrubber;
pub mod stage;
