DROP TABLE ops_inspections;
