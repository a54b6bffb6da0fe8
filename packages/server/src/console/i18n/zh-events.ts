/**
 * The console's texts for what services store as facts (issue 13, point 6): batch timeline events (kind + data),
 * notification reason codes and audit action names, in Simplified Chinese. en-events.ts has the same keys (the
 * type says so); i18n.ts puts them under `ev` in each language's dictionary.
 */
import { displayYuan, groupYuan } from '../yuan.js';

/** What a batch event's stored `data_json` may carry (every field optional: old rows carry less). */
export interface EventData {
  recordCount?: number;
  totalFen?: number;
  mode?: string;
  part?: number;
  of?: number;
  queued?: boolean;
  pending?: boolean;
  successNum?: number;
  successFen?: string;
  failed?: number;
  notifyId?: string;
  via?: string;
  anomalies?: readonly string[];
  code?: string;
  outcome?: string;
  note?: string;
  replacedBy?: string;
  preparedBy?: string;
  decidedBy?: string;
  reason?: string;
  variant?: string;
  replaces?: string;
}

export type EventText = (d: EventData, state: string | null) => string;

export const zhEvents = {
  eventKinds: {
    created: '创建',
    queued: '排队',
    submitted: '提交',
    accepted: '已受理',
    rejected: '被拒绝',
    needs_attention: '需要处理',
    finished: '完成',
    notification: '通知',
    anomaly: '异常',
    cancelled: '已取消',
    resolved: '人工处理',
    superseded: '已替换',
    reconcile: '对账查询',
    approved: '已批准',
    approval_rejected: '审批驳回',
  } satisfies Record<string, string>,
  events: {
    created: (d) =>
      `已创建批次${d.recordCount !== undefined ? `：${d.recordCount} 笔，${d.totalFen !== undefined ? `${displayYuan(d.totalFen)} 元，` : ''}${d.mode === 'pwd' ? '有密' : d.mode === 'nopwd' ? '免密' : ''}` : ''}${d.replaces ? `（原批次 ${d.replaces} 的批次号日期已过，未发送，据此重新创建）` : ''}${d.of !== undefined && d.of > 1 ? `（第 ${d.part} 批，共 ${d.of} 批）` : ''}${d.queued ? '；已排队等待提交' : ''}${d.pending ? '；等待第二人审批（创建者以外的审批员或管理员）' : ''}`,
    queued: () => '已排队，等待提交',
    submitted: (d): string =>
      d.variant === 'pwd'
        ? '付款密码页已交给操作员的浏览器（有密），结果以异步通知为准'
        : d.variant === 'pwd_again'
          ? '再次为操作员的浏览器生成付款密码页'
          : d.variant === 'nopwd'
            ? '正在发送到支付宝网关（免密）'
            : '已提交',
    accepted: () => '支付宝网关已受理该批次，退款结果以异步通知为准',
    rejected: (d) => `支付宝网关拒绝了该批次${d.code ? `（${d.code}）` : ''}，其交易已释放`,
    needs_attention: (d) =>
      `结果未知${d.code ? `（${d.code}）` : ''}：批次可能已被受理，已暂停且不会自动重新提交；请操作员核实（异步通知、退款查询）后处理`,
    notification: (d) =>
      `${d.via ? '查询结果' : `通知${d.notifyId ? ` ${d.notifyId}` : ''}`}已应用${d.successNum !== undefined ? `：成功 ${d.successNum} 笔${d.successFen !== undefined ? `（${groupYuan(d.successFen)} 元）` : ''}${d.failed !== undefined ? `，失败 ${d.failed} 笔` : ''}` : ''}`,
    anomaly: (d) => `通知结果与批次记录不一致${d.anomalies ? `（${d.anomalies.length} 处）` : ''}，请核对`,
    cancelled: (d): string =>
      d.variant === 'not_sent'
        ? '未发送：请求会被拒绝，批次已取消，其交易已释放'
        : '提交前已取消，其交易已释放',
    resolved: (d, state) =>
      `${
        state === 'accepted' || d.outcome === 'accepted'
          ? '操作员确认网关已受理该批次，等待通知或查询结果'
          : state === 'rejected' || d.outcome === 'rejected'
            ? '操作员确认网关未处理该批次，其交易已释放'
            : state === 'resubmit_manually' || d.outcome === 'resubmit_manually'
              ? '操作员决定以新的批次号手工重新提交，其交易已释放'
              : '操作员已人工处理'
      }${d.note ? ` — ${d.note}` : ''}`,
    superseded: (d) =>
      `批次号中的日期已过（批次号须带当天日期），未发送${d.replacedBy ? `；已由 ${d.replacedBy} 取代` : ''}`,
    reconcile: () => '退款查询：支付宝没有此批次（REFUND_NOT_EXIST），请以新的批次号重新提交',
    approved: (d) =>
      `${d.decidedBy ?? ''} 已批准${d.preparedBy ? `（由 ${d.preparedBy} 创建）` : ''}，现在可以提交`,
    approval_rejected: (d) =>
      `${d.decidedBy ?? ''} 已驳回${d.preparedBy ? `（由 ${d.preparedBy} 创建）` : ''}${d.reason ? `：${d.reason}` : ''}；其交易已释放`,
  } satisfies Record<string, EventText>,
  /** Why a notification was rejected or flagged (the stored reason_code). */
  notifyCodes: {
    MALFORMED_BODY: '通知内容无法解析',
    CHARSET_MISMATCH: '字符集与声明不符',
    MISSING_SIGN: '缺少签名（sign）',
    UNSUPPORTED_SIGN_TYPE: '不支持的签名类型',
    SIGN_MISMATCH:
      '签名不匹配：请确认密钥（或支付宝公钥）属于本商户、没有空格、partner 与密钥没有填反；否则通知被篡改或伪造',
    UNEXPECTED_PARAMETER: '通知含有意外的参数',
    NOTIFY_VERIFY_FALSE: '支付宝确认此 notify_id 无效（非支付宝发出或已过期）',
    NOTIFY_VERIFY_UNREACHABLE: '无法连接支付宝验证 notify_id，稍后会重发',
    NOTIFY_VERIFY_BAD_RESPONSE: '支付宝验证 notify_id 的应答无法识别',
    WRONG_NOTIFY_TYPE: '通知类型不符',
    MALFORMED_CONTENT: '通知缺少必需内容或格式不正确',
    MISSING_BATCH_NO: '通知没有（唯一、格式正确的）批次号',
    UNKNOWN_BATCH: '此批次不是在这里创建的，通知不可信',
    FOREIGN_PARTNER: '批次属于其他商户（partner）',
    ALREADY_APPLIED: '该批次的结果已应用过，本次未做改变',
    CONTENT_DIFFERS: '该批次的结果已应用过，且本次内容不同，请核对',
    ALREADY_RECORDED: '该通知已记录过',
    RECONCILED_BY_QUERY: '结果已由退款查询确定',
    REGISTERED: '交易已登记',
    UNKNOWN_TRADE: '交易未登记',
    DISCREPANCY: '与已登记的交易不一致，请核对',
    AWAITING_BATCH_NOTIFICATION: '等待批量退款通知',
    CONSISTENT: '与已登记的交易一致',
  } satisfies Record<string, string>,
  /** Audit action names. */
  auditActions: {
    'api_token.create': '创建 API 令牌',
    'api_token.revoke': '吊销 API 令牌',
    'api_token.scope': '修改 API 令牌权限',
    'batch.cancel': '取消批次',
    'batch.queue': '批次排队',
    'batch.reconcile': '对账查询',
    'batch.reconcile.resubmit_manually': '对账：需以新批次号重新提交',
    'batch.submit_pwd': '提交有密批次',
    'batch.resolve.accepted': '人工处理：已受理',
    'batch.resolve.rejected': '人工处理：未处理',
    'batch.resolve.resubmit_manually': '人工处理：手工重新提交',
    'batch.approve': '批准批次',
    'batch.reject': '驳回批次',
    'batches.create': '创建批次',
    'console.login': '登录',
    'console.login_failed': '登录失败',
    'console.logout': '退出登录',
    export: '导出',
    'operator.change_own_password': '修改自己的密码',
    'operator.create': '创建操作员',
    'operator.set_password': '重设操作员密码',
    'operator.set_role': '修改操作员角色',
    'trades.register': '登记交易',
  } satisfies Record<string, string>,
  nTrades: (n: number) => `${n} 笔交易`,
  actors: { system: '系统', gateway: '支付宝' } satisfies Record<string, string>,
};

export type EventsDict = typeof zhEvents;
