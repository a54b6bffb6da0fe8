/**
 * The services and their documented request parameters (protocol.md §2). The form rules forbid
 * anything else in a request, and the sandbox refuses undocumented parameters.
 */
export const SERVICE_PWD = 'refund_fastpay_by_platform_pwd';
export const SERVICE_NOPWD = 'refund_fastpay_by_platform_nopwd';
export const SERVICE_QUERY = 'refund_fastpay_query';
export const SERVICE_NOTIFY_VERIFY = 'notify_verify';

export type RefundService = typeof SERVICE_PWD | typeof SERVICE_NOPWD;

const COMMON = [
  'service',
  'partner',
  '_input_charset',
  'sign_type',
  'sign',
  'notify_url',
  'batch_no',
  'batch_num',
  'refund_date',
  'detail_data',
] as const;

/** Parameters every request to the gateway carries. */
const GATEWAY_REQUIRED = ['service', 'partner', '_input_charset', 'sign_type', 'sign'] as const;
/** Parameters every batch refund request must carry (pwd and nopwd alike). */
const REFUND_REQUIRED = [...GATEWAY_REQUIRED, 'refund_date', 'batch_no', 'batch_num', 'detail_data'] as const;

/** Documented parameters of each service, required ones first. */
export const SERVICE_PARAMS: Readonly<
  Record<string, { required: readonly string[]; optional: readonly string[] }>
> = {
  [SERVICE_PWD]: {
    required: REFUND_REQUIRED,
    optional: ['notify_url', 'seller_email', 'seller_user_id'],
  },
  [SERVICE_NOPWD]: {
    required: REFUND_REQUIRED,
    optional: [
      'notify_url',
      'dback_notify_url',
      'use_freeze_amount',
      'return_type',
      'seller_email',
      'seller_user_id',
    ],
  },
  [SERVICE_QUERY]: {
    required: GATEWAY_REQUIRED,
    optional: ['batch_no', 'trade_no'],
  },
};

/** True when `name` is a documented parameter of `service`. */
export function isDocumentedParam(service: string, name: string): boolean {
  const t = SERVICE_PARAMS[service];
  return t !== undefined && (t.required.includes(name) || t.optional.includes(name));
}

/** Parameters every batch refund request carries. */
export const COMMON_REFUND_PARAMS: readonly string[] = COMMON;

/** Parameters of a `batch_refund_notify` (protocol.md §5.1). Anything else was added on the way. */
export const NOTIFY_PARAMS: readonly string[] = [
  'notify_time',
  'notify_type',
  'notify_id',
  'sign_type',
  'sign',
  'batch_no',
  'success_num',
  'result_details',
  'unfreezed_details',
];
