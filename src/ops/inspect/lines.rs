//! The report as lines: the command's text, the workbook and the page.

use super::*;

/// One figure of the report as people read it.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub section: &'static str,
    pub item: String,
    pub value: Figure,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Figure {
    Int(i64),
    Money(Fen),
    Text(String),
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Figure::Int(n) => write!(f, "{n}"),
            Figure::Money(m) => write!(f, "{m}元"),
            Figure::Text(t) => f.write_str(t),
        }
    }
}

fn count(n: usize) -> Figure {
    Figure::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn text(s: impl Into<String>) -> Figure {
    Figure::Text(s.into())
}

fn or_none(v: Option<String>) -> Figure {
    text(v.unwrap_or_else(|| "无".to_string()))
}

/// Every figure of the report, section by section.
pub fn lines(r: &Inspection) -> Vec<Line> {
    let mut out = Vec::new();
    let mut add = |section: &'static str, item: &str, value: Figure| {
        out.push(Line {
            section,
            item: item.to_string(),
            value,
        });
    };
    let s = "备份与恢复测试";
    add(s, "备份目录", text(&r.backup.root));
    add(s, "完整备份份数", count(r.backup.backups));
    match &r.backup.latest {
        None => add(s, "最近一次备份", text("无")),
        Some(b) => {
            add(s, "最近一次备份", text(&b.created_at));
            add(s, "距今小时数", Figure::Int(b.age_hours));
            add(s, "备份数据库", text(b.database));
            add(s, "恢复测试", text(b.restore_test_name));
            add(s, "恢复测试时间", or_none(b.restore_tested_at.clone()));
            if let Some(d) = &b.restore_detail {
                add(s, "恢复测试结果", text(d));
            }
        }
    }
    let s = "审计日志哈希链";
    add(
        s,
        "校验结果",
        text(if r.audit.intact { "完整" } else { "断开" }),
    );
    add(s, "已校验行数", Figure::Int(r.audit.rows));
    add(s, "本月新增行数", Figure::Int(r.audit.month_rows));
    if let Some(b) = &r.audit.broken {
        add(s, "断点", text(b.message()));
    } else {
        add(s, "链头哈希", text(&r.audit.head_hash));
    }
    let s = "登录失败与锁定";
    add(s, "登录失败次数", Figure::Int(r.logins.failures));
    add(s, "涉及用户名数", count(r.logins.accounts));
    add(s, "来源地址数", count(r.logins.addresses));
    add(s, "登录锁定次数", Figure::Int(r.logins.lockouts));
    add(
        s,
        "被锁定",
        or_none((!r.logins.locked.is_empty()).then(|| r.logins.locked.join("、"))),
    );
    add(
        s,
        "自助查询锁定次数",
        Figure::Int(r.logins.self_service_lockouts),
    );
    let s = "24小时查勘";
    add(s, "本月报案", Figure::Int(r.surveys.reported));
    add(s, "按时查勘", Figure::Int(r.surveys.on_time));
    add(s, "超时查勘", Figure::Int(r.surveys.late));
    add(s, "逾期未查勘", Figure::Int(r.surveys.overdue));
    add(s, "未到期未查勘", Figure::Int(r.surveys.pending));
    add(
        s,
        "报案即拒赔（不需查勘）",
        Figure::Int(r.surveys.declined_unsurveyed),
    );
    add(
        s,
        "按时率",
        or_none(r.surveys.on_time_percent.map(|p| format!("{p}%"))),
    );
    add(
        s,
        "超时查勘的赔案",
        or_none((!r.surveys.late_claims.is_empty()).then(|| r.surveys.late_claims.join("、"))),
    );
    add(
        s,
        "逾期未查勘的赔案",
        or_none(
            (!r.surveys.overdue_claims.is_empty()).then(|| r.surveys.overdue_claims.join("、")),
        ),
    );
    let s = "赔款支付时限";
    add(s, "统计截至", text(&r.payments.as_of));
    add(s, "逾期未付赔案", count(r.payments.overdue));
    add(s, "逾期欠付金额", Figure::Money(r.payments.owed));
    for p in &r.payments.claims {
        add(
            s,
            &format!("赔案 {}", p.claim_no),
            text(format!(
                "{}确认，应于{}前支付，逾期{}天，欠付{}元",
                p.agreed_on, p.due_on, p.days_overdue, p.owed
            )),
        );
    }
    let s = "系统错误";
    add(s, "错误次数", Figure::Int(r.errors.total));
    for c in &r.errors.by_code {
        add(s, &format!("错误代码 {}", c.name), Figure::Int(c.count));
    }
    if let Some(e) = &r.errors.last {
        add(
            s,
            "最近一次",
            // The route stays in the JSON: the page shows no API paths.
            text(format!(
                "{}，状态码{}，请求编号 {}",
                e.at, e.status, e.request_id
            )),
        );
    }
    let s = "数据库大小与增长";
    add(s, "数据库", text(r.storage.database));
    add(s, "数据库大小", text(&r.storage.db_size));
    add(s, "数据库字节数", Figure::Int(r.storage.db_bytes));
    add(
        s,
        &format!("{}记录的字节数", r.storage.previous_month),
        or_none(r.storage.previous_bytes.map(|b| b.to_string())),
    );
    add(
        s,
        "增长",
        or_none(
            r.storage
                .growth_bytes
                .map(|g| match r.storage.growth_percent {
                    Some(p) => format!("{}（{p}%）", signed_size(g)),
                    None => signed_size(g),
                }),
        ),
    );
    let s = "磁盘剩余空间";
    for p in &r.disk.places {
        add(
            s,
            p.what,
            text(format!(
                "{}：剩余{}，占{}%（{}）",
                p.path, p.free_size, p.free_percent, p.status_name
            )),
        );
    }
    let s = "证书有效期";
    if r.certificate.configured {
        add(s, "证书文件", or_none(r.certificate.path.clone()));
        add(s, "到期时间", or_none(r.certificate.not_after.clone()));
        add(
            s,
            "剩余天数",
            r.certificate
                .days_left
                .map_or_else(|| text("无"), Figure::Int),
        );
    } else {
        add(s, "证书", text("未配置"));
    }
    out
}

/// The report as text for the terminal.
pub fn to_text(r: &Inspection) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "果保 {} 月度巡检（{} 至 {}）：{}",
        r.month, r.from, r.to, r.status_name
    );
    let _ = writeln!(out, "巡检时间：{}", r.computed_at);
    let all = lines(r);
    for sec in &r.sections {
        let _ = writeln!(out);
        let _ = writeln!(out, "【{}】{}：{}", sec.title, sec.status_name, sec.note);
        for l in all.iter().filter(|l| l.section == sec.title) {
            let _ = writeln!(out, "  {}：{}", l.item, l.value);
        }
    }
    out
}
