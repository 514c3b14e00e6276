DROP TABLE claim_report_marks;
