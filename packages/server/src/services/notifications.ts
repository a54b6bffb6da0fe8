/**
 * The notify endpoints' logic, one step a file: notify-intake.ts (batch_no before the charset, error codes,
 * notify_verify), notify-batch.ts (batch_refund_notify: decode → verify → apply → record), notify-apply.ts (the
 * exactly-once apply transaction), notify-trade.ts (trade_status_sync: recorded and reconciled, never applied),
 * notify-record.ts (every delivery recorded with its verdict). The answer `success` is produced only after the
 * transaction committed.
 */
import { type BatchRefundNotification, normalizeCharset, parseFormBody } from '@alirefund/protocol';
import { sql } from 'kysely';
import { clampLimit } from './audit.js';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import type {
  AppliedSource,
  IncomingNotification,
  NotificationDetail,
  NotificationListQuery,
  NotificationView,
  NotifyOutcome,
} from './notification-types.js';
import { createBatchApply } from './notify-apply.js';
import { createBatchNotifyHandler } from './notify-batch.js';
import { createNotifyVerifier } from './notify-intake.js';
import { createNotificationRecorder, notificationView } from './notify-record.js';
import { createTradeNotifyHandler } from './notify-trade.js';
import type { Page } from './trades.js';

export type * from './notification-types.js';

export interface NotificationService {
  /** POST /alipay/notify: decode in the batch's charset, verify sign, notify_verify, apply once, record. */
  handleBatchNotify(incoming: IncomingNotification): Promise<NotifyOutcome>;
  /** POST /alipay/trade-notify: verify, record, reconcile with local state (never applies a refund). */
  handleTradeNotify(incoming: IncomingNotification): Promise<NotifyOutcome>;
  list(query?: NotificationListQuery): Promise<Page<NotificationView>>;
  get(id: number): Promise<NotificationDetail | null>;
  /**
   * Applies a batch result learned another way (the reconciler's refund_fastpay_query answer) through the very
   * transaction and exactly-once guard of {@link handleBatchNotify}. Returns the recorded row's id, or null when
   * the batch had already been applied (by a notification or an earlier run): nothing changed then.
   */
  applyBatchResult(n: BatchRefundNotification, source: AppliedSource): Promise<number | null>;
}

/** Hooks (set by createServices). */
export interface NotificationHooks {
  /** A batch's notification was applied: the partner's queue may move on. */
  batchFinished(batchNo: string): void;
}

export function createNotificationService(deps: ServiceDeps, hooks: NotificationHooks): NotificationService {
  const { database, clock, config, log } = deps;
  const recorder = createNotificationRecorder(deps);
  const verifyRemote = createNotifyVerifier(deps);
  const applyBatch = createBatchApply(deps, recorder);

  const service: NotificationService = {
    handleBatchNotify: createBatchNotifyHandler(deps, {
      recorder,
      verifyRemote,
      applyBatch,
      batchFinished: (batchNo) => hooks.batchFinished(batchNo),
    }),

    handleTradeNotify: createTradeNotifyHandler(deps, { recorder, verifyRemote }),

    async applyBatchResult(n, source) {
      const id = await applyBatch({ body: source.body }, nowIso(clock), n, source.charset, source);
      if (id !== null) {
        hooks.batchFinished(n.batchNo);
        log.info({ batchNo: n.batchNo, via: source.kind, successNum: n.successNum }, 'batch result applied');
      }
      return id;
    },

    async list(query = {}) {
      const pageSize = clampLimit(query.pageSize, 50);
      const page = Math.max(1, Math.floor(query.page ?? 1));
      let q = database.db.selectFrom('srv_notifications');
      if (query.batchNo !== undefined) q = q.where('batch_no', '=', query.batchNo);
      if (query.tradeNo !== undefined) q = q.where('trade_no', '=', query.tradeNo);
      if (query.verdict !== undefined) q = q.where('verdict', '=', query.verdict);
      if (query.kind !== undefined) q = q.where('kind', '=', query.kind);
      const text = query.q?.trim();
      if (text !== undefined && text !== '') {
        const like = `%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
        q = q.where((eb) =>
          eb.or([
            sql<boolean>`batch_no like ${like} escape '\\'`,
            sql<boolean>`notify_id like ${like} escape '\\'`,
            sql<boolean>`trade_no like ${like} escape '\\'`,
            sql<boolean>`reason like ${like} escape '\\'`,
            sql<boolean>`raw_body like ${like} escape '\\'`,
            eb('reason_code', '=', text),
          ]),
        );
      }
      const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q
        .select([
          'id',
          'kind',
          'batch_no',
          'trade_no',
          'notify_id',
          'notify_time',
          'verdict',
          'reason_code',
          'reason',
          'remote_addr',
          'charset',
          'received_at',
          'applied_at',
          'response',
        ])
        .orderBy('id', 'desc')
        .limit(pageSize)
        .offset((page - 1) * pageSize)
        .execute();
      return { items: rows.map(notificationView), total: Number(total.n), page, pageSize };
    },

    async get(id) {
      const r = await database.db
        .selectFrom('srv_notifications')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!r) return null;
      let params: Record<string, string> | null = null;
      try {
        const cs = normalizeCharset(r.charset ?? '') ?? config.inputCharset;
        params = Object.fromEntries(parseFormBody(r.raw_body, cs));
      } catch {
        params = null;
      }
      return {
        ...notificationView(r),
        rawBody: r.raw_body,
        bodyLength: r.body_length === null ? null : Number(r.body_length),
        bodySha256: r.body_sha256,
        headers: JSON.parse(r.headers_json) as Record<string, string>,
        params,
      };
    },
  };
  return service;
}
