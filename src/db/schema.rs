// Kept by hand: one schema for both backends (see migrations/{sqlite,postgres}).

diesel::table! {
    areas (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        level -> Text,
        parent_id -> Nullable<BigInt>,
        target_mu_units -> Nullable<BigInt>,
    }
}

diesel::table! {
    schemes (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        crop -> Text,
        year -> Integer,
        definition -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        township_id -> Nullable<BigInt>,
        active -> Bool,
        created_at -> Text,
        must_change_password -> Bool,
        password_changed_at -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Text,
        expires_at -> Text,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Text,
        last_seen_at -> Text,
        client_addr -> Nullable<Text>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_start -> Text,
        locked_until -> Nullable<Text>,
    }
}

diesel::table! {
    growers (id) {
        id -> BigInt,
        year -> Integer,
        id_number -> Text,
        name -> Text,
        phone -> Text,
        bank_name -> Text,
        bank_account -> Text,
        village_id -> BigInt,
        township_id -> BigInt,
        version -> Integer,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    plots (id) {
        id -> BigInt,
        code -> Text,
        grower_id -> BigInt,
        scheme_id -> BigInt,
        village_id -> BigInt,
        township_id -> BigInt,
        variety -> Text,
        tree_age -> Integer,
        tree_count -> Integer,
        fruit_per_tree -> Integer,
        area_units -> BigInt,
        attributes -> Text,
        boundary -> Nullable<Text>,
        boundary_area_units -> Nullable<BigInt>,
        eligible -> Bool,
        reasons -> Text,
        version -> Integer,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    premium_batches (id) {
        id -> BigInt,
        township_id -> BigInt,
        scheme_id -> BigInt,
        amount_fen -> BigInt,
        policy_count -> Integer,
        handed_over_on -> Text,
        receipt_no -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Text,
    }
}

diesel::table! {
    policies (id) {
        id -> BigInt,
        policy_no -> Text,
        scheme_id -> BigInt,
        grower_id -> BigInt,
        township_id -> BigInt,
        status -> Text,
        insured_area_units -> BigInt,
        sum_insured_fen -> BigInt,
        premium_fen -> BigInt,
        grower_share_fen -> BigInt,
        subsidy_fen -> BigInt,
        share_collected_on -> Nullable<Text>,
        cover_start -> Nullable<Text>,
        cover_end -> Nullable<Text>,
        batch_id -> Nullable<BigInt>,
        version -> Integer,
        created_at -> Text,
        updated_at -> Text,
        subsidy_central_fen -> Nullable<BigInt>,
        subsidy_provincial_fen -> Nullable<BigInt>,
        subsidy_city_fen -> Nullable<BigInt>,
        subsidy_county_fen -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Text,
        user_id -> Nullable<BigInt>,
        username -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<BigInt>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
    }
}

diesel::table! {
    audit_chain (id) {
        id -> BigInt,
        last_id -> BigInt,
        last_hash -> Text,
    }
}

diesel::joinable!(plots -> growers (grower_id));
diesel::joinable!(policies -> growers (grower_id));

diesel::allow_tables_to_appear_in_same_query!(
    areas,
    schemes,
    users,
    api_tokens,
    sessions,
    growers,
    plots,
    premium_batches,
    policies,
    audit_log,
    audit_chain,
    roster_uploads,
    claim_events,
    claims,
    claim_surveys,
    claim_photos,
    claim_payments,
);

diesel::table! {
    roster_uploads (id) {
        id -> BigInt,
        township_id -> BigInt,
        scheme_id -> BigInt,
        user_id -> Nullable<BigInt>,
        filename -> Text,
        sha256 -> Text,
        content -> Binary,
        status -> Text,
        summary -> Text,
        created_at -> Text,
        committed_at -> Nullable<Text>,
    }
}

diesel::table! {
    claim_events (id) {
        id -> BigInt,
        scheme_id -> BigInt,
        name -> Text,
        peril -> Text,
        occurred_at -> Text,
        description -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Text,
    }
}

diesel::table! {
    claims (id) {
        id -> BigInt,
        claim_no -> Text,
        scheme_id -> BigInt,
        policy_id -> BigInt,
        plot_id -> BigInt,
        grower_id -> BigInt,
        township_id -> BigInt,
        event_id -> Nullable<BigInt>,
        peril -> Text,
        occurred_at -> Text,
        reported_at -> Text,
        reporter_name -> Text,
        reporter_phone -> Text,
        report_channel -> Text,
        description -> Text,
        status -> Text,
        decline_code -> Nullable<Text>,
        decline_reason -> Nullable<Text>,
        survey_due_at -> Text,
        adjuster_id -> Nullable<BigInt>,
        co_surveyor_id -> Nullable<BigInt>,
        dispatched_at -> Nullable<Text>,
        surveyed_at -> Nullable<Text>,
        payout_fen -> Nullable<BigInt>,
        review_note -> Text,
        approved_at -> Nullable<Text>,
        agreed_on -> Nullable<Text>,
        payment_due_on -> Nullable<Text>,
        paid_fen -> BigInt,
        version -> Integer,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    claim_surveys (id) {
        id -> BigInt,
        claim_id -> BigInt,
        client_id -> Text,
        surveyed_at -> Text,
        received_at -> Text,
        latitude -> Text,
        longitude -> Text,
        accuracy_m -> Nullable<Integer>,
        location_check -> Text,
        distance_m -> Integer,
        damaged_trees -> Integer,
        affected_area_units -> BigInt,
        loss_rate_bp -> BigInt,
        payout_fen -> BigInt,
        payout_detail -> Text,
        adjuster_id -> BigInt,
        co_surveyor_id -> BigInt,
        grower_signed_name -> Text,
        grower_signature -> Text,
        notes -> Text,
        submitted_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    claim_photos (id) {
        id -> BigInt,
        claim_id -> BigInt,
        client_id -> Text,
        sha256 -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        content -> Nullable<Binary>,
        reused_claim_id -> Nullable<BigInt>,
        uploaded_by -> Nullable<BigInt>,
        created_at -> Text,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        original_sha256 -> Nullable<Text>,
    }
}

diesel::table! {
    claim_payments (id) {
        id -> BigInt,
        claim_id -> BigInt,
        amount_fen -> BigInt,
        paid_on -> Text,
        bank_reference -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Text,
    }
}

// ---- finance bureau (migration 2026-11-22-000004_finance)

diesel::table! {
    subsidy_statements (id) {
        id -> BigInt,
        scheme_id -> BigInt,
        policy_count -> BigInt,
        subsidy_fen -> BigInt,
        signed_off_by -> Text,
        note -> Text,
        locked_by -> Nullable<BigInt>,
        locked_at -> Text,
    }
}

diesel::table! {
    statement_townships (id) {
        id -> BigInt,
        statement_id -> BigInt,
        township_id -> BigInt,
        policies -> BigInt,
        mu_units -> BigInt,
        premium_fen -> BigInt,
        grower_share_fen -> BigInt,
        subsidy_fen -> BigInt,
    }
}

diesel::table! {
    statement_levels (id) {
        id -> BigInt,
        statement_id -> BigInt,
        township_id -> BigInt,
        level -> Text,
        amount_fen -> BigInt,
    }
}

diesel::table! {
    subsidy_adjustments (id) {
        id -> BigInt,
        statement_id -> BigInt,
        township_id -> BigInt,
        level -> Text,
        amount_fen -> BigInt,
        kind -> Text,
        policy_id -> Nullable<BigInt>,
        reason -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Text,
    }
}

diesel::table! {
    subsidy_disbursements (id) {
        id -> BigInt,
        scheme_id -> BigInt,
        township_id -> BigInt,
        level -> Text,
        amount_fen -> BigInt,
        paid_on -> Text,
        voucher_no -> Text,
        note -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Text,
    }
}

diesel::table! {
    subsidy_requests (id) {
        id -> BigInt,
        scheme_id -> BigInt,
        request_no -> Text,
        note -> Text,
        policy_count -> BigInt,
        eligible_count -> BigInt,
        eligible_subsidy_fen -> BigInt,
        created_by -> Nullable<BigInt>,
        created_at -> Text,
    }
}

diesel::table! {
    subsidy_request_items (id) {
        id -> BigInt,
        request_id -> BigInt,
        policy_id -> BigInt,
        eligible -> Bool,
        reason -> Text,
        subsidy_fen -> BigInt,
    }
}

diesel::table! {
    reconciliations (id) {
        id -> BigInt,
        scheme_id -> BigInt,
        source -> Text,
        filename -> Text,
        summary -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Text,
    }
}

diesel::table! {
    reconciliation_lines (id) {
        id -> BigInt,
        reconciliation_id -> BigInt,
        policy_no -> Text,
        status -> Text,
        ours_fen -> Nullable<BigInt>,
        theirs_fen -> Nullable<BigInt>,
        row_no -> Nullable<BigInt>,
    }
}

diesel::table! {
    premium_batch_confirmations (id) {
        id -> BigInt,
        batch_id -> BigInt,
        amount_fen -> BigInt,
        confirmed_on -> Text,
        note -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Text,
    }
}

diesel::joinable!(claims -> growers (grower_id));
diesel::joinable!(subsidy_request_items -> policies (policy_id));
diesel::joinable!(subsidy_adjustments -> policies (policy_id));

// Only pairs not declared above: the new tables with each other and with policies.
diesel::allow_tables_to_appear_in_same_query!(
    policies,
    subsidy_statements,
    statement_townships,
    statement_levels,
    subsidy_adjustments,
    subsidy_disbursements,
    subsidy_requests,
    subsidy_request_items,
    reconciliations,
    reconciliation_lines,
    premium_batch_confirmations,
);

// ---- public notices (migration 2026-12-02-000008_notices)

diesel::table! {
    notices (id) {
        id -> BigInt,
        kind -> Text,
        scheme_id -> BigInt,
        township_id -> Nullable<BigInt>,
        village_id -> Nullable<BigInt>,
        event_id -> Nullable<BigInt>,
        title -> Text,
        starts_on -> Text,
        ends_on -> Text,
        place -> Text,
        contact_phone -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Text,
    }
}

diesel::table! {
    notice_items (id) {
        id -> BigInt,
        notice_id -> BigInt,
        policy_id -> Nullable<BigInt>,
        claim_id -> Nullable<BigInt>,
        grower_id -> BigInt,
        grower_name -> Text,
        id_number_masked -> Text,
        phone_masked -> Text,
        village_name -> Text,
        variety -> Text,
        insured_area_units -> BigInt,
        sum_insured_fen -> BigInt,
        premium_fen -> BigInt,
        grower_share_fen -> BigInt,
        affected_area_units -> BigInt,
        loss_rate_bp -> BigInt,
        payout_fen -> BigInt,
    }
}

diesel::table! {
    notice_photos (id) {
        id -> BigInt,
        notice_id -> BigInt,
        sha256 -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        content -> Nullable<Binary>,
        uploaded_by -> Nullable<BigInt>,
        created_at -> Text,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
    }
}

diesel::table! {
    notice_objections (id) {
        id -> BigInt,
        notice_id -> BigInt,
        raised_by -> Text,
        grower_id -> Nullable<BigInt>,
        plot_id -> Nullable<BigInt>,
        content -> Text,
        raised_on -> Text,
        recorded_by -> Nullable<BigInt>,
        created_at -> Text,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<BigInt>,
        resolved_at -> Nullable<Text>,
    }
}

diesel::joinable!(notice_items -> notices (notice_id));
diesel::joinable!(notice_objections -> notices (notice_id));
diesel::joinable!(notice_photos -> notices (notice_id));

diesel::allow_tables_to_appear_in_same_query!(
    notices,
    notice_items,
    notice_photos,
    notice_objections,
);
diesel::allow_tables_to_appear_in_same_query!(notices, areas);
diesel::allow_tables_to_appear_in_same_query!(notice_items, policies);
diesel::allow_tables_to_appear_in_same_query!(notice_items, claims);
diesel::allow_tables_to_appear_in_same_query!(notice_items, growers);

// ---- pre-cover inspection (migration 2026-12-02-000009_inspection)

diesel::table! {
    inspection_draws (id) {
        id -> BigInt,
        scheme_id -> BigInt,
        village_id -> BigInt,
        township_id -> BigInt,
        mode -> Text,
        percent -> Text,
        seed -> BigInt,
        population_plots -> Integer,
        population_area_units -> BigInt,
        required_area_units -> BigInt,
        sample_plots -> Integer,
        sample_area_units -> BigInt,
        status -> Text,
        reason -> Text,
        superseded_by -> Nullable<BigInt>,
        drawn_by -> Nullable<BigInt>,
        drawn_at -> Text,
    }
}

diesel::table! {
    inspection_samples (id) {
        id -> BigInt,
        draw_id -> BigInt,
        plot_id -> BigInt,
        position -> Integer,
        area_units -> BigInt,
    }
}

diesel::table! {
    inspection_results (id) {
        id -> BigInt,
        sample_id -> BigInt,
        plot_id -> BigInt,
        client_id -> Text,
        outcome -> Text,
        area_before_units -> BigInt,
        area_after_units -> Nullable<BigInt>,
        reason -> Text,
        notes -> Text,
        inspected_at -> Text,
        received_at -> Text,
        latitude -> Text,
        longitude -> Text,
        accuracy_m -> Nullable<Integer>,
        location_check -> Text,
        distance_m -> Integer,
        recorded_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    inspection_photos (id) {
        id -> BigInt,
        sample_id -> BigInt,
        client_id -> Text,
        sha256 -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        content -> Nullable<Binary>,
        uploaded_by -> Nullable<BigInt>,
        created_at -> Text,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        original_sha256 -> Nullable<Text>,
    }
}

diesel::joinable!(inspection_samples -> inspection_draws (draw_id));
diesel::joinable!(inspection_samples -> plots (plot_id));
diesel::joinable!(inspection_results -> inspection_samples (sample_id));

diesel::allow_tables_to_appear_in_same_query!(
    inspection_draws,
    inspection_samples,
    inspection_results,
    inspection_photos,
);
diesel::allow_tables_to_appear_in_same_query!(inspection_draws, plots);
diesel::allow_tables_to_appear_in_same_query!(inspection_draws, growers);
diesel::allow_tables_to_appear_in_same_query!(inspection_draws, policies);
diesel::allow_tables_to_appear_in_same_query!(inspection_draws, areas);
diesel::allow_tables_to_appear_in_same_query!(inspection_samples, plots);
diesel::allow_tables_to_appear_in_same_query!(inspection_samples, growers);
diesel::allow_tables_to_appear_in_same_query!(inspection_samples, policies);
diesel::allow_tables_to_appear_in_same_query!(inspection_samples, areas);
diesel::allow_tables_to_appear_in_same_query!(inspection_results, plots);
diesel::allow_tables_to_appear_in_same_query!(inspection_results, growers);
diesel::allow_tables_to_appear_in_same_query!(inspection_results, policies);
diesel::allow_tables_to_appear_in_same_query!(inspection_results, areas);
diesel::allow_tables_to_appear_in_same_query!(inspection_photos, plots);
diesel::allow_tables_to_appear_in_same_query!(inspection_photos, growers);
diesel::allow_tables_to_appear_in_same_query!(inspection_photos, policies);
diesel::allow_tables_to_appear_in_same_query!(inspection_photos, areas);

// ---- a report's token and duplicate reason (migration 2026-12-03-000014_claim_report_guards)

diesel::table! {
    claim_report_marks (claim_id) {
        claim_id -> BigInt,
        client_id -> Nullable<Text>,
        duplicate_reason -> Nullable<Text>,
    }
}

// ---- server faults answered with a 5xx (migration 2026-12-05-000018_error_events)

diesel::table! {
    error_events (id) {
        id -> BigInt,
        at -> Text,
        request_id -> Text,
        method -> Text,
        route -> Text,
        status -> Integer,
        code -> Text,
        message -> Text,
        user_id -> Nullable<BigInt>,
    }
}

// ---- the monthly inspection's record (migration 2026-12-05-000019_ops_inspections)

diesel::table! {
    ops_inspections (id) {
        id -> BigInt,
        month -> Text,
        computed_at -> Text,
        db_bytes -> BigInt,
        report_json -> Text,
    }
}
