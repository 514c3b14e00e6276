//! Roster import and household-list benchmark (run: `cargo bench --bench roster`).
//!
//! Generates a 100,000-row roster and measures, in one run: calamine alone
//! parsing it; our reader; the full import (parse + validate + eligibility +
//! commit) on SQLite and, when GUOBAO_BENCH_PG_URL is set, on PostgreSQL;
//! writing a 100,000-row household list against rust_xlsxwriter writing the
//! same cells bare; and the process's peak memory.

use calamine::Reader;
use diesel::prelude::*;
use guobao::app::{self, Actor};
use guobao::db::models::NewArea;
use guobao::db::schema::areas;
use guobao::domain::scheme::{SchemeDef, WALNUT_2012_JSON};
use guobao::domain::{Fen, Mu};
use guobao::excel::write::{Cell, Column, Table};
use std::time::Instant;

/// Rows in the generated roster: 100,000 (`GUOBAO_BENCH_ROWS` changes it,
/// for profiling a smaller run under callgrind).
fn rows() -> usize {
    std::env::var("GUOBAO_BENCH_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}
const VILLAGES: usize = 12;

/// The allocator the `guobao` binary imports with (`src/main.rs`): the server
/// and the CLI run the import on mimalloc, so the bench does too, and so
/// does calamine alone, its paired baseline in the same process.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A valid ID number, unique for n < 120,000 (checked while generating).
fn id_number(n: usize) -> String {
    let s = format!(
        "532999{:04}{:02}{:02}{:03}",
        1950 + (n / 1000) % 40,
        1 + (n / 28) % 12,
        1 + n % 28,
        n % 1000
    );
    let check = guobao::domain::id_number::check_char(&s).unwrap();
    format!("{s}{check}")
}

/// Is row `i` changed in the second upload? Four rows in five.
fn changes(i: usize) -> bool {
    !i.is_multiple_of(5)
}

/// The roster; `changed`: the same growers and plots with a new phone
/// number, tree count and area on four rows in five.
fn roster_bytes(changed: bool) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("花名册").unwrap();
    let headers = guobao::excel::write::ROSTER_HEADERS;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    for i in 0..rows() {
        let r = (i + 1) as u32;
        let id = id_number(i);
        assert!(seen.insert(id.clone()), "duplicate id {id} at {i}");
        ws.write_string(r, 0, format!("农户{i}")).unwrap();
        ws.write_string(r, 1, &id).unwrap();
        let edit = changed && changes(i);
        let phone = if edit { 139 } else { 138 };
        ws.write_string(r, 2, format!("{phone}{:08}", i)).unwrap();
        ws.write_string(r, 3, "信用社").unwrap();
        ws.write_string(r, 4, format!("6228{:015}", i)).unwrap();
        ws.write_string(r, 5, format!("村{:02}", i % VILLAGES))
            .unwrap();
        ws.write_string(r, 6, format!("P{:07}", i)).unwrap();
        ws.write_string(r, 7, if i % 2 == 0 { "早实" } else { "晚实" })
            .unwrap();
        ws.write_number(r, 8, (3 + i % 20) as f64).unwrap();
        ws.write_number(r, 9, (20 + i % 40 + usize::from(edit)) as f64)
            .unwrap();
        ws.write_number(r, 10, (200 + i % 300) as f64).unwrap();
        let area = 0.5 + (i % 97) as f64 * 0.13 + if edit { 0.25 } else { 0.0 };
        ws.write_number(r, 11, area).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

fn seed(url: &str) -> guobao::db::Pool {
    let pool = guobao::startup::prepare_database(url).unwrap();
    let mut c = guobao::db::establish(url).unwrap();
    let def: SchemeDef = serde_json::from_str(WALNUT_2012_JSON).unwrap();
    app::schemes::create(&mut c, &Actor::system(), &def).unwrap();
    let county: i64 = diesel::insert_into(areas::table)
        .values(NewArea {
            code: "532999",
            name: "基准县",
            level: guobao::domain::area::AreaLevel::County,
            parent_id: None,
            target_mu_units: None,
        })
        .returning(areas::id)
        .get_result(&mut c)
        .unwrap();
    let town: i64 = diesel::insert_into(areas::table)
        .values(NewArea {
            code: "532999101",
            name: "基准镇",
            level: guobao::domain::area::AreaLevel::Township,
            parent_id: Some(county),
            target_mu_units: Some(0),
        })
        .returning(areas::id)
        .get_result(&mut c)
        .unwrap();
    for v in 0..VILLAGES {
        diesel::insert_into(areas::table)
            .values(NewArea {
                code: &format!("532999101{:03}", 200 + v),
                name: &format!("村{v:02}"),
                level: guobao::domain::area::AreaLevel::Village,
                parent_id: Some(town),
                target_mu_units: None,
            })
            .execute(&mut c)
            .unwrap();
    }
    pool
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn print_phases(phases: &[(&'static str, std::time::Duration)]) {
    for (name, d) in phases {
        println!("    {name:<28} {:>7.2} s", d.as_secs_f64());
    }
}

/// CPU time this process has used (user + system), from /proc/self/stat: set
/// against wall time it tells our own work from waiting on the database
/// server (and, on a shared machine, from waiting for a core).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, in clock ticks (100/s).
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// Reset the peak-RSS mark (Linux: writing 5 to clear_refs), so each stage's
/// peak can be read on its own.
fn reset_peak() {
    let mb = peak_rss_mb() as u64;
    PROCESS_PEAK_MB.fetch_max(mb, std::sync::atomic::Ordering::Relaxed);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The highest peak seen before any reset: the whole process's peak.
static PROCESS_PEAK_MB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// calamine's own time on the roster, in this process (mimalloc) and, when
/// the `calamine_sys` bench was built with this one, in a fresh process on
/// the system allocator.
struct Bare {
    time: std::time::Duration,
    system: Option<f64>,
}

impl Bare {
    /// "5.54× calamine alone; 2.36× on the system allocator"
    fn ratios(&self, d: std::time::Duration) -> String {
        let s = d.as_secs_f64();
        match self.system {
            Some(sys) => format!(
                "{:.2}× calamine alone; {:.2}× calamine on the system allocator",
                s / self.time.as_secs_f64(),
                s / sys
            ),
            None => format!("{:.2}× calamine alone", s / self.time.as_secs_f64()),
        }
    }
}

/// The `calamine_sys` bench executable beside this one (the newest), when
/// `cargo bench --bench roster --bench calamine_sys` built it.
fn calamine_sys_exe() -> Option<std::path::PathBuf> {
    let me = std::env::current_exe().ok()?;
    let dir = me.parent()?;
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("calamine_sys-") && !name.contains('.')
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

/// calamine alone on the system allocator, best of three fresh processes.
fn system_calamine(file: &str) -> Option<(f64, f64)> {
    let exe = calamine_sys_exe()?;
    let mut best: Option<(f64, f64)> = None;
    for _ in 0..3 {
        let out = std::process::Command::new(&exe).arg(file).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let field = |k: &str| -> Option<f64> {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .and_then(|v| v.parse().ok())
        };
        let (secs, peak) = (field("seconds=")?, field("peak_mb=")?);
        if best.is_none_or(|(b, _)| secs < b) {
            best = Some((secs, peak));
        }
    }
    best
}

fn import(label: &str, url: &str, bytes: &[u8], edited: &[u8], bare: &Bare) {
    let pool = seed(url);
    let mut c = pool.get().unwrap();
    let request = |bytes| app::import::ImportRequest {
        database_url: url,
        township_code: "532999101",
        scheme: "walnut-2012",
        filename: "bench.xlsx",
        bytes,
        options: Default::default(),
    };
    reset_peak();
    let t = Instant::now();
    let cpu = cpu_seconds();
    let rep = app::import::commit(&mut c, &Actor::system(), &request(bytes)).unwrap();
    let took = t.elapsed();
    let cpu = cpu_seconds() - cpu;
    let peak = peak_rss_mb();
    print_phases(&rep.phases);
    assert_eq!(
        rep.counts.rejected,
        0,
        "{:?}",
        rep.rows.iter().find(|r| !r.problems.is_empty())
    );
    assert_eq!(rep.counts.new, rows());
    println!(
        "full import ({label}): {:>8.2} s  ({} new, {} ineligible; {}; stage peak {peak:.0} MB in this process; {cpu:.2} s CPU in this process)",
        took.as_secs_f64(),
        rep.counts.new,
        rep.counts.ineligible,
        bare.ratios(took),
    );
    drop(rep);
    reset_peak();
    let t = Instant::now();
    let rep = app::import::commit(&mut c, &Actor::system(), &request(bytes)).unwrap();
    let took = t.elapsed();
    print_phases(&rep.phases);
    assert_eq!(rep.counts.unchanged, rows());
    println!(
        "re-import, unchanged ({label}): {:>8.2} s  ({} unchanged; {}; peak {:.0} MB)",
        took.as_secs_f64(),
        rep.counts.unchanged,
        bare.ratios(took),
        peak_rss_mb()
    );
    drop(rep);
    reset_peak();
    let audit_before = count(&mut c, "audit_log");
    let t = Instant::now();
    let rep = app::import::commit(&mut c, &Actor::system(), &request(edited)).unwrap();
    let took = t.elapsed();
    print_phases(&rep.phases);
    let changed = (0..rows()).filter(|i| changes(*i)).count();
    assert_eq!(rep.counts.changed, changed);
    println!(
        "re-upload, {} of {} rows changed ({label}): {:>8.2} s  ({} changed growers; {} audit rows; {}; peak {:.0} MB)",
        rep.counts.changed,
        rows(),
        took.as_secs_f64(),
        rep.counts.changed_growers,
        count(&mut c, "audit_log") - audit_before,
        bare.ratios(took),
        peak_rss_mb()
    );
}

fn count(c: &mut guobao::db::DbConn, table: &str) -> i64 {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<N>(c)
        .unwrap()
        .n
}

/// Peak memory of a fresh process doing one thing (`--peak-of calamine
/// FILE` or `--peak-of import FILE URL`): a whole process's high-water mark,
/// not blurred by what this one has allocated and freed before.
fn child_peak(args: &[String]) {
    let bytes = std::fs::read(&args[1]).unwrap();
    match args[0].as_str() {
        "calamine" => {
            let mut wb =
                calamine::open_workbook_auto_from_rs(std::io::Cursor::new(&bytes[..])).unwrap();
            let range = wb.worksheet_range("花名册").unwrap();
            assert!(range.used_cells().count() > rows());
        }
        _ => {
            let pool = seed(&args[2]);
            let mut c = pool.get().unwrap();
            let req = app::import::ImportRequest {
                database_url: &args[2],
                township_code: "532999101",
                scheme: "walnut-2012",
                filename: "bench.xlsx",
                bytes: &bytes,
                options: Default::default(),
            };
            let rep = app::import::commit(&mut c, &Actor::system(), &req).unwrap();
            assert_eq!(rep.counts.new, rows());
        }
    }
    println!("peak_mb {:.1}", peak_rss_mb());
}

fn peak_of(args: &[&str]) -> f64 {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--peak-of")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("peak_mb "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{text} {}", String::from_utf8_lossy(&out.stderr)))
}

/// For profiling one stage on its own (e.g. under callgrind, whose
/// instruction counts repeat from run to run where wall time does not):
/// `--prepare DIR` writes the roster, its edited copy, a seeded empty
/// SQLite database and one holding the full import; `--stage full|unchanged|
/// edited DIR` then runs only that import, on a copy of the right database.
fn prepare(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let bytes = roster_bytes(false);
    std::fs::write(dir.join("roster.xlsx"), &bytes).unwrap();
    std::fs::write(dir.join("edited.xlsx"), roster_bytes(true)).unwrap();
    for name in ["empty.db", "full.db"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    let pool = seed(&format!("sqlite://{}", dir.join("empty.db").display()));
    drop(pool);
    std::fs::copy(dir.join("empty.db"), dir.join("full.db")).unwrap();
    let url = format!("sqlite://{}", dir.join("full.db").display());
    let pool = guobao::startup::prepare_database(&url).unwrap();
    let mut c = pool.get().unwrap();
    let rep = app::import::commit(&mut c, &Actor::system(), &request(&url, &bytes)).unwrap();
    assert_eq!(rep.counts.new, rows());
    println!("prepared {} rows in {}", rows(), dir.display());
}

fn request<'a>(url: &'a str, bytes: &'a [u8]) -> app::import::ImportRequest<'a> {
    app::import::ImportRequest {
        database_url: url,
        township_code: "532999101",
        scheme: "walnut-2012",
        filename: "bench.xlsx",
        bytes,
        options: Default::default(),
    }
}

fn stage(which: &str, dir: &std::path::Path) {
    let (db, file) = match which {
        "full" => ("empty.db", "roster.xlsx"),
        "unchanged" => ("full.db", "roster.xlsx"),
        "edited" => ("full.db", "edited.xlsx"),
        other => panic!("unknown stage {other}"),
    };
    let work = dir.join("work.db");
    let _ = std::fs::remove_file(&work);
    std::fs::copy(dir.join(db), &work).unwrap();
    let bytes = std::fs::read(dir.join(file)).unwrap();
    let url = format!("sqlite://{}", work.display());
    let pool = guobao::startup::prepare_database(&url).unwrap();
    let mut c = pool.get().unwrap();
    let t = Instant::now();
    let rep = app::import::commit(&mut c, &Actor::system(), &request(&url, &bytes)).unwrap();
    let took = t.elapsed();
    print_phases(&rep.phases);
    println!(
        "{which}: {:.2} s ({} new, {} changed, {} unchanged, {} rejected)",
        took.as_secs_f64(),
        rep.counts.new,
        rep.counts.changed,
        rep.counts.unchanged,
        rep.counts.rejected
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--peak-of") {
        return child_peak(&args[i + 1..]);
    }
    if let Some(i) = args.iter().position(|a| a == "--prepare") {
        return prepare(std::path::Path::new(&args[i + 1]));
    }
    if let Some(i) = args.iter().position(|a| a == "--stage") {
        return stage(&args[i + 1], std::path::Path::new(&args[i + 2]));
    }
    let t = Instant::now();
    let bytes = roster_bytes(false);
    let edited = roster_bytes(true);
    println!(
        "generated {}-row roster: {:.1} MB in {:.2} s (and its edited copy)",
        rows(),
        bytes.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(&bytes[..])).unwrap();
    let range = wb.worksheet_range("花名册").unwrap();
    let cells = range.used_cells().count();
    let mut bare = Bare {
        time: t.elapsed(),
        system: None,
    };
    println!(
        "calamine alone:       {:>8.2} s  ({cells} cells)",
        bare.time.as_secs_f64(),
    );

    drop(range);
    drop(wb);
    let t = Instant::now();
    reset_peak();
    let roster = guobao::excel::read::read_roster(&bytes, &Default::default()).unwrap();
    println!(
        "guobao reader:        {:>8.2} s  ({} rows, {:.2}× calamine; peak {:.0} MB)",
        t.elapsed().as_secs_f64(),
        roster.rows.len(),
        t.elapsed().as_secs_f64() / bare.time.as_secs_f64(),
        peak_rss_mb()
    );
    drop(roster);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let file = file.display().to_string();
    match system_calamine(&file) {
        Some((secs, peak)) => {
            bare.system = Some(secs);
            println!(
                "calamine alone, system allocator, fresh process (best of 3): {secs:>6.2} s  (peak {peak:.0} MB)"
            );
        }
        None => println!(
            "(no system-allocator baseline: run `cargo bench --bench roster --bench calamine_sys`)"
        ),
    }
    let calamine_peak = peak_of(&["calamine", &file]);
    let sqlite_peak = peak_of(&[
        "import",
        &file,
        &format!("sqlite://{}", dir.path().join("peak.db").display()),
    ]);
    println!(
        "peak memory, whole process (VmHWM): calamine alone {calamine_peak:.0} MB; full import, SQLite {sqlite_peak:.0} MB ({:.2}× calamine's)",
        sqlite_peak / calamine_peak
    );
    import(
        "SQLite",
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
        &bytes,
        &edited,
        &bare,
    );
    if let Ok(base) = std::env::var("GUOBAO_BENCH_PG_URL") {
        let name = format!("guobao_bench_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        import(
            "PostgreSQL",
            &format!("{base}/{name}"),
            &bytes,
            &edited,
            &bare,
        );
        let peak_db = format!("{name}_peak");
        diesel::sql_query(format!("CREATE DATABASE {peak_db}"))
            .execute(&mut admin)
            .unwrap();
        let pg_peak = peak_of(&["import", &file, &format!("{base}/{peak_db}")]);
        println!(
            "peak memory, whole process (VmHWM): full import, PostgreSQL {pg_peak:.0} MB ({:.2}× calamine's)",
            pg_peak / calamine_peak
        );
        diesel::sql_query(format!("DROP DATABASE {peak_db} WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
        diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
    }

    reset_peak();
    // Household list: our writer against rust_xlsxwriter writing the same cells bare.
    let rows: Vec<Vec<Cell>> = (0..rows())
        .map(|i| {
            let mu = Mu::from_units(5_000 + (i as i64 % 97) * 1_300);
            vec![
                Cell::Int(i as i64 + 1),
                Cell::Text("基准镇".into()),
                Cell::Text(format!("村{:02}", i % VILLAGES)),
                Cell::Text(format!("农户{i}")),
                Cell::Text(id_number(i)),
                Cell::Text(format!("2012532999101{i:05}")),
                Cell::Text("已签发".into()),
                Cell::Mu(mu),
                Cell::Money(Fen(mu.units() * 10)),
                Cell::Money(Fen(mu.units() * 8 / 10)),
                Cell::Money(Fen(mu.units() * 16 / 100)),
                Cell::Money(Fen(mu.units() * 64 / 100)),
            ]
        })
        .collect();
    let t = Instant::now();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, c, s).unwrap();
                }
                Cell::Int(n) => {
                    ws.write_number(r, c, *n as f64).unwrap();
                }
                Cell::Money(f) => {
                    ws.write_number(r, c, f.0 as f64 / 100.0).unwrap();
                }
                Cell::Mu(m) => {
                    ws.write_number(r, c, m.units() as f64 / 10_000.0).unwrap();
                }
                Cell::Empty => {}
            }
        }
    }
    let bare_bytes = wb.save_to_buffer().unwrap();
    let bare_write = t.elapsed();
    println!(
        "rust_xlsxwriter bare: {:>8.2} s  ({:.1} MB)",
        bare_write.as_secs_f64(),
        bare_bytes.len() as f64 / 1e6
    );
    // The bare workbook keeps every cell in memory until dropped.
    drop(wb);
    drop(bare_bytes);
    let columns = (0..12)
        .map(|i| Column {
            header: format!("列{i}"),
            width: 12.0,
        })
        .collect();
    let t = Instant::now();
    let out = guobao::excel::write::tables_to_xlsx(&[Table {
        sheet_name: "分户清单".into(),
        title: Some("分户清单".into()),
        subtitle: None,
        columns,
        rows,
        totals: None,
    }])
    .unwrap();
    let ours = t.elapsed();
    println!(
        "household list:       {:>8.2} s  ({:.1} MB, {:.2}× bare)",
        ours.as_secs_f64(),
        out.len() as f64 / 1e6,
        ours.as_secs_f64() / bare_write.as_secs_f64()
    );
    println!("household lists peak (VmHWM):    {:>5.0} MB", peak_rss_mb());
    reset_peak();
    println!(
        "peak memory, whole process:      {:>5} MB",
        PROCESS_PEAK_MB.load(std::sync::atomic::Ordering::Relaxed)
    );
}
