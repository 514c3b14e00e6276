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
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Text,
        expires_at -> Text,
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
    }
}

diesel::table! {
    policy_subsidy_levels (id) {
        id -> BigInt,
        policy_id -> BigInt,
        level -> Text,
        amount_fen -> BigInt,
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
    }
}

diesel::joinable!(plots -> growers (grower_id));
diesel::joinable!(policies -> growers (grower_id));
diesel::joinable!(policy_subsidy_levels -> policies (policy_id));

diesel::allow_tables_to_appear_in_same_query!(
    areas,
    schemes,
    users,
    api_tokens,
    growers,
    plots,
    premium_batches,
    policies,
    policy_subsidy_levels,
    audit_log,
    roster_uploads,
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
