DROP TABLE inspection_photos;
DROP TABLE inspection_results;
DROP TABLE inspection_samples;
DROP TABLE inspection_draws;
