/**
 * Texts of the last points of issue 13: the lists' date-range filters, the notification delay's two measures, the
 * demo's sandbox warning after an import, the audit details' keys and the reconcile attempts' notes. Chinese
 * defines the keys, English has its type; i18n.ts puts them under `fl` in each dictionary.
 */
import type { ReconcileOutcome } from '../../services/reconcile.js';

export const zhFilters = {
  dayFrom: '开始日期',
  dayTo: '结束日期',
  tradesDayHint: '按登记日期筛选（北京时间，含首尾两天）',
  batchesDayHint: '按创建日期筛选（北京时间，含首尾两天）',
  badDay: (label: string, value: string) =>
    `${label}“${value}”不是有效的日期，请按 年-月-日 填写，如 2026-01-15。日期筛选未生效，下面是未按日期筛选的列表。`,
  dayOrder: (from: string, to: string) =>
    `结束日期 ${to} 早于开始日期 ${from}。日期筛选未生效，下面是未按日期筛选的列表。`,
  /** The batch page's delay, by mode (decision: a pwd batch's clock starts when Alipay sent its notification). */
  delayNopwd: '从提交到通知处理完毕',
  delayPwd: '从支付宝发出通知到处理完毕（不含操作员在支付宝页面确认的时间）',
  latencyHint:
    '已完成的批次：免密批次从提交到通知处理完毕；有密批次从支付宝发出通知（notify_time）到处理完毕，不含操作员在支付宝页面输入密码的时间。',
  sandboxMirrorFailed: (n: number) =>
    `演示环境：这次导入的 ${n} 笔交易没有在沙箱（模拟支付宝）里创建成功，沙箱不知道这些交易，对它们退款会失败（TRADE_NOT_EXISTS）。请在沙箱页面或用沙箱接口补建这些交易后再退款。`,
  sandboxMirrorDetail: '沙箱的原始错误',
  /** Keys of an audit entry's details (the values are shown as stored). */
  auditKeys: {
    note: '备注',
    id: '编号',
    expiresAt: '过期时间',
    revoked: '已吊销数',
    count: '数量',
    tradeNos: '交易号',
    batchNos: '批次号',
    mode: '退款方式',
    records: '笔数',
    queued: '已排队',
    approval: '审批',
    preparedBy: '创建者',
    preparedByOwner: '创建令牌的操作员',
    owner: '所属操作员',
    totalFen: '总金额（分）',
    reason: '理由',
    scope: '权限范围',
    role: '角色',
    from: '原值',
    to: '新值',
    format: '格式',
    rows: '行数',
    query: '筛选条件',
    username: '用户名',
    ip: '地址',
  } as Record<string, string>,
  /** A reconcile attempt in words; the stored message is the detail. */
  reconcileNotes: {
    applied: '已按支付宝的查询结果入账（与通知入账的流程相同，只入账一次）。',
    already_applied: '结果此前已入账（通知先到或另一次查询），本次未做改动。',
    pending: '支付宝暂时没有该批次的结果，之后会再次查询。',
    resubmit_manually: '提交 24 小时后支付宝仍查不到该批次，已标记为“改为手工重新提交”。',
    not_at_gateway: '支付宝没有该批次，且该批次从未被受理。',
    outcome_unknown: '支付宝查不到该批次，但提交的结果未知：请先向支付宝客服确认，再在本页处理。',
    query_error: '支付宝拒绝了这次查询（见代码及其说明）。',
    unavailable: '无法连接支付宝网关，下次自动查询时会重试。',
    not_open: '该批次已无需查询。',
  } satisfies Record<ReconcileOutcome, string> as Record<string, string>,
  reconcileDetail: '详细信息',
};

export type FiltersDict = typeof zhFilters;

export const enFilters: FiltersDict = {
  dayFrom: 'From',
  dayTo: 'To',
  tradesDayHint: 'Registration day (Beijing time, both days included)',
  batchesDayHint: 'Creation day (Beijing time, both days included)',
  badDay: (label, value) =>
    `${label} “${value}” is not a valid date; write it as year-month-day, e.g. 2026-01-15. The date filter was not applied: the list below is not filtered by date.`,
  dayOrder: (from, to) =>
    `The end date ${to} is before the start date ${from}. The date filter was not applied: the list below is not filtered by date.`,
  delayNopwd: 'from submission until the notification was processed',
  delayPwd:
    "from Alipay sending the notification until it was processed (the operator's time on Alipay's page is not included)",
  latencyHint:
    "Finished batches: nopwd from submission until the notification was processed; pwd from Alipay sending the notification (notify_time) until it was processed, without the operator's time on Alipay's password page.",
  sandboxMirrorFailed: (n) =>
    `Demo: the ${n} trade(s) of this import could not be created in the sandbox (the simulated Alipay). The sandbox does not know them, so refunds of them will fail with TRADE_NOT_EXISTS. Add them on the sandbox page or through its API before refunding them.`,
  sandboxMirrorDetail: "The sandbox's error",
  auditKeys: {
    note: 'Note',
    id: 'ID',
    expiresAt: 'Expires at',
    revoked: 'Revoked',
    count: 'Count',
    tradeNos: 'Trade numbers',
    batchNos: 'Batch numbers',
    mode: 'Mode',
    records: 'Records',
    queued: 'Queued',
    approval: 'Approval',
    preparedBy: 'Prepared by',
    preparedByOwner: "Token's operator",
    owner: 'Operator',
    totalFen: 'Total (fen)',
    reason: 'Reason',
    scope: 'Scope',
    role: 'Role',
    from: 'From',
    to: 'To',
    format: 'Format',
    rows: 'Rows',
    query: 'Filters',
    username: 'Username',
    ip: 'Address',
  },
  reconcileNotes: {
    applied: "Alipay's query answer was applied (the same way as its notification, only once).",
    already_applied:
      'The result had already been applied (the notification or another query came first); nothing changed.',
    pending: 'Alipay has no result for this batch yet; it will be asked again.',
    resubmit_manually:
      'Alipay still does not know the batch 24 hours after submission: marked resubmit manually.',
    not_at_gateway: 'Alipay does not know the batch, and it was never accepted.',
    outcome_unknown:
      "Alipay does not know the batch, but its submission's outcome is unknown: ask Alipay's support first, then resolve it on this page.",
    query_error: 'Alipay refused the query (see the code and its meaning).',
    unavailable: 'The gateway could not be reached; the next scheduled query tries again.',
    not_open: 'Nothing to ask for this batch.',
  },
  reconcileDetail: 'Details',
};
