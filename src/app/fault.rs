//! Fault injection for the reliability tests: a panic at a named point in a
//! use case, so a test can prove that a panic inside a write loses nothing
//! that was acknowledged. Disarmed unless the process was started with
//! `GUOBAO_FAULT_INJECTION=<point>[,<point>...]`, and even then it fires only
//! for a record carrying the marker text, so armed servers still serve
//! every other request normally.

use std::sync::OnceLock;

/// The text a record must carry (e.g. as a grower's name) to trigger a point.
pub const MARKER: &str = "故障注入";

static ARMED: OnceLock<Vec<String>> = OnceLock::new();

/// Arm these points for the life of the process (from `Config::fault_points`;
/// only the first call counts).
pub fn arm(points: &[String]) {
    let _ = ARMED.set(points.to_vec());
}

fn armed() -> &'static [String] {
    ARMED.get().map_or(&[], Vec::as_slice)
}

/// Panic here when `name` is armed and `value` is the marker.
pub fn point(name: &str, value: &str) {
    if value == MARKER && armed().iter().any(|p| p == name) {
        // The one intended panic in non-test code: the point of this module.
        #[allow(clippy::panic)]
        {
            panic!("fault injection at {name}");
        }
    }
}
