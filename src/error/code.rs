//! Every stable error code the system answers with, and the one Chinese
//! sentence that says what it means. API clients and tests match on the
//! code (`"error"` and `fields[].code` in a JSON reply, the CLI's `--json`);
//! people read the message. A use case may add the particulars (the row,
//! the value, the limit) in its own message; the code and its meaning stay
//! the same. Codes are snake_case, unique, and never renamed once shipped.
//!
//! Two families of codes are not listed here because they are data, not
//! program text: eligibility reasons, which are named after the attributes a
//! scheme defines (`<attribute>_below_min`), and claim decline reasons, which
//! the claim rules record with the payout.

use serde::{Serialize, Serializer};
use std::fmt;

macro_rules! error_codes {
    ($($variant:ident = $code:literal : $message:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order written below.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable machine code.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// What the code means, in Chinese.
            pub const fn message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)*
                }
            }
        }
    };
}

error_codes! {
    AdjusterInvalid = "adjuster_invalid": "请指定有效的保险公司查勘员",
    AdjustmentBelowZero = "adjustment_below_zero": "调整后应拨补贴将为负数",
    AffectedAreaInvalid = "affected_area_invalid": "受灾面积必须大于0",
    AffectedAreaTooLarge = "affected_area_too_large": "受灾面积超过地块的投保面积",
    AgreedOnInvalid = "agreed_on_invalid": "农户确认日期应在审核通过日与今天之间",
    AmountAboveOwed = "amount_above_owed": "支付金额超过尚未支付的赔款",
    AmountExceedsOutstanding = "amount_exceeds_outstanding": "拨付金额超过尚未拨付的补贴",
    AmountInvalid = "amount_invalid": "支付金额必须大于0",
    AmountTotalTooLarge = "amount_total_too_large": "对账文件的金额合计过大，请检查金额列是否填错",
    AmountZero = "amount_zero": "调整金额不能为0",
    AreaCodeInvalid = "area_code_invalid": "行政区划代码应为不超过20位的数字",
    AreaCodeTaken = "area_code_taken": "区划代码已存在",
    AreaLevelInvalid = "area_level_invalid": "区划层级应为县、乡镇或村",
    AreaNameRequired = "area_name_required": "请填写名称",
    AreaNotANumber = "area_not_a_number": "面积不是有效的数字",
    AreaNotPositive = "area_not_positive": "面积必须大于0",
    AreaParentRequired = "area_parent_required": "请填写上级区划代码",
    AreaParentUnknown = "area_parent_unknown": "未找到上级区划",
    AreaTooLarge = "area_too_large": "面积过大（超过100000亩）",
    AreaTooPrecise = "area_too_precise": "面积最多保留4位小数",
    AttributeNameMissing = "attribute_name_missing": "属性名不能为空",
    AttributeNotNumeric = "attribute_not_numeric": "地块属性应为非负数字",
    AttributesTooMany = "attributes_too_many": "地块属性项过多",
    BackupDatabaseMismatch = "backup_database_mismatch": "备份的数据库类型与恢复目标不同（SQLite的备份只能恢复到SQLite，PostgreSQL的只能恢复到PostgreSQL）",
    BackupInvalid = "backup_invalid": "备份目录不完整或已损坏",
    BackupNotFound = "backup_not_found": "未找到完整的备份",
    BackupSchemaNewer = "backup_schema_newer": "备份的数据库版本比本程序新，请用相同或更新版本的程序恢复",
    BackupToolMissing = "backup_tool_missing": "未找到PostgreSQL备份工具（pg_dump或pg_restore），请安装postgresql-client",
    BankAccountInvalid = "bank_account_invalid": "银行账号应为10至30位数字（赔款将打入此账户）",
    BankAccountStoredAsNumber = "bank_account_stored_as_number": "银行账号被存成了数字，可能已丢失位数，请把该列设为文本后重新填写",
    BankReferenceDuplicate = "bank_reference_duplicate": "该银行流水号已登记过，同一笔转账不能登记两次",
    BankReferenceMissing = "bank_reference_missing": "请填写银行交易流水号",
    BatchConfirmed = "batch_confirmed": "该批次已经确认过，不能重复确认",
    BatchEmpty = "batch_empty": "没有已收费且未交付的保单",
    BatchMixedTownships = "batch_mixed_townships": "一个交付批次只能包含同一乡镇的保单",
    BoundaryAntimeridian = "boundary_antimeridian": "边界跨越了180度经线",
    BoundaryBadPosition = "boundary_bad_position": "边界坐标无效",
    BoundaryCheckTimeout = "boundary_check_timeout": "边界检查超时，请按村拆分后分批上传",
    BoundaryDegenerate = "boundary_degenerate": "边界面积为零（各点共线或重合）",
    BoundaryHoleCrossesShell = "boundary_hole_crosses_shell": "边界的内洞与外边界相交",
    BoundaryHoleInHole = "boundary_hole_in_hole": "边界的内洞位于另一个内洞之中",
    BoundaryHoleOutsideShell = "boundary_hole_outside_shell": "边界的内洞不在外边界之内",
    BoundaryHolesCross = "boundary_holes_cross": "边界的两个内洞相交",
    BoundaryNotClosed = "boundary_not_closed": "边界没有闭合（首尾坐标应相同）",
    BoundaryNotGeojson = "boundary_not_geojson": "边界不是有效的GeoJSON",
    BoundaryNotPolygon = "boundary_not_polygon": "边界应为面（Polygon或MultiPolygon）",
    BoundaryOutOfRange = "boundary_out_of_range": "边界坐标超出经纬度范围",
    BoundarySelfIntersecting = "boundary_self_intersecting": "边界自相交",
    BoundaryTooFewPoints = "boundary_too_few_points": "边界的点太少，至少需要3个不同的点",
    BoundaryTooLarge = "boundary_too_large": "边界范围过大",
    BoundaryTooManyVertices = "boundary_too_many_vertices": "边界的顶点过多",
    Busy = "busy": "系统繁忙，本次操作没有保存，请稍后重试",
    CellError = "cell_error": "单元格含有公式错误（如#N/A、#VALUE!）",
    ChannelInvalid = "channel_invalid": "报案方式应为：电话报案、上门报案、系统接口或批量登记",
    ClaimStatusInvalid = "claim_status_invalid": "赔案当前状态不允许此操作",
    ClientIdInvalid = "client_id_invalid": "客户端编号无效",
    ClientIdReused = "client_id_reused": "该查勘记录编号已用于其他赔案",
    CoSurveyorInvalid = "co_surveyor_invalid": "请指定有效的县林业局共同查勘人员",
    CollectionOutOfSeason = "collection_out_of_season": "收费日期不在方案的收费期内（方案年度1月1日至保险期间终止日，且不晚于今天）",
    ColumnsMissing = "columns_missing": "表格缺少必需的列",
    ConfirmationMissing = "confirmation_missing": "查勘员和县林业局共同查勘人员都须确认查勘结果",
    ConfirmRequired = "confirm_required": "请先确认这一操作",
    CsrfInvalid = "csrf_invalid": "页面已过期或请求来源无效，请刷新页面后重试",
    DamagedTreesInvalid = "damaged_trees_invalid": "请填写受损株数（0或正整数）",
    DamagedTreesTooMany = "damaged_trees_too_many": "受损株数超过地块登记的株数",
    DatabaseNotEmpty = "database_not_empty": "数据库中已有行政区划数据，演示数据只能载入空数据库",
    DatabaseUnavailable = "database_unavailable": "数据库暂时无法连接，本次操作没有保存，系统会自动重连，请稍后重试",
    DateInFuture = "date_in_future": "交付日期不能晚于今天",
    DateInvalid = "date_invalid": "日期格式应为YYYY-MM-DD",
    DeclineUnconfirmed = "decline_unconfirmed": "审核结果为拒赔，请先确认",
    DemoUnavailable = "demo_unavailable": "此版本编译时未包含演示数据（demo 功能）",
    DryRunInvalid = "dry_run_invalid": "参数dry_run的取值无效",
    Duplicate = "duplicate": "同样的记录刚刚已被提交（可能是重复提交或他人同时操作），请刷新页面查看",
    DuplicateInFile = "duplicate_in_file": "文件中有重复的行",
    DuplicateReport = "duplicate_report": "同一地块同一天已有报案，如确需再次报案请填写原因",
    EventEmpty = "event_empty": "请至少列出一个受灾保单",
    EventNameMissing = "event_name_missing": "请填写灾害事件名称，如“6月12日冰雹”",
    EventPlotDuplicate = "event_plot_duplicate": "同一地块在本次报案中重复",
    ExclusionUnconfirmed = "exclusion_unconfirmed": "所选原因属于责任免除，登记后将立即拒赔，请先确认",
    FieldTooLong = "field_too_long": "表单项过长",
    FileCorrupt = "file_corrupt": "文件已损坏，无法读取",
    FileEmpty = "file_empty": "文件是空的",
    FileEncrypted = "file_encrypted": "文件已加密，请取消密码保护后重新上传",
    FileMissing = "file_missing": "请选择要导入的对账文件",
    FileTooLarge = "file_too_large": "文件超过大小上限",
    FileUnreadable = "file_unreadable": "无法读取文件",
    FileZipBomb = "file_zip_bomb": "文件解压后体积异常，已拒绝读取",
    Forbidden = "forbidden": "您没有权限执行此操作",
    FormInvalid = "form_invalid": "表单内容无法读取",
    FruitPerTreeInvalid = "fruit_per_tree_invalid": "单株挂果数应为非负整数",
    FruitPerTreeRequired = "fruit_per_tree_required": "请填写单株挂果数",
    GeojsonInvalid = "geojson_invalid": "GeoJSON必须是UTF-8文本",
    GeojsonNotCollection = "geojson_not_collection": "应为要素集合（FeatureCollection），每个要素的属性中写明地块编号（code）",
    GeojsonTooManyFeatures = "geojson_too_many_features": "GeoJSON文件要素过多，请按村拆分后分批上传",
    GeojsonTooManyVertices = "geojson_too_many_vertices": "GeoJSON文件顶点过多，请按村拆分后分批上传，或先抽稀边界",
    GpsMissing = "gps_missing": "没有获取到GPS定位，请在地块现场打开定位后再提交",
    GrowerHasPolicy = "grower_has_policy": "该农户已有已收费或已签发的保单，不能删除；如需退保请由承保人员注销保单",
    GrowerNameMissing = "grower_name_missing": "请填写签字确认的农户姓名",
    IdInOtherTownship = "id_in_other_township": "该身份证号本年度已在其他乡镇登记，不能重复投保",
    IdNameConflict = "id_name_conflict": "同一身份证号在文件中对应了不同的姓名",
    IdNumberBirthDate = "id_number_birth_date": "身份证号中的出生日期无效",
    IdNumberCharacters = "id_number_characters": "身份证号只能包含数字和末位X",
    IdNumberChecksum = "id_number_checksum": "身份证号校验位不正确",
    IdNumberDuplicate = "id_number_duplicate": "同一年度已登记过该身份证号",
    IdNumberLength = "id_number_length": "身份证号应为18位",
    IdNumberRegion = "id_number_region": "身份证号的地区码无效",
    IdNumberStoredAsNumber = "id_number_stored_as_number": "身份证号被存成了数字，可能已丢失位数，请把该列设为文本后重新填写",
    InspectionAlreadyRecorded = "inspection_already_recorded": "该抽样地块已登记验标结果",
    InspectionAreaInvalid = "inspection_area_invalid": "更正面积无效",
    InspectionDrawSuperseded = "inspection_draw_superseded": "该抽样已被重新抽取，请使用最新的抽样",
    InspectionIncomplete = "inspection_incomplete": "本村验标抽样尚未完成，不能签发",
    InspectionModeInvalid = "inspection_mode_invalid": "投保方式应为 individual（农户个人投保）或 village（村集体组织投保）",
    InspectionNothingToDraw = "inspection_nothing_to_draw": "本村没有待签发的投保地块，无需抽样",
    InspectionOutcomeInvalid = "inspection_outcome_invalid": "验标结果应为 verified（核实无误）、corrected（面积更正）或 refused（不予承保）",
    InspectionReasonRequired = "inspection_reason_required": "请填写原因",
    InspectionSeedInvalid = "inspection_seed_invalid": "随机种子应为0至9223372036854775807之间的整数",
    Internal = "internal": "系统内部错误，本次操作没有保存，请稍后重试或联系管理员",
    InternalPanic = "internal_panic": "系统内部错误（已回滚），本次操作没有保存",
    JsonInvalid = "json_invalid": "请求体必须是JSON（Content-Type: application/json）",
    LevelUnknown = "level_unknown": "方案中没有这一补贴层级",
    LoginFailed = "login_failed": "用户名或密码错误",
    LoginLocked = "login_locked": "登录失败次数过多，请稍后再试或联系管理员解锁",
    LossRateInvalid = "loss_rate_invalid": "损失率无效",
    NameRequired = "name_required": "请填写农户姓名",
    NoHeader = "no_header": "没有找到表头行",
    NoRows = "no_rows": "对账文件中没有数据行",
    NotASpreadsheet = "not_a_spreadsheet": "文件不是可识别的电子表格（.xlsx、.xls 或 .ods）",
    NotAWholeNumber = "not_a_whole_number": "应为非负整数",
    NotFound = "not_found": "未找到所要的记录",
    NoteMissing = "note_missing": "退回须写明原因，供查勘人员补充",
    NumberEmpty = "number_empty": "请填写数字",
    NumberExponent = "number_exponent": "数字不能使用科学计数法",
    NumberGrouping = "number_grouping": "数字的千位分隔符位置不正确",
    NumberInvalid = "number_invalid": "不是有效的数字",
    NumberSign = "number_sign": "数字不能为负数",
    NoticeEmpty = "notice_empty": "本村（本次灾害）没有可公示的保单或赔案",
    NoticeInPeriod = "notice_in_period": "承保公示期尚未结束，公示期满后才能签发",
    NoticeMissing = "notice_missing": "保单尚未经本村承保公示，公示期满后才能签发",
    NoticeObjectionOpen = "notice_objection_open": "承保公示期间提出的异议尚未处理完毕，不能签发",
    NoticePeriodInvalid = "notice_period_invalid": "公示结束日期不能早于开始日期，且公示期不能短于方案规定的天数",
    NoticeStale = "notice_stale": "保单的投保面积或保费在公示后有变动，须重新公示",
    NoticeStartInvalid = "notice_start_invalid": "公示开始日期不能早于今天（须先生成公示再张贴）",
    NoticeTargetRequired = "notice_target_required": "请选择要公示的村或灾害事件",
    ClaimNoticeInPeriod = "claim_notice_in_period": "理赔结果公示期尚未结束，公示期满后才能支付赔款",
    ClaimNoticeMissing = "claim_notice_missing": "赔案尚未进行理赔结果公示，不能支付赔款",
    ClaimNoticeObjectionOpen = "claim_notice_objection_open": "理赔公示期间提出的异议尚未处理完毕，不能支付赔款",
    ClaimNoticeStale = "claim_notice_stale": "赔款金额在公示后有变动，须重新公示",
    ObjectionResolved = "objection_resolved": "该异议已经处理过",
    ObjectionTargetUnknown = "objection_target_unknown": "异议所指的农户或地块不在本公示范围内",
    ResolutionRequired = "resolution_required": "请填写异议的处理结果",
    NumberTooManyDecimals = "number_too_many_decimals": "数字的小数位数过多",
    NumberTooManyDigits = "number_too_many_digits": "数字过大",
    OccurredAfterReport = "occurred_after_report": "出险时间不能晚于报案时间",
    OccurredInFuture = "occurred_in_future": "出险时间不能晚于当前时间",
    OutputUnwritable = "output_unwritable": "无法写入输出文件",
    PageInvalid = "page_invalid": "页码须从1开始",
    PageSizeInvalid = "page_size_invalid": "每页条数超出范围",
    PaidOnFuture = "paid_on_future": "支付日期不能晚于今天",
    PasswordChangeRequired = "password_change_required": "首次登录或密码被重置后，须先修改密码",
    PasswordContainsUsername = "password_contains_username": "密码不能包含用户名",
    PasswordTooLong = "password_too_long": "密码太长",
    PasswordTooShort = "password_too_short": "密码太短",
    PasswordUnchanged = "password_unchanged": "新密码不能与当前密码相同",
    PasswordWeak = "password_weak": "密码太容易被猜到",
    PasswordWrong = "password_wrong": "当前密码不正确",
    PerilMissing = "peril_missing": "请选择灾害原因",
    PhoneInvalid = "phone_invalid": "联系电话应为11位手机号或带区号的固定电话",
    PhotoHashInvalid = "photo_hash_invalid": "原图摘要（original_sha256）应为64位十六进制SHA-256",
    PhotoNotImage = "photo_not_image": "上传的文件不是照片（只接受JPEG、PNG或WebP图片）",
    PhotoTooLarge = "photo_too_large": "照片过大",
    PlacesEmpty = "places_empty": "没有可用的乡镇和村，无法生成保单：请先建立至少一个村",
    PlotChanged = "plot_changed": "检查期间地块已被他人修改，本次上传未写入任何边界",
    PlotCodeDuplicate = "plot_code_duplicate": "该方案中已有相同的地块编号",
    PlotCodeTaken = "plot_code_taken": "地块编号已属于其他农户",
    PlotInPolicy = "plot_in_policy": "该地块已纳入已收费或已签发的保单，不能删除",
    PlotMissing = "plot_missing": "该保单有多个地块，请选择受灾地块",
    PlotNotOnPolicy = "plot_not_on_policy": "所选地块不属于该保单的被保险人",
    PlotSampled = "plot_sampled": "该地块已被抽为验标样本，不能删除",
    PolicyAfterTerm = "policy_after_term": "收费日期已晚于保险期间终止日，不能签发",
    PolicyClosed = "policy_closed": "保单已结束，不能注销",
    PolicyMissing = "policy_missing": "请先查找并选择保单",
    PolicyNoMissing = "policy_no_missing": "缺少保单号",
    PolicyNosRequired = "policy_nos_required": "请列出申请补贴的保单号",
    PolicyNotCollected = "policy_not_collected": "保单尚未收取农户自缴保费，不能签发",
    PolicyNotDraft = "policy_not_draft": "保单已不是待收费状态，不能再登记收费",
    PolicyNotFound = "policy_not_found": "未找到保单",
    PolicyUnknown = "policy_unknown": "方案中没有这些保单号",
    PositionFar = "position_far": "查勘位置距地块过远，请到地块现场后再提交",
    QueryInvalid = "query_invalid": "查询参数无效",
    QueryTooShort = "query_too_short": "请输入至少2个字：农户姓名、身份证号、电话或保单号",
    ReasonRequired = "reason_required": "请填写调整原因（不超过200个字符）",
    ReceiptNoDuplicate = "receipt_no_duplicate": "收据号已使用",
    ReceiptNoRequired = "receipt_no_required": "请填写收据号（不超过40个字符）",
    ReportedInFuture = "reported_in_future": "报案时间不能晚于当前时间",
    ReporterMissing = "reporter_missing": "请填写报案人姓名",
    RequestNoDuplicate = "request_no_duplicate": "申请编号已使用",
    RequestNoRequired = "request_no_required": "请填写申请编号（不超过40个字符）",
    RestoreTargetNotEmpty = "restore_target_not_empty": "恢复目标不是空的数据库或照片库，未写入任何内容",
    RoleUnknown = "role_unknown": "未知角色",
    SelectionInvalid = "selection_invalid": "请勾选保单，或选择“全部符合条件的保单”（二者选一）",
    SchemeAreaToleranceInvalid = "scheme_area_tolerance_invalid": "面积允许误差设置无效",
    SchemeChecksInvalid = "scheme_checks_invalid": "风险核查设置无效",
    SchemeClaimDeadlinesInvalid = "scheme_claim_deadlines_invalid": "理赔时限设置无效",
    SchemeNoticeDaysInvalid = "scheme_notice_days_invalid": "公示期天数须在1到60天之间",
    SchemeClaimRulesInvalid = "scheme_claim_rules_invalid": "理赔规则设置无效",
    SchemeCodeInvalid = "scheme_code_invalid": "方案代码无效",
    SchemeCodeTaken = "scheme_code_taken": "方案代码已存在",
    SchemeGrowerShareInvalid = "scheme_grower_share_invalid": "农户自缴比例无效",
    SchemeInspectionInvalid = "scheme_inspection_invalid": "验标抽样比例设置无效",
    SchemeJsonInvalid = "scheme_json_invalid": "方案定义不是有效的JSON或缺少必填项",
    SchemeLevelDuplicate = "scheme_level_duplicate": "补贴层级重复",
    SchemeLevelPercentInvalid = "scheme_level_percent_invalid": "补贴层级比例无效",
    SchemeLevelUnknown = "scheme_level_unknown": "未知的补贴层级",
    SchemeLevelsMismatch = "scheme_levels_mismatch": "各补贴层级比例之和与财政补贴比例不符",
    SchemeNameMissing = "scheme_name_missing": "方案名称不能为空",
    SchemePerilsMissing = "scheme_perils_missing": "方案没有列出保险责任",
    SchemePremiumAboveSumInsured = "scheme_premium_above_sum_insured": "每亩保费不能高于每亩保险金额",
    SchemeRatesInvalid = "scheme_rates_invalid": "每亩保险金额和保费必须大于0",
    SchemeRatesTooLarge = "scheme_rates_too_large": "每亩保险金额或保费过大",
    SchemeTermInvalid = "scheme_term_invalid": "保险期间无效",
    SchemeTermTooLong = "scheme_term_too_long": "保险期间过长",
    SchemeTextInvalid = "scheme_text_invalid": "方案中的文字无效",
    SchemeTooManyEntries = "scheme_too_many_entries": "方案的条目过多",
    SchemeVarietiesMissing = "scheme_varieties_missing": "方案没有列出品种",
    SchemeVarietyInvalid = "scheme_variety_invalid": "方案中的品种设置无效",
    SchemeYearInvalid = "scheme_year_invalid": "方案年度无效",
    SchemeYearMismatch = "scheme_year_mismatch": "农户登记年度与方案年度不符",
    SelfLookupLocked = "self_lookup_locked": "查询失败次数过多，已暂时锁定，请稍后再试或联系乡镇林业站",
    SelfLookupNoMatch = "self_lookup_no_match": "身份证号与联系电话不匹配，或没有登记记录",
    SignatureMissing = "signature_missing": "请农户在屏幕上签字确认",
    SignatureTooLarge = "signature_too_large": "签名图片过大，请清除后重新签字",
    SignedOffByRequired = "signed_off_by_required": "请填写签字确认人（不超过40个字符）",
    SourceInvalid = "source_invalid": "对账来源应为 insurer（保险公司）或 treasury（国库）",
    StatementLocked = "statement_locked": "补贴结算表已签字锁定，不能修改；如需更正，请录入调整分录",
    StatementNotLocked = "statement_not_locked": "补贴结算表尚未签字锁定：锁定前的更正请直接修改保单，锁定后才录入调整分录",
    StatusInvalid = "status_invalid": "状态参数的取值无效",
    StoredAsDate = "stored_as_date": "单元格被存成了日期，请把该列设为文本后重新填写",
    SurveyedBeforeReport = "surveyed_before_report": "查勘时间不能早于报案时间",
    SurveyedInFuture = "surveyed_in_future": "查勘时间不能晚于当前时间",
    TargetRequired = "target_required": "请填写目标面积",
    TextBidiChar = "text_bidi_char": "含有改变文字方向的控制字符",
    TextControlChar = "text_control_char": "含有不可见的控制字符",
    TextControlCharacter = "text_control_character": "输入内容含有不可见的控制字符（如NUL），请删除后重试",
    TextInvisibleChar = "text_invisible_char": "含有零宽或不可见字符",
    TextTooLong = "text_too_long": "内容过长",
    TimeInvalid = "time_invalid": "时间格式不正确（应为 2026-06-12 14:30）",
    TimeMissing = "time_missing": "请填写时间",
    TooManyPolicies = "too_many_policies": "一次申请的保单过多，请分批申请",
    TooManyRows = "too_many_rows": "表格行数超过上限",
    TownshipRequired = "township_required": "请选择乡镇",
    TownshipUnknown = "township_unknown": "未找到该乡镇",
    TreeAgeInvalid = "tree_age_invalid": "树龄应为非负整数",
    TreeAgeRequired = "tree_age_required": "请填写树龄",
    TreeCountInvalid = "tree_count_invalid": "株数应为非负整数",
    TreeCountRequired = "tree_count_required": "请填写株数",
    Unauthenticated = "unauthenticated": "请先登录",
    UploadAlreadyCommitted = "upload_already_committed": "该花名册已经导入，无需重复导入",
    UploadInvalid = "upload_invalid": "一次只能上传一个文件",
    UploadTooLarge = "upload_too_large": "上传内容过大",
    UploadTooManyParts = "upload_too_many_parts": "上传的表单项过多",
    UsernameInvalid = "username_invalid": "用户名只能由字母、数字、_、-、.组成",
    UsernameTaken = "username_taken": "用户名已存在",
    UserSelf = "user_self": "不能停用自己的账号或改变自己的角色",
    ValidationFailed = "validation_failed": "提交的内容有误",
    ValueRequired = "value_required": "必填项不能为空",
    VarietyUnknown = "variety_unknown": "未知品种",
    VersionConflict = "version_conflict": "该农户信息已被他人修改，请刷新后重新编辑",
    VersionRequired = "version_required": "重新查勘须基于最新版本，请刷新页面后重新提交",
    VillageNotInGrowerTownship = "village_not_in_grower_township": "该村不在农户所在乡镇",
    VillageNotInTownship = "village_not_in_township": "该村不属于您所在的乡镇",
    VillageRequired = "village_required": "请选择所在村",
    VillageUnknown = "village_unknown": "未找到该村",
    VoucherNoDuplicate = "voucher_no_duplicate": "该凭证号已登记过拨付，同一笔拨款不能重复登记",
    VoucherNoRequired = "voucher_no_required": "请填写拨款凭证号（不超过40个字符）",
    YearInvalid = "year_invalid": "年度无效",
}

impl ErrorCode {
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Tests and callers compare codes with the text clients see.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<ErrorCode> for &str {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_each_has_a_chinese_message() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty()
                    && !s.starts_with('_')
                    && !s.ends_with('_')
                    && !s.contains("__")
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{s} is not snake_case"
            );
            let m = code.message();
            assert!(
                m.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{s}: message {m:?} has no Chinese"
            );
            assert_eq!(ErrorCode::parse(s), Some(*code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }

    #[test]
    fn a_code_serializes_and_compares_as_its_text() {
        assert_eq!(
            serde_json::to_string(&ErrorCode::VersionConflict)
                .ok()
                .as_deref(),
            Some("\"version_conflict\"")
        );
        assert_eq!(ErrorCode::NotFound, "not_found");
        assert_eq!(ErrorCode::NotFound.to_string(), "not_found");
    }
}
