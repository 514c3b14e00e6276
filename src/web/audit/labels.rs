//! The audit log's action and record kinds in Chinese. A name not listed
//! here (a new action) is shown as it is stored.

/// Actions, in the order the filter lists them.
pub const ACTIONS: &[(&str, &str)] = &[
    ("create", "新增"),
    ("update", "修改"),
    ("delete", "删除"),
    ("read", "查看个人信息"),
    ("export", "导出"),
    ("import", "导入花名册"),
    ("login", "登录"),
    ("login_failed", "登录失败"),
    ("lockout", "账户锁定"),
    ("self_lookup", "农户自助查询"),
    ("unlock", "解除锁定"),
    ("logout", "退出登录"),
    ("password_change", "修改密码"),
    ("password_reset", "重置密码"),
    ("account_create", "新建账户"),
    ("account_update", "修改账户"),
    ("deactivate", "停用账户"),
    ("token_revoke", "吊销令牌"),
    ("collect", "收取保费"),
    ("correct_collection", "更正收费日期"),
    ("issue", "出单"),
    ("cancel", "注销保单"),
    ("expire", "保单到期"),
    ("confirm", "确认到账"),
    ("boundary", "更新地块边界"),
    ("report", "报案"),
    ("report_duplicate", "同日重复报案（附原因）"),
    ("report_event", "登记灾害事件"),
    ("dispatch", "派工"),
    ("survey", "查勘定损"),
    ("approve", "核赔通过"),
    ("agree", "达成赔付协议"),
    ("pay", "支付赔款"),
    ("payment", "登记付款"),
    ("photo", "上传现场照片"),
    ("lock", "锁定结算表"),
    ("demo", "载入演示数据"),
    ("objection", "登记公示异议"),
    ("resolve", "处理公示异议"),
    ("draw", "验标抽样"),
    ("redraw", "重新抽样"),
    ("inspect", "登记验标结果"),
];

/// Kinds of record, in the order the filter lists them.
pub const ENTITIES: &[(&str, &str)] = &[
    ("grower", "农户"),
    ("plot", "地块"),
    ("policy", "保单"),
    ("premium_batch", "保费交付批次"),
    ("claim", "理赔案件"),
    ("claim_event", "灾害事件"),
    ("claim_payment", "赔款支付"),
    ("notice", "公示"),
    ("notice_objection", "公示异议"),
    ("scheme", "险种方案"),
    ("area", "行政区划"),
    ("roster_import", "花名册导入"),
    ("subsidy_statement", "补贴结算表"),
    ("subsidy_request", "补贴申请"),
    ("subsidy_disbursement", "补贴拨付"),
    ("subsidy_adjustment", "补贴调整"),
    ("reconciliation", "对账"),
    ("user", "账户"),
    ("session", "会话"),
    ("api_token", "接口令牌"),
    ("export", "导出文件"),
    ("inspection_draw", "验标抽样"),
    ("inspection_sample", "验标抽样地块"),
];

/// Fields a `read` row names, in Chinese.
const FIELDS: &[(&str, &str)] = &[
    ("id_number", "身份证号"),
    ("phone", "电话"),
    ("bank_account", "银行账号"),
    ("reporter_phone", "报案人电话"),
    ("name", "姓名"),
];

fn label<'a>(table: &[(&str, &'a str)], name: &'a str) -> &'a str {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, l)| *l)
}

/// The one mapping of the log's names to Chinese: the action, the kind of
/// record, and who did it when it was not a person (系统).
pub fn action(name: &str) -> &str {
    label(ACTIONS, name)
}

pub fn entity(name: &str) -> &str {
    label(ENTITIES, name)
}

pub fn field(name: &str) -> &str {
    label(FIELDS, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_read_in_chinese_and_others_as_stored() {
        assert_eq!(action("update"), "修改");
        assert_eq!(action("login_failed"), "登录失败");
        assert_eq!(entity("premium_batch"), "保费交付批次");
        assert_eq!(action("something_new"), "something_new");
        for (n, l) in ACTIONS.iter().chain(ENTITIES) {
            assert!(!l.is_ascii(), "{n} has a Chinese label");
        }
    }

    /// The arguments of the call whose `(` is at `open`, split at its
    /// top-level commas (string literals and nesting respected).
    fn call_args(src: &str, open: usize) -> Vec<String> {
        let mut args = vec![String::new()];
        let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
        for c in src[open..].chars() {
            if in_str {
                args.last_mut().unwrap().push(c);
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '(' | '[' | '{' => {
                    depth += 1;
                    if depth == 1 {
                        continue;
                    }
                }
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => {
                    args.push(String::new());
                    continue;
                }
                '"' => in_str = true,
                _ => {}
            }
            args.last_mut().unwrap().push(c);
        }
        args.into_iter().map(|a| a.trim().to_string()).collect()
    }

    /// A plain string literal's text.
    fn literal(arg: &str) -> Option<&str> {
        arg.strip_prefix('"')?.strip_suffix('"')
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Every action and kind of record the code writes to the log, found
    /// in the source: the calls of `audit::record` / `audit::entry`
    /// (action, record), `audit::updated` / `deleted` / `accessed`
    /// (record), and the `action: "…"` / `entity: "…"` fields of rows
    /// written in bulk.
    #[test]
    fn every_action_and_record_the_code_writes_has_a_chinese_label() {
        let mut files = Vec::new();
        rust_files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let (mut actions, mut entities) = (Vec::new(), Vec::new());
        for f in files.iter().filter(|f| !f.ends_with("web/audit/labels.rs")) {
            let src = std::fs::read_to_string(f).unwrap();
            for (call, action_at, entity_at) in [
                ("audit::record(", Some(2), 3),
                ("audit::entry(", Some(2), 3),
                ("audit::updated(", None, 2),
                ("audit::deleted(", None, 2),
                ("audit::accessed(", None, 2),
            ] {
                for (at, _) in src.match_indices(call) {
                    let args = call_args(&src, at + call.len() - 1);
                    let name = |i: usize| args.get(i).and_then(|a| literal(a)).map(str::to_string);
                    if let Some(a) = action_at.and_then(name) {
                        actions.push((a, f.clone()));
                    }
                    if let Some(e) = name(entity_at) {
                        entities.push((e, f.clone()));
                    }
                }
            }
            for (field, out) in [("action: \"", &mut actions), ("entity: \"", &mut entities)] {
                for (at, _) in src.match_indices(field) {
                    let rest = &src[at + field.len()..];
                    let name = &rest[..rest.find('"').unwrap()];
                    // A form's `action: "/finance/lock"` is a path, not an audit action.
                    if !name.starts_with('/') {
                        out.push((name.to_string(), f.clone()));
                    }
                }
            }
        }
        for (name, _) in [("update", ()), ("delete", ()), ("read", ())] {
            actions.push((name.to_string(), "audit.rs".into()));
        }
        entities.push((
            crate::app::audit::IMPORT_ENTITY.to_string(),
            "audit.rs".into(),
        ));
        assert!(
            actions.len() > 40 && entities.len() > 40,
            "the scan finds the calls"
        );
        let known = |table: &[(&str, &str)], n: &str| table.iter().any(|(c, _)| *c == n);
        let mut missing: Vec<String> = actions
            .iter()
            .filter(|(a, _)| !known(ACTIONS, a))
            .map(|(a, f)| format!("action {a:?} ({})", f.display()))
            .chain(
                entities
                    .iter()
                    .filter(|(e, _)| !known(ENTITIES, e))
                    .map(|(e, f)| format!("record {e:?} ({})", f.display())),
            )
            .collect();
        missing.dedup();
        assert!(missing.is_empty(), "no Chinese label: {missing:#?}");
    }
}
