//! The reader end to end on real files made by LibreOffice, openpyxl,
//! msoffcrypto-tool and Python's zipfile (see fixtures/rosters/README.md).

use super::*;

const STANDARD_XLSX: &[u8] = include_bytes!("../../../fixtures/rosters/standard.xlsx");
const STANDARD_XLS: &[u8] = include_bytes!("../../../fixtures/rosters/standard.xls");
const STANDARD_ODS: &[u8] = include_bytes!("../../../fixtures/rosters/standard.ods");
const MESSY: &[u8] = include_bytes!("../../../fixtures/rosters/messy.xlsx");
const NOT_A_SPREADSHEET: &[u8] = include_bytes!("../../../fixtures/rosters/not-a-spreadsheet.xlsx");
const TRUNCATED: &[u8] = include_bytes!("../../../fixtures/rosters/truncated.xlsx");
const ENCRYPTED: &[u8] = include_bytes!("../../../fixtures/rosters/encrypted.xlsx");
const NO_HEADER: &[u8] = include_bytes!("../../../fixtures/rosters/no-header.xlsx");
const ZIPBOMB: &[u8] = include_bytes!("../../../fixtures/rosters/zipbomb.xlsx");

fn read(bytes: &[u8]) -> Result<Roster, ReadError> {
    read_roster(bytes, &ReadOptions::default())
}

fn cells(pairs: &[(Field, &str)]) -> BTreeMap<Field, String> {
    pairs.iter().map(|(f, v)| (*f, v.to_string())).collect()
}

fn check_standard(r: &Roster) {
    use Field::*;
    assert_eq!(r.sheet, "花名册");
    assert_eq!(r.sheets, ["花名册"]);
    assert_eq!(r.header_row, 1);
    // The standard roster's header is the one the template writes.
    assert_eq!(r.headers, crate::excel::write::ROSTER_HEADERS);
    let letters: Vec<&str> = r.columns.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(
        letters,
        ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"]
    );
    assert_eq!(r.columns[11].0, AreaMu);
    assert_eq!(r.rows.len(), 10);
    assert!(r.skipped_rows.is_empty());
    let numbers: Vec<usize> = r.rows.iter().map(|r| r.row).collect();
    assert_eq!(numbers, (2..=11).collect::<Vec<_>>());
    assert!(r.rows.iter().all(|r| r.problems.is_empty()));
    assert!(r.rows.iter().all(|r| r.cells.len() == 12));
    assert_eq!(
        r.rows[0].cells,
        cells(&[
            (GrowerName, "李建国"),
            (IdNumber, "532999196803120115"),
            (Phone, "13988710001"),
            (BankName, "云南省农村信用社"),
            (BankAccount, "6228480701000000011"),
            (Village, "一村"),
            (PlotCode, "532999101201-0001"),
            (Variety, "早实"),
            (TreeAge, "8"),
            (TreeCount, "45"),
            (FruitPerTree, "320"),
            (AreaMu, "3.37"),
        ])
    );
    assert_eq!(
        r.rows[0].original,
        [
            "李建国",
            "532999196803120115",
            "13988710001",
            "云南省农村信用社",
            "6228480701000000011",
            "一村",
            "532999101201-0001",
            "早实",
            "8",
            "45",
            "320",
            "3.37"
        ]
    );
    // The two ineligible plots: 早实 aged 4, 晚实 with 200 fruit.
    assert_eq!(r.rows[2].cells[&GrowerName], "赵志强");
    assert_eq!(r.rows[2].cells[&TreeAge], "4");
    assert_eq!(r.rows[5].cells[&GrowerName], "杞红芬");
    assert_eq!(r.rows[5].cells[&Variety], "晚实");
    assert_eq!(r.rows[5].cells[&FruitPerTree], "200");
    assert_eq!(r.rows[3].cells[&IdNumber], "53299919660818042X");
    assert_eq!(r.rows[9].cells[&PlotCode], "532999101202-0005");
    let areas: Vec<&str> = r.rows.iter().map(|r| r.cells[&AreaMu].as_str()).collect();
    assert_eq!(
        areas,
        ["3.37", "2.5", "4", "1.8", "5.25", "3", "2.75", "1.6", "1.25", "6"]
    );
}

#[test]
fn standard_xlsx_xls_and_ods_read_the_same() {
    let xlsx = read(STANDARD_XLSX).unwrap();
    let xls = read(STANDARD_XLS).unwrap();
    let ods = read(STANDARD_ODS).unwrap();
    for r in [&xlsx, &xls, &ods] {
        check_standard(r);
    }
    for (a, (b, c)) in xlsx.rows.iter().zip(xls.rows.iter().zip(&ods.rows)) {
        assert_eq!(a.cells, b.cells);
        assert_eq!(a.cells, c.cells);
        assert_eq!(a.original, b.original);
        assert_eq!(a.original, c.original);
    }
}

#[test]
fn messy_roster() {
    use Field::*;
    let r = read(MESSY).unwrap();
    assert_eq!(r.sheet, "花名册");
    assert_eq!(r.sheets, ["说明", "花名册"]);
    assert_eq!(r.header_row, 3);
    assert_eq!(r.headers.len(), 15);
    assert_eq!(r.headers[0], "序号");
    assert_eq!(r.headers[12], "投保面积（亩）");
    let cols: Vec<(Field, &str)> = r.columns.iter().map(|(f, l)| (*f, l.as_str())).collect();
    assert_eq!(
        cols,
        [
            (GrowerName, "B"),
            (Village, "C"),
            (IdNumber, "D"),
            (Phone, "E"),
            (BankName, "F"),
            (BankAccount, "G"),
            (PlotCode, "H"),
            (Variety, "I"),
            (TreeAge, "J"),
            (TreeCount, "K"),
            (FruitPerTree, "L"),
            (AreaMu, "M"),
            (CollectedOn, "N"),
            (Remarks, "O"),
        ]
    );
    let numbers: Vec<usize> = r.rows.iter().map(|r| r.row).collect();
    assert_eq!(numbers, [4, 5, 6, 8, 9, 12, 13]);
    assert_eq!(
        r.skipped_rows,
        [(7, "blank"), (10, "blank"), (11, "blank"), (14, "totals")]
    );

    let row = |n: usize| r.rows.iter().find(|r| r.row == n).unwrap();
    let get = |n: usize, f: Field| row(n).cells.get(&f).map(String::as_str);

    // A roster row a line: its number, then each column with the value kept
    // (None: empty or refused).
    type Columns = &'static [(Field, Option<&'static str>)];
    #[rustfmt::skip]
    let kept: [(usize, Columns); 7] = [
        (4, &[(GrowerName, Some("李春华")), (IdNumber, Some("532999197001010154")), (AreaMu, Some("3.37")), (TreeAge, Some("7")), (CollectedOn, Some("2012-03-05")), (Remarks, None)]),
        (5, &[(GrowerName, Some("王芳")), (IdNumber, Some("532999197506120260")), (Phone, Some("13987650002")), (AreaMu, Some("2.5")), (CollectedOn, Some("2012-03-05"))]),
        (6, &[(IdNumber, Some("53299919770305205X")), (AreaMu, Some("4")), (CollectedOn, Some("2012-03-06"))]),
        (8, &[(AreaMu, Some("3.5")), (CollectedOn, Some("2012-03-06"))]),
        (9, &[(IdNumber, None), (GrowerName, Some("罗建华")), (CollectedOn, Some("2012-03-05"))]),
        (12, &[(TreeAge, Some("15")), (TreeCount, Some("42")), (FruitPerTree, Some("330")), (AreaMu, Some("1.75")), (CollectedOn, Some("2012-03-07"))]),
        (13, &[(GrowerName, Some("何家顺")), (AreaMu, Some("1.2")), (Remarks, Some("补交")), (CollectedOn, None)]),
    ];
    for (n, fields) in kept {
        for &(field, want) in fields {
            assert_eq!(get(n, field), want, "row {n} {field:?}");
        }
    }
    assert_eq!(row(5).original[1], "王  芳");
    assert_eq!(row(5).original[3], "532999 19750612 0260");
    assert_eq!(row(8).original[12], "３．５");
    assert_eq!(row(9).problems.len(), 1);
    let p = &row(9).problems[0];
    assert_eq!(
        (p.field, p.column.as_str(), p.code.as_str()),
        (IdNumber, "D", "id_number_stored_as_number")
    );
    assert_eq!(row(9).original[3], "532999196901011000");

    let with_problems: Vec<usize> = r
        .rows
        .iter()
        .filter(|r| !r.problems.is_empty())
        .map(|r| r.row)
        .collect();
    assert_eq!(with_problems, [9]);
    // Every row but the broken ID has all 13 data columns (no 备注).
    for n in [4, 5, 6, 8, 12] {
        assert_eq!(row(n).cells.len(), 13, "row {n}");
    }
}

#[test]
fn broken_files() {
    let code = |b: &[u8]| read(b).unwrap_err().code();
    assert_eq!(code(NOT_A_SPREADSHEET), "not_a_spreadsheet");
    assert_eq!(code(TRUNCATED), "file_corrupt");
    assert_eq!(code(ENCRYPTED), "file_encrypted");
    assert_eq!(code(ZIPBOMB), "file_zip_bomb");
    let err = read(NO_HEADER).unwrap_err();
    assert_eq!(err.code(), "no_header");
    assert!(matches!(&err, ReadError::NoHeader { sheets } if sheets == &["Sheet1"]));
    assert_eq!(
        err.to_string(),
        "无法识别表头：请确保表格中有“姓名”“身份证号”“面积”等列（已检查工作表：Sheet1）"
    );
}

#[test]
fn zipbomb_is_refused_by_ratio_even_without_a_total_limit() {
    let opts = ReadOptions {
        max_uncompressed: u64::MAX,
        ..ReadOptions::default()
    };
    assert_eq!(
        read_roster(ZIPBOMB, &opts).unwrap_err().code(),
        "file_zip_bomb"
    );
}

#[test]
fn a_roster_serialises_for_the_error_report() {
    let r = read(MESSY).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["rows"][4]["problems"][0]["code"],
        "id_number_stored_as_number"
    );
    assert_eq!(json["rows"][0]["cells"]["grower_name"], "李春华");
    assert_eq!(json["skipped_rows"][3][1], "totals");
}
