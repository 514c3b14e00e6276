//! Roster reading (filled in by the roster reader work).
