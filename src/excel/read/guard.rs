//! Safety before parsing: format sniffing from magic bytes, the zip-bomb
//! guard and the walk over an .xls file's BIFF cell records.

use std::io::{Cursor, Read};

use super::{ReadError, ReadOptions, MIB};

/// A single zip entry is a bomb when it inflates more than this ratio ...
const BOMB_RATIO: u64 = 200;
/// ... and is larger than this (small well-compressed XML is normal).
const BOMB_ENTRY_MIN: u64 = 50 * MIB as u64;

const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Xlsx,
    Xlsb,
    Ods,
    Xls,
}

pub(super) fn sniff(bytes: &[u8], opts: &ReadOptions) -> Result<Format, ReadError> {
    if bytes.starts_with(&ZIP_MAGIC) {
        zip_format(bytes, opts)
    } else if bytes.starts_with(&CFB_MAGIC) {
        cfb_format(bytes)
    } else {
        Err(ReadError::NotSpreadsheet)
    }
}

/// Walk the zip central directory (no inflating) and name the format.
fn zip_format(bytes: &[u8], opts: &ReadOptions) -> Result<Format, ReadError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ReadError::Corrupt(format!("zip: {e}")))?;
    // zip refuses to inflate an entry past the size its central directory
    // declares, so checking declared sizes bounds what calamine can inflate.
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_data(i)
            .map_err(|e| ReadError::Corrupt(format!("zip: {e}")))?;
        if entry_is_bomb(entry.size(), entry.compressed_size()) {
            return Err(ReadError::ZipBomb);
        }
        total = total.saturating_add(entry.size());
        if total > opts.max_uncompressed {
            return Err(ReadError::ZipBomb);
        }
    }
    if zip.index_for_name("mimetype").is_some() {
        let mimetype = read_entry(&mut zip, "mimetype", 200)?;
        if mimetype.starts_with(b"application/vnd.oasis.opendocument.spreadsheet") {
            let manifest = read_entry(&mut zip, "META-INF/manifest.xml", 1 << 20)?;
            if contains(&manifest, b"encryption-data") {
                return Err(ReadError::Encrypted);
            }
            return Ok(Format::Ods);
        }
        return Err(ReadError::NotSpreadsheet);
    }
    if zip.index_for_name("xl/workbook.bin").is_some() {
        return Ok(Format::Xlsb);
    }
    if zip
        .file_names()
        .any(|n| n.is_ok_and(|n| n.starts_with("xl/")))
    {
        return Ok(Format::Xlsx);
    }
    // A .docx, a .zip of photos, ...
    Err(ReadError::NotSpreadsheet)
}

fn entry_is_bomb(size: u64, compressed: u64) -> bool {
    size > BOMB_ENTRY_MIN && size > compressed.max(1).saturating_mul(BOMB_RATIO)
}

/// Read at most `limit` bytes of a named entry; a missing entry reads as empty.
fn read_entry(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, ReadError> {
    let Some(index) = zip.index_for_name(name) else {
        return Ok(Vec::new());
    };
    let entry = zip
        .by_index(index)
        .map_err(|e| ReadError::Corrupt(format!("zip: {e}")))?;
    let mut out = Vec::new();
    entry
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| ReadError::Corrupt(format!("zip {name}: {e}")))?;
    Ok(out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An OLE2 compound file: legacy .xls, or an encrypted OOXML package.
fn cfb_format(bytes: &[u8]) -> Result<Format, ReadError> {
    let mut cf = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| ReadError::Corrupt(format!("cfb: {e}")))?;
    // Password-protected .xlsx files are CFB containers holding the real zip
    // in an EncryptedPackage stream (MS-OFFCRYPTO).
    if cf.is_stream("/EncryptedPackage") {
        return Err(ReadError::Encrypted);
    }
    // BIFF8 names its stream Workbook, BIFF5 (Excel 95) Book, as calamine reads.
    let Some(name) = ["/Workbook", "/Book"].into_iter().find(|n| cf.is_stream(n)) else {
        // A .doc, .ppt or .msg.
        return Err(ReadError::NotSpreadsheet);
    };
    let mut stream = Vec::new();
    cf.open_stream(name)
        .and_then(|s| s.take(bytes.len() as u64).read_to_end(&mut stream))
        .map_err(|e| ReadError::Corrupt(format!("cfb {name}: {e}")))?;
    xls_guard(&stream)?;
    Ok(Format::Xls)
}

/// Cells the ranges of all sheets of an .xls may span together (about 160 MB
/// at calamine's 40 bytes a cell); 65536 rows of 61 columns fit.
const XLS_CELL_BUDGET: u64 = 4_000_000;

/// calamine parses every sheet of an .xls as the workbook opens, reserving
/// room for what the sheet's DIMENSIONS record claims and then building a
/// dense range over the cells' bounding box. One damaged byte can claim 65535
/// columns or four billion rows, and that allocation aborts the whole process
/// (it is not a panic). So walk the records calamine will walk, from each
/// BoundSheet offset, and refuse a file whose ranges would not fit the budget.
fn xls_guard(stream: &[u8]) -> Result<(), ReadError> {
    let too_big = || ReadError::Corrupt("xls: 工作表范围异常（单元格位置或尺寸记录已损坏）".into());
    let mut sheet_offsets = Vec::new();
    for (typ, data) in biff_records(stream) {
        match typ {
            0x0085 if data.len() >= 4 => sheet_offsets.push(le_u32(data) as usize),
            0x000A => break,
            _ => {}
        }
    }
    let mut total: u64 = 0;
    for offset in sheet_offsets {
        let Some(sheet) = stream.get(offset..) else {
            return Err(ReadError::Corrupt(format!(
                "xls: 工作表位置 {offset} 超出数据流"
            )));
        };
        let mut cells = BoundingBox::default();
        let mut formulas = BoundingBox::default();
        let mut reserved: u64 = 0;
        let (mut seen_bof, mut depth) = (false, 0usize);
        for (typ, data) in biff_records(sheet) {
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let at = |i: usize| u32::from(le_u16(from(data, i)));
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x000A => break,
                0x0200 => reserved = reserved.saturating_add(dimensions_cells(data)),
                0x0006 if data.len() >= 4 => {
                    cells.add(at(0), at(2));
                    formulas.add(at(0), at(2));
                }
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD if data.len() >= 4 => {
                    cells.add(at(0), at(2))
                }
                0x00BD if data.len() >= 6 => {
                    let count = (data.len() - 6).div_ceil(6) as u32;
                    if count > 0 {
                        cells.add(at(0), at(2));
                        cells.add(at(0), at(2) + count - 1);
                    }
                }
                _ => {}
            }
        }
        total = total
            .saturating_add(reserved)
            .saturating_add(cells.cells())
            .saturating_add(formulas.cells());
        if total > XLS_CELL_BUDGET {
            return Err(too_big());
        }
    }
    Ok(())
}

/// BIFF records as (type, data); stops at the first truncated record, where
/// calamine stops with an error.
fn biff_records(mut rest: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let typ = le_u16(rest);
        let len = usize::from(le_u16(from(rest, 2)));
        let data = rest.get(4..4 + len)?;
        rest = from(rest, 4 + len);
        Some((typ, data))
    })
}

/// The capacity calamine reserves for a DIMENSIONS record, computed the way it
/// does (u32 arithmetic that wraps in release builds).
fn dimensions_cells(r: &[u8]) -> u64 {
    let (rf, rl, mut cf, cl) = match r.len() {
        10 => (
            u32::from(le_u16(r)),
            u32::from(le_u16(from(r, 2))),
            u32::from(le_u16(from(r, 4))),
            u32::from(le_u16(from(r, 6))),
        ),
        14 | 16 => (
            le_u32(r),
            le_u32(from(r, 4)),
            u32::from(le_u16(from(r, 8))),
            u32::from(le_u16(from(r, 10))),
        ),
        _ => return 0,
    };
    if cf > 0xFF || cl < cf {
        cf = 0;
    }
    let (end_r, end_c) = if rl >= 1 && cl >= 1 {
        (rl - 1, cl - 1)
    } else {
        (rf, cf)
    };
    let rows = u64::from(end_r.wrapping_sub(rf).wrapping_add(1));
    let cols = u64::from(end_c.wrapping_sub(cf).wrapping_add(1));
    rows.saturating_mul(cols)
}

#[derive(Debug, Default)]
struct BoundingBox(Option<(u32, u32, u32, u32)>);

impl BoundingBox {
    fn add(&mut self, row: u32, col: u32) {
        self.0 = Some(match self.0 {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
    }

    fn cells(&self) -> u64 {
        self.0.map_or(0, |(r0, r1, c0, c1)| {
            u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1)
        })
    }
}

/// Little-endian integers at the start of `b`; 0 when `b` is too short
/// (callers check lengths first; this only keeps a damaged file from panicking).
fn le_u16(b: &[u8]) -> u16 {
    b.get(..2)
        .and_then(|x| <[u8; 2]>::try_from(x).ok())
        .map_or(0, u16::from_le_bytes)
}

fn le_u32(b: &[u8]) -> u32 {
    b.get(..4)
        .and_then(|x| <[u8; 4]>::try_from(x).ok())
        .map_or(0, u32::from_le_bytes)
}

/// `b` from `at` on, empty past its end.
fn from(b: &[u8], at: usize) -> &[u8] {
    b.get(at..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excel::read::{read_roster, ReadOptions};
    use std::io::Write;

    // ------------------------------------------------------------ sniffing

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// A real compound file (written by the cfb crate) holding these streams.
    fn cfb_of(streams: &[(&str, &[u8])]) -> Vec<u8> {
        let mut cf = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        for (name, data) in streams {
            cf.create_stream(name).unwrap().write_all(data).unwrap();
        }
        cf.flush().unwrap();
        cf.into_inner().into_inner()
    }

    #[test]
    fn format_detection_from_magic_bytes() {
        let opts = ReadOptions::default();
        let code = |b: &[u8]| read_roster(b, &opts).unwrap_err().code();
        assert_eq!(code(b""), "file_empty");
        assert_eq!(code("姓名,身份证号,面积\n".as_bytes()), "not_a_spreadsheet");
        assert_eq!(code(b"<html><table></table></html>"), "not_a_spreadsheet");
        assert_eq!(
            code(&zip_of(&[("photo.jpg", b"jpeg")])),
            "not_a_spreadsheet"
        );
        assert_eq!(
            code(&zip_of(&[
                ("mimetype", b"application/vnd.oasis.opendocument.text"),
                ("content.xml", b"<x/>"),
            ])),
            "not_a_spreadsheet"
        );
        assert_eq!(
            code(&zip_of(&[
                (
                    "mimetype",
                    b"application/vnd.oasis.opendocument.spreadsheet"
                ),
                (
                    "META-INF/manifest.xml",
                    b"<manifest:encryption-data manifest:checksum-type=\"SHA1\"/>"
                ),
                ("content.xml", b"garbage"),
            ])),
            "file_encrypted"
        );
        assert_eq!(
            code(&zip_of(&[("xl/workbook.xml", b"<oops")])),
            "file_corrupt"
        );
        let info: &[u8] = b"\x04\x00\x04\x00";
        assert_eq!(
            code(&cfb_of(&[
                ("/EncryptionInfo", info),
                ("/EncryptedPackage", b"x")
            ])),
            "file_encrypted"
        );
        assert_eq!(
            code(&cfb_of(&[("/WordDocument", b"doc")])),
            "not_a_spreadsheet"
        );
        assert_eq!(code(&cfb_of(&[("/Workbook", b"\x09\x08")])), "file_corrupt");
        assert_eq!(code(&CFB_MAGIC), "file_corrupt");
        assert_eq!(code(b"PK\x03\x04 not really a zip"), "file_corrupt");
    }

    /// A BIFF record.
    fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((data.len() as u16).to_le_bytes());
        r.extend(data);
        r
    }

    /// A Workbook stream: globals with one BoundSheet, then the sheet's records.
    fn biff(sheet_records: &[Vec<u8>]) -> Vec<u8> {
        let bof = rec(0x0809, &[0; 16]);
        let eof = rec(0x000A, &[]);
        let globals_len = bof.len() + 4 + 8 + eof.len();
        let mut bound = (globals_len as u32).to_le_bytes().to_vec();
        bound.extend([0, 0, 1, 0]); // visible worksheet, name length 1 ...
        let mut out = bof.clone();
        out.extend(rec(0x0085, &bound));
        out.extend(&eof);
        out.extend(&bof);
        for r in sheet_records {
            out.extend(r);
        }
        out.extend(&eof);
        out
    }

    fn cell(typ: u16, row: u16, col: u16) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend([0; 10]);
        rec(typ, &d)
    }

    #[test]
    fn xls_guard_refuses_ranges_calamine_cannot_allocate() {
        let ok = biff(&[cell(0x0203, 0, 0), cell(0x00FD, 65_535, 60)]);
        assert!(xls_guard(&ok).is_ok());
        // One byte off in a column: 65536 x 65536 cells.
        let bad = biff(&[cell(0x0203, 0, 0), cell(0x00FD, 65_535, 65_535)]);
        assert_eq!(xls_guard(&bad).unwrap_err().code(), "file_corrupt");
        // A DIMENSIONS record claiming four billion rows.
        let mut dims = 0u32.to_le_bytes().to_vec();
        dims.extend(u32::MAX.to_le_bytes());
        dims.extend([0, 0, 10, 0, 0, 0]);
        let bad = biff(&[rec(0x0200, &dims), cell(0x0203, 0, 0)]);
        assert_eq!(xls_guard(&bad).unwrap_err().code(), "file_corrupt");
        // A MULRK running past column 65535 is counted by its cells.
        let mut mulrk = 0u16.to_le_bytes().to_vec();
        mulrk.extend(65_000u16.to_le_bytes());
        mulrk.extend(vec![0; 6 * 100]);
        mulrk.extend(65_099u16.to_le_bytes());
        let bad = biff(&[cell(0x0203, 65_535, 0), rec(0x00BD, &mulrk)]);
        assert_eq!(xls_guard(&bad).unwrap_err().code(), "file_corrupt");
        // Cells inside an embedded chart's substream are not the sheet's.
        let chart = [
            rec(0x0809, &[0; 16]),
            cell(0x0203, 65_535, 65_535),
            rec(0x000A, &[]),
        ];
        let ok = biff(&[
            cell(0x0203, 0, 0),
            chart[0].clone(),
            chart[1].clone(),
            chart[2].clone(),
        ]);
        assert!(xls_guard(&ok).is_ok());
        // A BoundSheet offset past the end of the stream.
        let mut bad = biff(&[]);
        bad.truncate(35); // globals: BOF 20 + BoundSheet 12 bytes, sheet at 36
        assert_eq!(xls_guard(&bad).unwrap_err().code(), "file_corrupt");
    }

    #[test]
    fn a_damaged_xls_cell_position_is_corrupt_not_an_abort() {
        // standard.xls (LibreOffice) with its first LABELSST record moved to
        // row 65535, column 65535, patched in place: without the guard
        // calamine would allocate 65536 x 65536 cells and abort the process.
        let mut xls = include_bytes!("../../../fixtures/rosters/standard.xls").to_vec();
        let at = xls
            .windows(4)
            .position(|w| w == [0xFD, 0x00, 0x0A, 0x00])
            .unwrap();
        xls[at + 4..at + 8].copy_from_slice(&[0xFF; 4]);
        let err = read_roster(&xls, &ReadOptions::default()).unwrap_err();
        assert_eq!(err.code(), "file_corrupt");
        assert!(err.to_string().contains("工作表范围异常"), "{err}");
    }

    #[test]
    fn bomb_rule() {
        let mib = MIB as u64;
        assert!(!entry_is_bomb(10 * mib, 1000)); // small but well compressed
        assert!(!entry_is_bomb(60 * mib, mib)); // 60:1 is ordinary XML
        assert!(entry_is_bomb(60 * mib, 100 * 1024));
        assert!(entry_is_bomb(u64::MAX, 0));
    }
}
