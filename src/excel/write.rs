//! Workbook writing (filled in by the report writer work).
