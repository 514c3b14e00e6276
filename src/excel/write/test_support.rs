//! Helpers shared by the writer's unit tests: open what we wrote with
//! calamine, read one package part or a cell's style.

use super::Cell;
use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use std::io::{Cursor, Read};

type Book = Xlsx<Cursor<Vec<u8>>>;

pub(super) fn open(bytes: &[u8]) -> Book {
    open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("calamine opens our file")
}

/// One part of the .xlsx package, as text.
pub(super) fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip package");
    let mut file = zip.by_name(name).expect("the part exists");
    let mut s = String::new();
    file.read_to_string(&mut s).expect("utf-8 xml");
    s
}

/// The `<xf>` element a cell uses, from the sheet's `s=` index into cellXfs.
pub(super) fn cell_xf(bytes: &[u8], sheet_part: &str, cell: &str) -> String {
    let sheet = part(bytes, sheet_part);
    let re = regex::Regex::new(&format!(r#"<c r="{cell}" s="(\d+)""#)).unwrap();
    let idx: usize = re.captures(&sheet).expect("cell has a style")[1]
        .parse()
        .unwrap();
    let styles = part(bytes, "xl/styles.xml");
    let start = styles.find("<cellXfs").unwrap();
    let end = styles.find("</cellXfs>").unwrap();
    styles[start..end]
        .split("<xf ")
        .nth(idx + 1)
        .expect("xf index in range")
        .to_string()
}

pub(super) fn value(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

pub(super) fn string(s: &str) -> Data {
    Data::String(s.to_string())
}

/// Row `row` begins, from column A, with these texts.
pub(super) fn assert_row_starts(range: &calamine::Range<Data>, row: u32, texts: &[&str]) {
    let got: Vec<Data> = (0..texts.len() as u32)
        .map(|c| value(range, row, c))
        .collect();
    let want: Vec<Data> = texts.iter().map(|s| string(s)).collect();
    assert_eq!(got, want, "row {row}");
}

pub(super) fn assert_no_formulas(book: &mut Book, sheet: &str) {
    let formulas = book.worksheet_formula(sheet).unwrap();
    assert!(
        formulas.cells().all(|(_, _, f)| f.is_empty()),
        "no formula may be written to {sheet}"
    );
}

pub(super) fn num_format(styles: &calamine::StyleRange, row: u32, col: u32) -> String {
    styles
        .get((row, col))
        .and_then(|s| s.number_format.as_ref())
        .map(|n| n.format_code.clone())
        .unwrap_or_default()
}

pub(super) fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

pub(super) const INJECTIONS: [&str; 5] = ["=1+1", "+SUM(A1)", "-2", "@cmd", "＝HYPERLINK()"];
