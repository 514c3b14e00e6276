//! Reading the report workbooks (分户清单, 保单清单, 投保条件): the header row,
//! the data rows under it and the 合计 row, with column sums in fen or mu units.

use calamine::{Data, Reader};

pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Data>>,
    pub total: Vec<Data>,
}

impl Table {
    /// Sheet `sheet` of `bytes`; the header is the row whose first cell is `first`,
    /// the last row must be the 合计 row.
    pub fn read(bytes: &[u8], sheet: &str, first: &str) -> Table {
        let mut wb =
            calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range(sheet).unwrap();
        let all: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
        let h = all
            .iter()
            .position(|r| r.first().map(Data::to_string).as_deref() == Some(first))
            .unwrap_or_else(|| panic!("no header row starting {first} in {sheet}"));
        let total = all.last().unwrap().clone();
        assert!(
            total.iter().any(|c| *c == "合计"),
            "last row of {sheet} is not the totals row: {total:?}"
        );
        Table {
            header: all[h].iter().map(Data::to_string).collect(),
            rows: all[h + 1..all.len() - 1].to_vec(),
            total,
        }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// The text of column `name` in every data row.
    pub fn texts(&self, name: &str) -> Vec<String> {
        let c = self.col(name);
        self.rows.iter().map(|r| r[c].to_string()).collect()
    }

    /// Column `name` summed over the data rows, in hundredths (fen) or
    /// ten-thousandths (mu units) as `scale` says, and the 合计 row's figure.
    pub fn sum_and_total(&self, name: &str, scale: f64) -> (i64, i64) {
        let c = self.col(name);
        let sum = self.rows.iter().map(|r| scaled(&r[c], scale)).sum();
        (sum, scaled(&self.total[c], scale))
    }
}

fn scaled(c: &Data, scale: f64) -> i64 {
    let v = match c {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        Data::String(s) => s.parse().unwrap_or_else(|_| panic!("not a number: {s}")),
        other => panic!("not a number: {other:?}"),
    };
    (v * scale).round() as i64
}

pub const FEN: f64 = 100.0;
pub const MU_UNITS: f64 = 10_000.0;
