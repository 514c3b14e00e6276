-- Pre-cover inspection (验标): a reproducible random sample of the insured
-- plots of a village, drawn per scheme, and each sampled plot's result.

-- One draw per village and scheme is current; a re-draw keeps the earlier
-- one, marked superseded (the partial unique index allows one current draw).
CREATE TABLE inspection_draws (
    id BIGSERIAL PRIMARY KEY,
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    village_id BIGINT NOT NULL REFERENCES areas (id),
    township_id BIGINT NOT NULL REFERENCES areas (id),
    mode TEXT NOT NULL CHECK (mode IN ('individual', 'village')),
    percent TEXT NOT NULL,
    seed BIGINT NOT NULL CHECK (seed >= 0),
    population_plots INTEGER NOT NULL,
    population_area_units BIGINT NOT NULL,
    required_area_units BIGINT NOT NULL,
    sample_plots INTEGER NOT NULL,
    sample_area_units BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('current', 'superseded')),
    reason TEXT NOT NULL DEFAULT '',
    superseded_by BIGINT REFERENCES inspection_draws (id),
    drawn_by BIGINT REFERENCES users (id),
    drawn_at TEXT NOT NULL
);
CREATE UNIQUE INDEX inspection_draws_current ON inspection_draws (scheme_id, village_id) WHERE status = 'current';
CREATE INDEX inspection_draws_village ON inspection_draws (village_id);

-- The plots drawn, in draw order, with the area each had when drawn.
CREATE TABLE inspection_samples (
    id BIGSERIAL PRIMARY KEY,
    draw_id BIGINT NOT NULL REFERENCES inspection_draws (id),
    plot_id BIGINT NOT NULL REFERENCES plots (id),
    position INTEGER NOT NULL,
    area_units BIGINT NOT NULL,
    UNIQUE (draw_id, plot_id)
);
CREATE INDEX inspection_samples_plot ON inspection_samples (plot_id);

-- One result per sampled plot; client_id is made by the tablet, so a retried
-- submission is recognised.
CREATE TABLE inspection_results (
    id BIGSERIAL PRIMARY KEY,
    sample_id BIGINT NOT NULL UNIQUE REFERENCES inspection_samples (id),
    plot_id BIGINT NOT NULL REFERENCES plots (id),
    client_id TEXT NOT NULL UNIQUE,
    outcome TEXT NOT NULL CHECK (outcome IN ('verified', 'corrected', 'refused')),
    area_before_units BIGINT NOT NULL,
    area_after_units BIGINT,
    reason TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    inspected_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    latitude TEXT NOT NULL,
    longitude TEXT NOT NULL,
    accuracy_m INTEGER,
    location_check TEXT NOT NULL,
    distance_m INTEGER NOT NULL,
    recorded_by BIGINT REFERENCES users (id)
);
CREATE INDEX inspection_results_plot ON inspection_results (plot_id);

CREATE TABLE inspection_photos (
    id BIGSERIAL PRIMARY KEY,
    sample_id BIGINT NOT NULL REFERENCES inspection_samples (id),
    client_id TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BYTEA NOT NULL,
    uploaded_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX inspection_photos_sample ON inspection_photos (sample_id);
