//! Finding the header row and naming its columns (the accepted header
//! texts and their ranks).

use std::collections::BTreeMap;

use super::clean::{halfwidth, shown};
use super::grid::Grid;
use super::{Field, HEADER_SEARCH_ROWS};

/// Accepted header texts after `header_key`, with a rank: when two columns map
/// to one field the lower rank wins (投保面积 over 种植面积), then the leftmost.
const ALIASES: &[(&str, Field, u8)] = &[
    ("姓名", Field::GrowerName, 0),
    ("户主姓名", Field::GrowerName, 0),
    ("农户姓名", Field::GrowerName, 0),
    ("被保险人", Field::GrowerName, 0),
    ("被保险人姓名", Field::GrowerName, 0),
    ("户主", Field::GrowerName, 1),
    ("身份证号", Field::IdNumber, 0),
    ("身份证号码", Field::IdNumber, 0),
    ("证件号码", Field::IdNumber, 0),
    ("证件号", Field::IdNumber, 0),
    ("身份证", Field::IdNumber, 0),
    ("联系电话", Field::Phone, 0),
    ("电话", Field::Phone, 0),
    ("电话号码", Field::Phone, 0),
    ("手机号", Field::Phone, 0),
    ("手机号码", Field::Phone, 0),
    ("手机", Field::Phone, 0),
    ("联系方式", Field::Phone, 0),
    ("开户行", Field::BankName, 0),
    ("开户银行", Field::BankName, 0),
    ("开户行名称", Field::BankName, 0),
    ("银行账号", Field::BankAccount, 0),
    ("银行帐号", Field::BankAccount, 0),
    ("银行卡号", Field::BankAccount, 0),
    ("账号", Field::BankAccount, 0),
    ("帐号", Field::BankAccount, 0),
    ("卡号", Field::BankAccount, 0),
    ("一卡通账号", Field::BankAccount, 0),
    ("一卡通帐号", Field::BankAccount, 0),
    ("一卡通号", Field::BankAccount, 0),
    ("村", Field::Village, 0),
    ("村名", Field::Village, 0),
    ("所在村", Field::Village, 0),
    ("行政村", Field::Village, 0),
    ("村委会", Field::Village, 0),
    ("地块编号", Field::PlotCode, 0),
    ("地块号", Field::PlotCode, 0),
    ("地块代码", Field::PlotCode, 0),
    ("品种", Field::Variety, 0),
    ("核桃品种", Field::Variety, 0),
    ("树龄", Field::TreeAge, 0),
    ("株数", Field::TreeCount, 0),
    ("树木株数", Field::TreeCount, 0),
    ("棵数", Field::TreeCount, 0),
    ("挂果数", Field::FruitPerTree, 0),
    ("单株挂果数", Field::FruitPerTree, 0),
    ("单株挂果", Field::FruitPerTree, 0),
    ("投保面积", Field::AreaMu, 0),
    ("面积", Field::AreaMu, 1),
    ("种植面积", Field::AreaMu, 2),
    ("缴费日期", Field::CollectedOn, 0),
    ("收费日期", Field::CollectedOn, 0),
    ("交费日期", Field::CollectedOn, 0),
    ("备注", Field::Remarks, 0),
];

/// A header cell reduced for matching: half-width, no whitespace, no
/// bracketed parts ("面积（亩）" -> "面积"), no required-marks or colons.
pub(super) fn header_key(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in text.chars().map(halfwidth) {
        match c {
            '(' | '[' | '【' | '〔' | '<' | '《' => depth += 1,
            ')' | ']' | '】' | '〕' | '>' | '》' => depth = depth.saturating_sub(1),
            c if c.is_whitespace() => {}
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim_matches(|c| matches!(c, '*' | ':' | '※'))
        .to_string()
}

/// Which field a header cell names, with its alias rank.
pub(super) fn header_field(text: &str) -> Option<(Field, u8)> {
    let mut key = header_key(text);
    loop {
        if let Some((_, field, rank)) = ALIASES.iter().find(|(a, _, _)| *a == key) {
            return Some((*field, *rank));
        }
        // "面积亩", "面积/亩", "树龄-年": a unit typed without brackets.
        let trimmed =
            key.trim_end_matches(['亩', '年', '岁', '个', '株', '棵', '元', '/', '-', '_']);
        if trimmed.len() == key.len() || trimmed.is_empty() {
            return None;
        }
        key = trimmed.to_string();
    }
}

#[derive(Debug, Clone)]
pub(super) struct Header {
    /// 0-based row of the header.
    pub(super) row: u32,
    /// 0-based first data row candidate (after a second header row, if any).
    pub(super) data_start: u32,
    /// Recognised columns, left to right.
    pub(super) columns: Vec<(Field, u32)>,
    /// Texts of the header row(s) from column A.
    pub(super) texts: Vec<String>,
    /// First column of the table (leftmost non-blank header cell).
    pub(super) first_col: u32,
}

/// Fields recognised in one row: the best column per field.
fn fields_in_row(grid: &Grid, row: u32) -> BTreeMap<Field, (u8, u32)> {
    let mut found: BTreeMap<Field, (u8, u32)> = BTreeMap::new();
    if let Some(cells) = grid.rows.get(&row) {
        for (col, value) in cells.iter() {
            if let Some((field, rank)) = header_field(&shown(value)) {
                match found.get(&field) {
                    Some((best, _)) if *best <= rank => {}
                    _ => {
                        found.insert(field, (rank, *col));
                    }
                }
            }
        }
    }
    found
}

/// The first row among the first 30 holding 姓名, 身份证号 and 面积 columns.
pub(super) fn find_header(grid: &Grid) -> Option<Header> {
    let required = [Field::GrowerName, Field::IdNumber, Field::AreaMu];
    let (row, mut found) = grid
        .rows
        .range(..HEADER_SEARCH_ROWS)
        .map(|(row, _)| (*row, fields_in_row(grid, *row)))
        .find(|(_, found)| required.iter().all(|f| found.contains_key(f)))?;
    let mut width = grid.row_width(row);
    let mut texts = grid.row_texts(row, 0);
    let mut data_start = row + 1;

    // A second header row under vertically merged cells (树木情况 over 树龄 /
    // 株数): it names new fields and leaves the already-named columns empty,
    // which no data row does (a data row has a name and an ID).
    let sub = fields_in_row(grid, row + 1);
    let mapped_empty = found.values().all(|(_, col)| grid.is_blank(row + 1, *col));
    let used: Vec<u32> = found.values().map(|(_, c)| *c).collect();
    let new: Vec<(Field, (u8, u32))> = sub
        .into_iter()
        .filter(|(f, (_, c))| !found.contains_key(f) && !used.contains(c))
        .collect();
    if mapped_empty && !new.is_empty() {
        found.extend(new);
        width = width.max(grid.row_width(row + 1));
        let below = grid.row_texts(row + 1, width);
        texts.resize(width, String::new());
        for (top, sub) in texts.iter_mut().zip(below) {
            if !sub.trim().is_empty() {
                *top = sub;
            }
        }
        data_start = row + 2;
    }

    let mut columns: Vec<(Field, u32)> = found.into_iter().map(|(f, (_, c))| (f, c)).collect();
    columns.sort_by_key(|(_, c)| *c);
    let first_col = texts.iter().position(|t| !t.trim().is_empty()).unwrap_or(0) as u32;
    Some(Header {
        row,
        data_start,
        columns,
        texts,
        first_col,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excel::read::test_support::*;
    use crate::excel::read::ReadOptions;
    use calamine::Data;

    #[test]
    fn header_variants() {
        use Field::*;
        let cases: &[(&str, Field)] = &[
            ("姓名", GrowerName),
            ("户主姓名", GrowerName),
            ("农户姓名", GrowerName),
            ("户主", GrowerName),
            ("被保险人", GrowerName),
            (" 姓 名 ", GrowerName),
            ("*姓名", GrowerName),
            ("身份证号", IdNumber),
            ("身份证号码", IdNumber),
            ("证件号码", IdNumber),
            ("身份证", IdNumber),
            ("身份证号\n(必填)", IdNumber),
            ("身份证号：", IdNumber),
            ("联系电话", Phone),
            ("电话", Phone),
            ("手机号", Phone),
            ("手机号码", Phone),
            ("联系方式", Phone),
            ("开户行", BankName),
            ("开户银行", BankName),
            ("银行账号", BankAccount),
            ("银行卡号", BankAccount),
            ("账号", BankAccount),
            ("卡号", BankAccount),
            ("一卡通账号", BankAccount),
            ("银行帐号", BankAccount),
            ("村", Village),
            ("村名", Village),
            ("所在村", Village),
            ("行政村", Village),
            ("村委会", Village),
            ("地块编号", PlotCode),
            ("地块号", PlotCode),
            ("地块代码", PlotCode),
            ("品种", Variety),
            ("核桃品种", Variety),
            ("树龄", TreeAge),
            ("树龄(年)", TreeAge),
            ("树龄（年）", TreeAge),
            ("株数", TreeCount),
            ("株 数", TreeCount),
            ("树木株数", TreeCount),
            ("棵数", TreeCount),
            ("挂果数", FruitPerTree),
            ("单株挂果数", FruitPerTree),
            ("单株挂果(个)", FruitPerTree),
            ("面积", AreaMu),
            ("面积(亩)", AreaMu),
            ("面积（亩）", AreaMu),
            ("面积【亩】", AreaMu),
            ("面积/亩", AreaMu),
            ("面积亩", AreaMu),
            ("投保面积", AreaMu),
            ("投保面积(亩)", AreaMu),
            ("投保面积（亩）", AreaMu),
            ("种植面积", AreaMu),
            ("缴费日期", CollectedOn),
            ("收费日期", CollectedOn),
            ("备注", Remarks),
            ("备　注", Remarks),
        ];
        for (text, want) in cases {
            assert_eq!(header_field(text).map(|(f, _)| f), Some(*want), "{text:?}");
        }
        for text in [
            "序号",
            "",
            "合计",
            "姓名拼音",
            "2012年甲镇核桃树保险投保花名册",
            "亩",
        ] {
            assert_eq!(header_field(text), None, "{text:?}");
        }
    }

    #[test]
    fn better_alias_wins_then_leftmost() {
        let g = text_grid(&[&["种植面积", "姓名", "身份证号", "投保面积", "户主", "面积"]]);
        let h = find_header(&g).unwrap();
        assert_eq!(
            h.columns,
            vec![
                (Field::GrowerName, 1),
                (Field::IdNumber, 2),
                (Field::AreaMu, 3)
            ]
        );
    }

    #[test]
    fn header_below_title_rows_and_required_columns() {
        let g = text_grid(&[
            &["2012年甲镇核桃树保险投保花名册"],
            &[],
            &["填报单位：甲镇", "", "", "2012年3月"],
            HEADER,
            &["1", "李春华", ID, "3.37"],
        ]);
        let r = read_grid(&g, &ReadOptions::default()).unwrap();
        assert_eq!(r.header_row, 4);
        assert_eq!(r.headers, HEADER);
        assert_eq!(
            r.columns,
            vec![
                (Field::GrowerName, "B".to_string()),
                (Field::IdNumber, "C".to_string()),
                (Field::AreaMu, "D".to_string()),
                (Field::Remarks, "E".to_string()),
            ]
        );
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].row, 5);

        // Without 面积 there is no header.
        let g = text_grid(&[&["姓名", "身份证号", "株数"], &["李春华", ID, "3"]]);
        assert!(find_header(&g).is_none());
    }

    #[test]
    fn header_must_be_within_first_30_rows() {
        let mut rows: Vec<Vec<Data>> = (0..30).map(|i| vec![s(&format!("说明{i}"))]).collect();
        rows.push(HEADER.iter().map(|t| s(t)).collect());
        assert!(find_header(&grid_of(rows.clone())).is_none());
        rows.remove(0);
        assert_eq!(find_header(&grid_of(rows)).unwrap().row, 29);
    }

    #[test]
    fn second_header_row_under_merged_cells() {
        let g = text_grid(&[
            &["姓名", "身份证号", "树木情况", "", "面积"],
            &["", "", "树龄", "株数", ""],
            &["李春华", ID, "7", "40", "3.37"],
        ]);
        let r = read_grid(&g, &ReadOptions::default()).unwrap();
        assert_eq!(r.header_row, 1);
        assert_eq!(r.headers, ["姓名", "身份证号", "树龄", "株数", "面积"]);
        let fields: Vec<Field> = r.columns.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                Field::GrowerName,
                Field::IdNumber,
                Field::TreeAge,
                Field::TreeCount,
                Field::AreaMu
            ]
        );
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].row, 3);
        assert_eq!(r.rows[0].cells[&Field::TreeCount], "40");
    }
}
