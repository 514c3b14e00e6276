//! calamine alone on the **system allocator**: the baseline the roster bench
//! pairs with its in-process (mimalloc) one. Run together with it:
//! `cargo bench --bench roster --bench calamine_sys`; the roster bench finds
//! this executable beside its own and runs it on the generated file.
//! Alone, without a file, it does nothing.

use calamine::Reader;
use std::time::Instant;

fn main() {
    let Some(file) = std::env::args().skip(1).find(|a| a.ends_with(".xlsx")) else {
        println!("calamine_sys: run by the roster bench (no file given)");
        return;
    };
    let bytes = std::fs::read(&file).expect("roster file");
    let t = Instant::now();
    let mut wb =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(&bytes[..])).expect("a workbook");
    let range = wb.worksheet_range("花名册").expect("the roster sheet");
    let cells = range.used_cells().count();
    let secs = t.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    println!(
        "seconds={secs:.4} cells={cells} peak_mb={:.1}",
        peak_kb / 1024.0
    );
}
