//! The roster template a township station downloads and fills in: the
//! roster sheet with drop-downs and checks, instructions, hidden options.

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, Format, FormatAlign,
    Formula, Workbook, Worksheet, XlsxError,
};

use super::cells::*;
use super::WriteError;

/// The roster template a township station downloads and fills in.
#[derive(Debug, Clone)]
pub struct TemplateSpec {
    pub township_name: String,
    pub scheme_name: String,
    /// Village names of the township, offered in the 村 drop-down.
    pub villages: Vec<String>,
    /// Variety names of the scheme (e.g. 早实核桃, 晚实核桃), offered in the 品种 drop-down.
    pub varieties: Vec<String>,
    pub year: i32,
    /// The scheme's eligibility rules in words, one line each, e.g.
    /// "早实核桃：树龄5年以上且单株挂果数270个以上". They come from the scheme,
    /// so a new crop needs no change here.
    pub rules: Vec<String>,
}

/// The header of sheet 花名册, in order. The roster reader expects these texts.
pub const ROSTER_HEADERS: [&str; 12] = [
    "姓名",
    "身份证号",
    "联系电话",
    "开户行",
    "银行账号",
    "村",
    "地块编号",
    "品种",
    "树龄",
    "株数",
    "单株挂果数",
    "面积(亩)",
];

/// The columns the instructions call required.
pub const ROSTER_REQUIRED: [&str; 8] = [
    "姓名",
    "身份证号",
    "村",
    "品种",
    "树龄",
    "株数",
    "单株挂果数",
    "面积(亩)",
];

/// The ID number of the template's example row (a well-formed number with a
/// correct check character, under a county code that does not exist). A row
/// carrying it is the example left in place, not a grower.
pub const EXAMPLE_ID_NUMBER: &str = "532999197001010015";

pub const ROSTER_SHEET: &str = "花名册";
pub const INSTRUCTIONS_SHEET: &str = "填写说明";
pub const OPTIONS_SHEET: &str = "选项";

/// Excel row 5000: formats and validations are laid down to here.
const TEMPLATE_LAST_ROW: u32 = 4_999;

const COL_ID: u16 = 1;
const COL_PHONE: u16 = 2;
const COL_ACCOUNT: u16 = 4;
const COL_VILLAGE: u16 = 5;
const COL_PLOT: u16 = 6;
const COL_VARIETY: u16 = 7;
const COL_AGE: u16 = 8;
const COL_TREES: u16 = 9;
const COL_FRUIT: u16 = 10;
const COL_AREA: u16 = 11;

const TEMPLATE_WIDTHS: [f64; 12] = [
    10.0, 22.0, 14.0, 22.0, 24.0, 12.0, 12.0, 12.0, 8.0, 8.0, 12.0, 10.0,
];

/// The roster template: sheets 花名册 (to fill in), 填写说明 (instructions)
/// and the hidden 选项 (the drop-down lists).
pub fn roster_template(spec: &TemplateSpec) -> Result<Vec<u8>, WriteError> {
    let max_list = TEMPLATE_LAST_ROW as usize;
    if spec.villages.len() > max_list || spec.varieties.len() > max_list {
        return Err(WriteError(format!(
            "村或品种超过{max_list}个，无法生成下拉列表"
        )));
    }
    let mut wb = Workbook::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name(ROSTER_SHEET)?;
        write_roster_sheet(ws, spec)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(INSTRUCTIONS_SHEET)?;
        write_instructions(ws, spec)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(OPTIONS_SHEET)?;
        write_options(ws, spec)?;
    }
    Ok(wb.save_to_buffer()?)
}

fn write_roster_sheet(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), XlsxError> {
    let header_format = border(Format::new())
        .set_bold()
        .set_background_color(Color::RGB(HEADER_FILL))
        .set_align(FormatAlign::Center);
    let text = Format::new().set_num_format(TEXT_FORMAT);
    for (c, (h, w)) in ROSTER_HEADERS.iter().zip(TEMPLATE_WIDTHS).enumerate() {
        put_text(ws, 0, to_col(c), h, &header_format)?;
        ws.set_column_width(to_col(c), w)?;
    }
    // ID, phone, account and plot numbers are text: as numbers Excel would
    // turn an 18-digit ID into 5.32999E+17 and lose its last digits, and
    // drop the leading zeros of plot numbers. The column style covers rows a
    // clerk adds beyond row 5000; the cell formats cover programs that
    // ignore column styles. Blank cells rather than `set_range_format`:
    // rust_xlsxwriter 0.102 does not widen the sheet's dimension for a range
    // format, so formatted cells below the last written row are never saved.
    for col in [COL_ID, COL_PHONE, COL_ACCOUNT, COL_PLOT] {
        ws.set_column_format(col, &text)?;
        for row in 2..=TEMPLATE_LAST_ROW {
            ws.write_blank(row, col, &text)?;
        }
    }

    let example = Format::new()
        .set_italic()
        .set_font_color(Color::RGB(GREY_TEXT));
    let example_text = example.clone().set_num_format(TEXT_FORMAT);
    let village = spec.villages.first().map_or("某某村", String::as_str);
    let variety = spec.varieties.first().map_or("某品种", String::as_str);
    let texts: [(u16, &str); 8] = [
        (0, "张三"),
        (COL_ID, EXAMPLE_ID_NUMBER),
        (COL_PHONE, "13800000000"),
        (3, "某某县农村信用合作联社"),
        (COL_ACCOUNT, "6217000000000000000"),
        (COL_VILLAGE, village),
        (COL_PLOT, "001"),
        (COL_VARIETY, variety),
    ];
    for (col, s) in texts {
        put_text(ws, 1, col, s, &example_text)?;
    }
    let whole = example.clone().set_num_format(INT_FORMAT);
    ws.write_number_with_format(1, COL_AGE, 8, &whole)?;
    ws.write_number_with_format(1, COL_TREES, 30, &whole)?;
    ws.write_number_with_format(1, COL_FRUIT, 300, &whole)?;
    ws.write_number_with_format(1, COL_AREA, 1.5, &example.set_num_format(MU_FORMAT))?;

    ws.set_freeze_panes(1, 0)?;
    add_validations(ws, spec)?;
    Ok(())
}

fn add_validations(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), XlsxError> {
    let last = TEMPLATE_LAST_ROW;
    let mut add = |col: u16, v: DataValidation| -> Result<(), XlsxError> {
        ws.add_data_validation(
            1,
            col,
            last,
            col,
            &v.set_error_style(DataValidationErrorStyle::Stop),
        )?;
        Ok(())
    };

    add(
        COL_ID,
        DataValidation::new()
            .allow_text_length(DataValidationRule::EqualTo(18))
            .set_input_title("身份证号")?
            .set_input_message("填写18位身份证号，最后一位可以是X。本列为文本格式，请勿改为数字。")?
            .set_error_title("身份证号位数不对")?
            .set_error_message("身份证号应为18位（最后一位可以是X），请核对后重新填写。")?,
    )?;
    // The lists live on the hidden 选项 sheet: a list typed into the
    // validation itself is capped at 255 characters, too short for the
    // villages of a large township. Each: the column, its list's column on
    // 选项 and length, the title, the error's title and message.
    #[rustfmt::skip]
    let lists = [
        (COL_VILLAGE, 'A', spec.villages.len(), "村", "村名不在列表中",
            "请从下拉列表中选择村；如缺少本村，请联系县林业局添加。"),
        (COL_VARIETY, 'B', spec.varieties.len(), "品种", "品种不在列表中",
            "请从下拉列表中选择本方案承保的品种。"),
    ];
    for (col, options_col, len, title, error_title, error_message) in lists {
        if len == 0 {
            continue;
        }
        add(
            col,
            DataValidation::new()
                .allow_list_formula(Formula::new(options_range(options_col, len)))
                .set_input_title(title)?
                .set_input_message(format!("请从下拉列表中选择{title}。"))?
                .set_error_title(error_title)?
                .set_error_message(error_message)?,
        )?;
    }
    for (col, title, what) in [
        (COL_AGE, "树龄", "树龄（年）"),
        (COL_TREES, "株数", "株数"),
        (COL_FRUIT, "单株挂果数", "单株挂果数（个）"),
    ] {
        add(
            col,
            DataValidation::new()
                .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
                .set_input_title(title)?
                .set_input_message(format!("{what}填写不小于0的整数。"))?
                .set_error_title(format!("{title}填写有误"))?
                .set_error_message(format!("{what}只能填写不小于0的整数，不要带单位或小数。"))?,
        )?;
    }
    add(
        COL_AREA,
        DataValidation::new()
            .allow_decimal_number(DataValidationRule::GreaterThan(0.0))
            .set_input_title("面积(亩)")?
            .set_input_message("以亩为单位，大于0，最多保留4位小数，如 3.37。")?
            .set_error_title("面积填写有误")?
            .set_error_message("面积以亩为单位，须为大于0的数字（最多4位小数），不要带“亩”字。")?,
    )?;
    Ok(())
}

/// `'选项'!$A$2:$A$n`: the list in column `col` of the options sheet, under its header.
fn options_range(col: char, len: usize) -> String {
    format!("='{OPTIONS_SHEET}'!${col}$2:${col}${}", len + 1)
}

fn write_instructions(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), XlsxError> {
    let title = Format::new().set_bold().set_font_size(14);
    let heading = Format::new().set_bold();
    let line = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    ws.set_column_width(0, 100)?;

    let required = ROSTER_REQUIRED.join("、");
    let optional = ROSTER_HEADERS
        .iter()
        .filter(|h| !ROSTER_REQUIRED.contains(h))
        .copied()
        .collect::<Vec<_>>()
        .join("、");
    let mut lines: Vec<(String, &Format)> = vec![
        (
            format!(
                "{}花名册填写说明（{}）",
                crate::domain::scheme::season_title(spec.year, &spec.scheme_name),
                spec.township_name
            ),
            &title,
        ),
        ("一、填写要求".to_string(), &heading),
        (
            "1. 在“花名册”工作表中填写，每个地块一行；同一农户有多个地块的，分行填写，姓名、身份证号等每行都要填。".to_string(),
            &line,
        ),
        (format!("2. 必填列：{required}。"), &line),
        (
            format!("3. 选填列：{optional}（赔款打入农户本人账户，建议填写开户行和银行账号）。"),
            &line,
        ),
        (
            "4. 第1行表头不要修改、删除或调换顺序；第2行灰色斜体为示例，上传前请删除或直接覆盖。".to_string(),
            &line,
        ),
        (
            "5. 身份证号填写18位，最后一位可以是X。该列已设为文本格式，请不要改成数字格式，否则后几位会变成0；从其他表格粘贴时请选择“只粘贴数值”。".to_string(),
            &line,
        ),
        (
            "6. 银行账号、联系电话、地块编号也按文本填写，不要带空格。".to_string(),
            &line,
        ),
        (
            "7. 村、品种请从下拉列表中选择；如缺少本村，请联系县林业局添加后重新下载模板。".to_string(),
            &line,
        ),
        (
            "8. 树龄（年）、株数、单株挂果数填写不小于0的整数。".to_string(),
            &line,
        ),
        (
            "9. 面积以亩为单位，大于0，最多保留4位小数（如 3.37、0.3333），不要带“亩”字。".to_string(),
            &line,
        ),
    ];
    if !spec.rules.is_empty() {
        lines.push(("二、投保条件（“以上”包含本数）".to_string(), &heading));
        lines.extend(spec.rules.iter().map(|r| (r.clone(), &line)));
    }
    let upload = if spec.rules.is_empty() {
        "二、上传"
    } else {
        "三、上传"
    };
    lines.extend([
        (upload.to_string(), &heading),
        (
            "1. 填好后保存（.xlsx、.xls 或 .ods），登录系统在“花名册导入”页面选择本文件上传。".to_string(),
            &line,
        ),
        (
            "2. 系统先预览：列出新增、变更、无变化、不符合投保条件和拒收的行数，确认后才写入；有错的行不导入，可下载“错误报告”（原行号、错误原因，出错的单元格标红）。".to_string(),
            &line,
        ),
        (
            "3. 按错误报告在本文件中改正后，整表重新上传即可：已导入的行不会重复登记。".to_string(),
            &line,
        ),
    ]);
    for (r, (text, format)) in lines.iter().enumerate() {
        put_text(ws, to_row(r), 0, text, format)?;
    }
    Ok(())
}

fn write_options(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), XlsxError> {
    let header = Format::new().set_bold();
    let plain = Format::new().set_num_format(TEXT_FORMAT);
    for (col, head, items) in [(0u16, "村", &spec.villages), (1, "品种", &spec.varieties)] {
        put_text(ws, 0, col, head, &header)?;
        for (i, item) in items.iter().enumerate() {
            put_text(ws, to_row(i + 1), col, item, &plain)?;
        }
        let width = fitted_width(items.iter().map(String::as_str).chain([head]), 40.0);
        ws.set_column_width(col, width)?;
    }
    // Hidden and locked: the lists are the system's, not the clerk's.
    ws.set_hidden(true);
    ws.protect();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IdNumber;
    use crate::excel::write::test_support::*;
    use calamine::SheetVisible;
    use calamine::{Data, Reader};
    use chrono::NaiveDate;

    fn spec() -> TemplateSpec {
        TemplateSpec {
            township_name: "甲镇".to_string(),
            scheme_name: "核桃树保险".to_string(),
            villages: vec!["甲村".to_string(), "乙村".to_string(), "丙村".to_string()],
            varieties: vec!["早实核桃".to_string(), "晚实核桃".to_string()],
            year: 2012,
            rules: vec![
                "早实核桃：树龄5年以上且单株挂果数270个以上".to_string(),
                "晚实核桃：树龄10年以上且单株挂果数270个以上".to_string(),
            ],
        }
    }

    #[test]
    fn template_has_roster_instructions_and_hidden_options() {
        let bytes = roster_template(&spec()).unwrap();
        let mut book = open(&bytes);
        assert_eq!(book.sheet_names(), vec!["花名册", "填写说明", "选项"]);
        let visible: Vec<SheetVisible> = book.sheets_metadata().iter().map(|s| s.visible).collect();
        assert_eq!(
            visible,
            vec![
                SheetVisible::Visible,
                SheetVisible::Visible,
                SheetVisible::Hidden
            ]
        );

        let roster = book.worksheet_range("花名册").unwrap();
        // The fixture tests hold ROSTER_HEADERS to a real roster file.
        assert_row_starts(&roster, 0, &ROSTER_HEADERS);
        assert_eq!(value(&roster, 0, 12), Data::Empty);

        // The example row: grey italic, a well-formed ID kept as text.
        assert_eq!(value(&roster, 1, 0), string("张三"));
        assert_eq!(value(&roster, 1, 1), string(EXAMPLE_ID_NUMBER));
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert!(IdNumber::parse_at(EXAMPLE_ID_NUMBER, today).is_ok());
        assert_eq!(value(&roster, 1, 5), string("甲村"));
        assert_eq!(value(&roster, 1, 7), string("早实核桃"));
        assert_eq!(value(&roster, 1, 8), Data::Float(8.0));
        assert_eq!(value(&roster, 1, 11), Data::Float(1.5));
        let styles = book.worksheet_style("花名册").unwrap();
        let font = styles.get((1, 0)).and_then(|s| s.font.clone()).unwrap();
        assert!(font.is_italic());
        assert_eq!(font.color.map(|c| c.to_argb() & 0xFF_FFFF), Some(GREY_TEXT));

        // ID and account columns are text down to Excel row 5000. calamine's
        // style reader skips empty `<c/>` elements, so the blank cells are
        // checked in the XML.
        assert_eq!(num_format(&styles, 1, 1), "@");
        let styles_xml = part(&bytes, "xl/styles.xml");
        let num_fmt_id = regex::Regex::new(r#"numFmtId="(\d+)""#).unwrap();
        for cell in ["B3", "B5000", "E3", "E5000", "C3", "G5000"] {
            let xf = cell_xf(&bytes, "xl/worksheets/sheet1.xml", cell);
            let id = num_fmt_id.captures(&xf).unwrap()[1].to_string();
            assert!(
                id == "49"
                    || styles_xml.contains(&format!(r#"<numFmt numFmtId="{id}" formatCode="@"/>"#)),
                "{cell}: {xf}"
            );
        }
        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(!xml.contains(r#"<c r="B5001""#));
        assert!(
            xml.contains(r#"<col min="2" max="2" width="22.7109375" style=""#),
            "{xml:.2000}"
        );
        assert_no_formulas(&mut book, "花名册");

        let options = book.worksheet_range("选项").unwrap();
        assert_eq!(value(&options, 0, 0), string("村"));
        assert_eq!(value(&options, 0, 1), string("品种"));
        let villages: Vec<Data> = (1..=3).map(|r| value(&options, r, 0)).collect();
        assert_eq!(
            villages,
            vec![string("甲村"), string("乙村"), string("丙村")]
        );
        assert_eq!(value(&options, 1, 1), string("早实核桃"));
        assert_eq!(value(&options, 2, 1), string("晚实核桃"));
        assert_eq!(value(&options, 3, 1), Data::Empty);

        let notes = book.worksheet_range("填写说明").unwrap();
        let lines: Vec<String> = notes
            .rows()
            .filter_map(|r| r.first().map(|c| c.to_string()))
            .collect();
        assert_eq!(lines[0], "2012年度核桃树保险花名册填写说明（甲镇）");
        for rule in &spec().rules {
            assert!(lines.contains(rule), "{rule} in {lines:?}");
        }
        for needle in [
            "必填列：姓名、身份证号",
            "18位",
            "4位小数",
            "“以上”包含本数",
            "重新上传",
        ] {
            assert!(lines.iter().any(|l| l.contains(needle)), "{needle}");
        }

        assert!(xml.contains(r#"<pane ySplit="1" topLeftCell="A2""#));
        assert!(xml.contains(r#"<dataValidations count="7">"#));
        assert!(xml.contains("<dataValidation "));
        assert!(
            xml.contains("<formula1>'选项'!$A$2:$A$4</formula1>"),
            "{xml}"
        );
        assert!(xml.contains("<formula1>'选项'!$B$2:$B$3</formula1>"));
        assert!(xml.contains(r#"type="whole" operator="greaterThanOrEqual""#));
        assert!(xml.contains(r#"type="decimal" operator="greaterThan""#));
        assert!(xml.contains(r#"sqref="F2:F5000""#));
        assert!(xml.contains("请从下拉列表中选择村"));
        let options_xml = part(&bytes, "xl/worksheets/sheet3.xml");
        assert!(options_xml.contains("<sheetProtection"));
    }

    #[test]
    fn template_takes_long_village_lists_and_guards_names() {
        let mut s = spec();
        s.villages = (1..=200).map(|i| format!("第{i}村民委员会")).collect();
        s.villages[0] = "=HYPERLINK(\"x\")".to_string();
        s.rules.clear();
        let bytes = roster_template(&s).unwrap();
        let mut book = open(&bytes);
        let options = book.worksheet_range("选项").unwrap();
        assert_eq!(value(&options, 1, 0), string("=HYPERLINK(\"x\")"));
        assert_eq!(value(&options, 200, 0), string("第200村民委员会"));
        assert_no_formulas(&mut book, "选项");
        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(xml.contains("<formula1>'选项'!$A$2:$A$201</formula1>"));
        let notes = book.worksheet_range("填写说明").unwrap();
        assert!(notes.rows().any(|r| r[0] == "二、上传"));
    }
}
