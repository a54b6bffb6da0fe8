/**
 * The error / result code catalogue of the batch refund services (protocol.md §8), plus the codes
 * alirefund itself produces. Each entry says where the code shows up, what it means in Chinese and
 * English, what the merchant should do about it, and how sure the spec is.
 *
 * `zh` is the official Chinese wording quoted by protocol.md §8 (or by the code maps it cites)
 * wherever one exists. The system-fault codes, the internal codes Alipay retries itself,
 * SELLER_CONFLICT, REFUND_NOT_EXIST and the local codes have no official wording; theirs is ours.
 *
 * docs/errors.md is generated from this file: run `npx tsx scripts/gen-errors-doc.ts` after editing.
 */

/** Every channel, in the order docs/errors.md lists them. */
export const CODE_CHANNELS = ['sync', 'async', 'both', 'local'] as const;

/**
 * Where a code is seen: `sync` = the nopwd `<error>` element, the pwd error page or the
 * refund_fastpay_query `error_code`; `async` = a `code` inside `result_details` (notification or
 * query result); `both` = either; `local` = produced by alirefund itself, never by Alipay.
 */
export type CodeChannel = (typeof CODE_CHANNELS)[number];

/** Every action, from "nothing to do" to "ask Alipay". */
export const CODE_ACTIONS = [
  'none',
  'fix-request',
  'pause-and-ask',
  'retry-later',
  'alipay-retries',
  'resubmit-new-batch',
  'contact-alipay',
] as const;

/**
 * What the merchant should do:
 * - `none`: nothing can or need be done through this API;
 * - `fix-request`: correct the request data, then send it again (after a record failure: only the
 *   corrected records, in a new batch);
 * - `pause-and-ask`: stop, do not resubmit, find out what really happened (notification,
 *   refund_fastpay_query, an operator, Alipay support);
 * - `retry-later`: nothing is wrong with the data; try again later;
 * - `alipay-retries`: Alipay retries internally; keep the record pending;
 * - `resubmit-new-batch`: fix the condition outside the request (balance, agreement, account),
 *   then resubmit the failed records under a new batch_no;
 * - `contact-alipay`: only Alipay can resolve or explain it.
 */
export type CodeAction = (typeof CODE_ACTIONS)[number];

/** A service a code belongs to (`notify_verify` = the ATN check of §7). */
export type CodeService = 'pwd' | 'nopwd' | 'query' | 'notify_verify';

/** One catalogue entry. */
export interface CodeInfo {
  code: string;
  /** Official Chinese meaning (see the module comment for the few that are ours). */
  zh: string;
  /** English meaning. */
  en: string;
  channel: CodeChannel;
  action: CodeAction;
  /** One or two sentences of concrete guidance. */
  advice: { zh: string; en: string };
  /** protocol.md's tag for the code's channel/meaning; `INF` for alirefund's own codes. */
  confidence: 'C2' | 'C1' | 'INF';
  /**
   * The request may still have executed (UNKNOWN_EXCEPTION, GENERIC_FAILURE, SYSTEM_ERROR and
   * alirefund's TRANSPORT_ERROR): never resubmit automatically.
   */
  outcomeUnknown?: true;
  /** Services that can produce the code, when known. */
  services?: readonly CodeService[];
}

const GATEWAY: readonly CodeService[] = ['pwd', 'nopwd', 'query'];
const REFUND: readonly CodeService[] = ['pwd', 'nopwd'];
/** Record results: in the notification of either service and in refund_fastpay_query results. */
const RESULT: readonly CodeService[] = ['pwd', 'nopwd', 'query'];
/** Record results of parts only nopwd can request (royalty, sub-trade). */
const NOPWD_RESULT: readonly CodeService[] = ['nopwd', 'query'];

const SYSTEM_FAULT_ADVICE = {
  en:
    'Pause: the request may already have reached Alipay and may still execute through its recovery ' +
    'mechanism (S1). Do not resubmit, least of all under a new batch_no; wait for the notification, ' +
    'check the batch with refund_fastpay_query, or ask Alipay support.',
  zh:
    '暂停后续操作：请求可能已提交到支付宝，并可能由恢复机制自动完成（S1）。不要重新提交，更不要换新 batch_no 提交；' +
    '等待异步通知、用 refund_fastpay_query 查询该批次，或联系支付宝技术支持。',
};

const ALIPAY_RETRIES_ADVICE = {
  en:
    'Alipay internal error: Alipay retries by itself and the merchant need not act (S1 商户无需处理). ' +
    'Keep the record pending and do not resubmit; if no final result arrives within 24 hours, check it with refund_fastpay_query.',
  zh:
    '支付宝内部错误，系统会启动重试机制，商户无需处理（S1）。该笔保持“处理中”，不要重新提交；' +
    '24 小时内仍无最终结果时用 refund_fastpay_query 查询。',
};

const FILE_PARAM_ADVICE = {
  en:
    'A generic gateway check for file-upload services; refund requests carry no file. Remove undocumented ' +
    'parameters and send a plain form post.',
  zh: '网关针对文件类接口的通用校验，退款请求不带文件。去掉文档之外的参数，以普通表单方式提交。',
};

const MOBILE_RELEASED_ZH = '因商户账户手机登录号被释放，暂无法收付款。为保障资金安全，建议修改账户名。';
const MOBILE_RELEASED_ADVICE = {
  en:
    "The mobile number used as the merchant account's login name was released to someone else. Change the " +
    'account name in Alipay, then resubmit the failed records in a new batch.',
  zh: '商户账户作为登录名的手机号已被释放。请在支付宝修改账户名，然后把失败的明细放入新批次重新提交。',
};

const ENTRIES: readonly CodeInfo[] = [
  // ---- gateway checks (sync) -------------------------------------------------------------------
  {
    code: 'ILLEGAL_SIGN',
    zh: '签名不正确',
    en: 'Signature is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'C2',
    services: GATEWAY,
    advice: {
      en:
        'Check that the key belongs to this partner (MD5: the 32-character 安全校验码; RSA: your private key, ' +
        'with its public key uploaded). Sign the bytes in the charset named by _input_charset and include ' +
        '_input_charset itself; sign raw values, not URL-encoded ones; leave out sign, sign_type and empty ' +
        'values; sort keys in ASCII order and join as k=v&k=v.',
      zh:
        '检查密钥是否属于该 partner（MD5 为 32 位安全校验码；RSA 为商户私钥且已上传对应公钥）。按 _input_charset ' +
        '指定的字符集取字节签名，_input_charset 本身也参与签名；对参数原始值而不是 URL 编码后的值签名；' +
        '去掉 sign、sign_type 和空值，按参数名 ASCII 升序拼成 k=v&k=v。',
    },
  },
  {
    code: 'ILLEGAL_DYN_MD5_KEY',
    zh: '动态密钥信息错误',
    en: 'Dynamic key information is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en:
        'The MD5 key you signed with is not the one Alipay holds for the partner. Copy the key again from the ' +
        'merchant platform (no spaces, not swapped with the partner ID) and check sign_type=MD5.',
      zh: '签名所用的 MD5 密钥与支付宝保存的不一致。从商户平台重新复制密钥（无空格、未与 partner 填反），并确认 sign_type=MD5。',
    },
  },
  {
    code: 'ILLEGAL_ENCRYPT',
    zh: '加密不正确',
    en: 'Encryption is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en:
        'These services are signed, not encrypted: send the parameters in plain text with sign and sign_type, ' +
        'and check that sign_type names the algorithm you actually used.',
      zh: '这两个退款接口只签名、不加密：明文发送参数并附 sign、sign_type，确认 sign_type 与实际签名算法一致。',
    },
  },
  {
    code: 'ILLEGAL_ARGUMENT',
    zh: '参数不正确',
    en: 'A parameter is invalid',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'C1',
    services: GATEWAY,
    advice: {
      en:
        'A parameter or its value has the wrong format (S0). Check that every required parameter is present, ' +
        'optional ones are omitted rather than sent empty, partner is 2088 + 12 digits, notify_url is an ' +
        'absolute URL of at most 200 characters without a query string, and the form holds only documented parameters.',
      zh:
        '参数或参数值格式不正确（S0）。检查必填参数齐全；可空参数不用就不要传空值；partner 为 2088 开头的 16 位数字；' +
        'notify_url 为不超过 200 字符、不带“?”自定义参数的完整地址；表单中只包含文档列出的参数。',
    },
  },
  {
    code: 'ILLEGAL_SERVICE',
    zh: 'Service参数不正确',
    en: 'The service parameter is invalid',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'C1',
    services: GATEWAY,
    advice: {
      en:
        'The service name is wrong or all request parameters were lost (S0). Check the spelling ' +
        '(refund_fastpay_by_platform_pwd / refund_fastpay_by_platform_nopwd) and that the parameters reach the ' +
        'gateway: application/x-www-form-urlencoded body, _input_charset in the URL.',
      zh:
        '服务名错误或请求参数全部丢失（S0）。检查 service 拼写（refund_fastpay_by_platform_pwd / ' +
        'refund_fastpay_by_platform_nopwd），并确认参数确实送达网关：以 application/x-www-form-urlencoded 提交，' +
        '_input_charset 放在 URL 上。',
    },
  },
  {
    code: 'ILLEGAL_USER',
    zh: '用户ID不正确',
    en: 'User ID is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        'Check seller_user_id: 2088 + 12 digits, the account that received the original payments ' +
        '(normally the partner ID itself).',
      zh: '检查 seller_user_id：2088 开头的 16 位数字，应为原交易的收款账户（通常就是 partner 本身）。',
    },
  },
  {
    code: 'ILLEGAL_PARTNER',
    zh: '合作伙伴ID不正确',
    en: 'Partner ID is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'C2',
    services: GATEWAY,
    advice: {
      en: 'Check partner: the 16-digit 2088… ID of the contract, without spaces and not swapped with the key (S0).',
      zh: '检查 partner：签约的 2088 开头 16 位合作者身份 ID，不含空格，且没有与密钥填反（S0）。',
    },
  },
  {
    code: 'ILLEGAL_EXTERFACE',
    zh: '接口配置不正确',
    en: 'Interface configuration is incorrect',
    channel: 'sync',
    action: 'contact-alipay',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en:
        "Alipay's configuration of this service for the partner is wrong or missing. Check the service name, " +
        'then ask Alipay support to check the product configuration.',
      zh: '支付宝侧该 partner 的此接口配置有误或缺失。先核对 service 名称，再联系支付宝技术支持检查产品配置。',
    },
  },
  {
    code: 'ILLEGAL_PARTNER_EXTERFACE',
    zh: '合作伙伴接口信息不正确',
    en: "The partner's interface information is incorrect",
    channel: 'sync',
    action: 'contact-alipay',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en: "The partner's settings for this service are incomplete on Alipay's side. Check partner and service, then ask Alipay support.",
      zh: '支付宝侧该合作伙伴的接口信息不完整。核对 partner 与 service 后联系支付宝技术支持。',
    },
  },
  {
    code: 'ILLEGAL_SECURITY_PROFILE',
    zh: '未找到匹配的密钥配置',
    en: 'No matching key configuration was found',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en:
        'No key of the requested sign_type is configured for this partner. Use the sign_type you set up ' +
        '(MD5 key, or RSA with your public key uploaded in the merchant platform).',
      zh: '该 partner 没有与 sign_type 对应的密钥配置。使用已配置的签名方式（MD5 密钥，或已在商户平台上传公钥的 RSA）。',
    },
  },
  {
    code: 'ILLEGAL_AGENT',
    zh: '代理ID不正确',
    en: 'Agent ID is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en: 'These refund services take no agent parameter: remove any agent field and check partner.',
      zh: '退款接口没有代理参数：去掉 agent 类字段，并核对 partner。',
    },
  },
  {
    code: 'ILLEGAL_SIGN_TYPE',
    zh: '签名类型不正确',
    en: 'Signature type is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'C1',
    services: GATEWAY,
    advice: {
      en:
        'sign_type must be MD5, RSA or DSA in upper case, must match the key configured for the partner, ' +
        'and is itself left out of the signed string (S0).',
      zh: 'sign_type 只能是大写的 MD5、RSA 或 DSA，须与该 partner 配置的密钥类型一致，且本身不参与签名（S0）。',
    },
  },
  {
    code: 'ILLEGAL_CHARSET',
    zh: '字符集不合法',
    en: 'Charset is not valid',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en:
        '_input_charset must be utf-8, gbk or gb2312, sent in the gateway URL (?_input_charset=…) and among ' +
        'the signed parameters.',
      zh: '_input_charset 只能是 utf-8、gbk 或 gb2312，须出现在网关 URL（?_input_charset=…）中并参与签名。',
    },
  },
  {
    code: 'ILLEGAL_ENCODING',
    zh: '不支持该编码类型',
    en: 'Encoding type is not supported',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en: 'Encode the request body in the charset named by _input_charset (utf-8, gbk or gb2312) and in nothing else.',
      zh: '请求体须按 _input_charset 指定的字符集（utf-8、gbk 或 gb2312）编码，不要混用其他编码。',
    },
  },
  {
    code: 'ILLEGAL_CLIENT_IP',
    zh: '客户端IP地址无权访问服务',
    en: 'The client IP address may not access the service',
    channel: 'sync',
    action: 'contact-alipay',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en:
        'The partner has an IP allow-list: call from a registered server IP, or ask Alipay to update the list. ' +
        "Reach Alipay through DNS; do not pin Alipay's IP addresses (S1).",
      zh: '该 partner 设置了 IP 白名单：从已登记的服务器 IP 调用，或联系支付宝更新白名单。请通过 DNS 访问支付宝，不要绑定支付宝 IP（S1）。',
    },
  },
  {
    code: 'HAS_NO_PRIVILEGE',
    zh: '无权访问',
    en: 'No privilege (the contract lacks this service)',
    channel: 'sync',
    action: 'contact-alipay',
    confidence: 'C1',
    services: GATEWAY,
    advice: {
      en:
        'The contract does not include this service (S0). pwd and nopwd are signed separately, and nopwd needs ' +
        'the automatic-refund agreement signed with a digital certificate. Check the service name, then sign the product with Alipay.',
      zh: '签约合同中没有该接口的权限（S0）。有密与无密需分别签约，无密退款需用数字证书签署自动退款协议。核对 service 后向支付宝申请开通。',
    },
  },
  {
    code: 'ILLEGAL_DIGEST_TYPE',
    zh: '摘要类型不正确',
    en: 'Digest type is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: FILE_PARAM_ADVICE,
  },
  {
    code: 'ILLEGAL_DIGEST',
    zh: '文件摘要不正确',
    en: 'File digest is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: FILE_PARAM_ADVICE,
  },
  {
    code: 'ILLEGAL_FILE_FORMAT',
    zh: '文件格式不正确',
    en: 'File format is incorrect',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: FILE_PARAM_ADVICE,
  },
  {
    code: 'ILLEGAL_TARGET_SERVICE',
    zh: '错误的target_service',
    en: 'Invalid target_service',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en: 'Refund requests have no target_service parameter: remove it and check service.',
      zh: '退款请求没有 target_service 参数：删除它并核对 service。',
    },
  },
  {
    code: 'ILLEGAL_ACCESS_SWITCH_SYSTEM',
    zh: 'partner不允许访问该类型的系统',
    en: 'The partner may not access this type of system',
    channel: 'sync',
    action: 'contact-alipay',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en:
        'The partner is not allowed on the Alipay system it called. Check that the gateway URL and the partner ' +
        'belong to the same environment, then ask Alipay.',
      zh: '该 partner 不允许访问所调用的支付宝系统。确认网关地址与 partner 属于同一环境，仍不行请联系支付宝。',
    },
  },
  {
    code: 'EXTERFACE_IS_CLOSED',
    zh: '接口已关闭',
    en: 'The interface has been closed',
    channel: 'sync',
    action: 'contact-alipay',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en:
        'Alipay has closed this service for the partner (these legacy mapi refund services were later replaced ' +
        'by alipay.trade.refund). Ask Alipay whether it can be reopened, or migrate.',
      zh: '支付宝已为该 partner 关闭此接口（这些旧版 mapi 退款接口后来被 alipay.trade.refund 取代）。联系支付宝确认能否重新开通，或迁移到新接口。',
    },
  },
  {
    code: 'SESSION_TIMEOUT',
    zh: 'session超时',
    en: 'Session timed out',
    channel: 'sync',
    action: 'retry-later',
    confidence: 'INF',
    services: GATEWAY,
    advice: {
      en:
        'The Alipay page session expired before the refund was confirmed. Start again from your site with a ' +
        'freshly built request (refund_date is the current time).',
      zh: '支付宝页面会话在确认退款前已超时。请从商户网站重新构造请求（refund_date 取当前时间）后再发起。',
    },
  },
  {
    code: 'ILLEGAL_REQUEST_REFERER',
    zh: '防钓鱼检查不支持该请求来源',
    en: 'Anti-phishing check: the request origin is not allowed',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        'The partner has anti-phishing checks enabled: submit the form from the domain registered with Alipay ' +
        "(the browser's Referer must match), or ask Alipay to register the domain.",
      zh: '该 partner 开启了防钓鱼校验：从在支付宝登记的域名提交表单（浏览器 Referer 须匹配），或联系支付宝登记域名。',
    },
  },
  {
    code: 'ILLEGAL_ANTI_PHISHING_KEY',
    zh: '防钓鱼检查非法时间戳参数',
    en: 'Anti-phishing check: invalid timestamp key',
    channel: 'sync',
    action: 'contact-alipay',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        'The partner has timestamp anti-phishing enabled, which these refund services do not document. Ask ' +
        'Alipay to turn it off for them, or send a fresh anti_phishing_key from query_timestamp.',
      zh: '该 partner 开启了时间戳防钓鱼，而退款接口文档中没有该参数。请联系支付宝为退款接口关闭，或携带由 query_timestamp 新取的 anti_phishing_key。',
    },
  },
  {
    code: 'ANTI_PHISHING_KEY_TIMEOUT',
    zh: '防钓鱼检查时间戳超时',
    en: 'Anti-phishing check: the timestamp has expired',
    channel: 'sync',
    action: 'retry-later',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en: 'Fetch a new anti_phishing_key from query_timestamp right before building the request and submit it at once.',
      zh: '在构造请求前重新调用 query_timestamp 获取 anti_phishing_key，并立即提交。',
    },
  },
  {
    code: 'ILLEGAL_EXTER_INVOKE_IP',
    zh: '防钓鱼检查非法调用IP',
    en: 'Anti-phishing check: the caller IP is not allowed',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        'The IP checked by anti-phishing (exter_invoke_ip) does not match the real caller. Send the real client ' +
        'IP or none, or ask Alipay to turn the check off.',
      zh: '防钓鱼校验的 IP（exter_invoke_ip）与实际调用方不符。传真实的客户端 IP 或不传，或联系支付宝关闭该校验。',
    },
  },
  // ---- system faults (sync or async) -----------------------------------------------------------
  {
    code: 'UNKNOWN_EXCEPTION',
    zh: '系统未知异常',
    en: 'Unknown system exception',
    channel: 'both',
    action: 'pause-and-ask',
    confidence: 'C1',
    outcomeUnknown: true,
    services: GATEWAY,
    advice: SYSTEM_FAULT_ADVICE,
  },
  {
    code: 'GENERIC_FAILURE',
    zh: '系统通用失败',
    en: 'Generic system failure',
    channel: 'both',
    action: 'pause-and-ask',
    confidence: 'C1',
    outcomeUnknown: true,
    services: GATEWAY,
    advice: SYSTEM_FAULT_ADVICE,
  },
  {
    code: 'SYSTEM_ERROR',
    zh: '系统错误',
    en: 'System error',
    channel: 'both',
    action: 'pause-and-ask',
    confidence: 'C1',
    outcomeUnknown: true,
    services: GATEWAY,
    advice: SYSTEM_FAULT_ADVICE,
  },
  // ---- batch checks (sync) ---------------------------------------------------------------------
  {
    code: 'BATCH_NUM_EXCEED_LIMIT',
    zh: '总笔数大于1000',
    en: 'More than 1000 records in one batch',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        'Split the refunds into batches of at most 1000 records (50 is the most efficient size, S1), each with ' +
        'its own batch_no, and submit them one after another: only one batch per partner runs at a time.',
      zh: '拆分为每批不超过 1000 笔（S1：50 笔效率最高），每批使用新的 batch_no，并逐批提交：同一 partner 同一时间只能处理一个批次。',
    },
  },
  {
    code: 'REFUND_DATE_ERROR',
    zh: '错误的退款时间',
    en: 'Invalid refund time',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'C1',
    services: REFUND,
    advice: {
      en:
        'refund_date must be the current Beijing time as yyyy-MM-dd HH:mm:ss (24-hour) and its date must equal ' +
        'the yyyyMMdd that starts batch_no (S1). Fix it and resubmit.',
      zh: 'refund_date 须为当前北京时间，格式 yyyy-MM-dd HH:mm:ss（24 小时制），其日期须与 batch_no 开头的 yyyyMMdd 一致（S1）。修改后重新提交。',
    },
  },
  {
    code: 'BATCH_NUM_ERROR',
    zh: '传入的总笔数格式错误',
    en: 'batch_num is not a valid number',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en: 'batch_num must be a plain integer from 1 to 1000 (no spaces, signs or decimals) equal to the number of records.',
      zh: 'batch_num 须为 1 到 1000 的整数（无空格、符号或小数），且等于明细笔数。',
    },
  },
  {
    code: 'BATCH_NUM_NOT_EQUAL_TOTAL',
    zh: '传入的退款条数不等于数据集解析出的退款条数',
    en: 'batch_num differs from the number of records in detail_data',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        "batch_num must equal the number of '#'-separated records. A '#' inside a refund reason splits a " +
        'record in two: strip ^ | $ # from reasons.',
      zh: 'batch_num 须等于 detail_data 中以“#”分隔的笔数。退款理由中的“#”会多拆出一笔：请去掉理由中的 ^ | $ #。',
    },
  },
  {
    code: 'SINGLE_DETAIL_DATA_EXCEED_LIMIT',
    zh: '单笔退款明细超出限制',
    en: 'A single refund record exceeds the limit',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        'One record is too large, for example too many royalty items; the exact limit is undocumented. Spread ' +
        'the royalty refunds over records in later batches (a trade_no may appear only once per batch).',
      zh: '单条明细过大（例如分润条目过多），具体上限文档未给出。把分润退款拆到后续批次的明细中（同一批次中交易号只能出现一次）。',
    },
  },
  {
    code: 'DUBL_ROYALTY_IN_DETAIL',
    zh: '同一条明细中存在两条转入转出账户相同的分润信息',
    en: 'Two royalty items in one record have the same out and in accounts',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: ['nopwd'],
    advice: {
      en: 'Merge royalty items that have the same transfer-out and transfer-in accounts into one item with the summed amount.',
      zh: '把转出、转入账户都相同的分润条目合并为一条，金额相加。',
    },
  },
  {
    code: 'DUBL_TRADE_NO_IN_SAME_BATCH',
    zh: '同一批退款中存在两条相同的退款记录',
    en: 'The same trade appears twice in one batch',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en: 'Each trade_no may appear only once per batch: merge the amounts into one record, or send the second refund in a later batch.',
      zh: '同一批次中每个交易号只能出现一次：合并为一条明细，或把第二笔退款放到后续批次。',
    },
  },
  {
    code: 'DUPLICATE_BATCH_NO',
    zh: '重复的批次号',
    en: 'Duplicate batch number',
    channel: 'sync',
    action: 'pause-and-ask',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        'This partner has used the batch_no before. If this answers a resend of a request whose reply was lost, ' +
        'the first submission was accepted: wait for its notification or check it with refund_fastpay_query, ' +
        'and do not resubmit. Otherwise fix the batch_no generator so every batch gets a new number.',
      zh:
        '该 partner 已使用过此 batch_no。如果这是对未收到应答的请求的重发，说明首次提交已被受理：等待其异步通知或用 ' +
        'refund_fastpay_query 查询，不要再提交。否则请修正批次号生成逻辑，保证每批唯一。',
    },
  },
  {
    code: 'BATCH_NO_FORMAT_ERROR',
    zh: '批次号格式错误',
    en: 'Malformed batch number',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'C1',
    services: REFUND,
    advice: {
      en:
        "batch_no = today's date yyyyMMdd (Beijing time) + a serial of 3–24 digits or letters, not 000, " +
        "11–32 characters in all, never reused; its date must equal refund_date's date.",
      zh: 'batch_no = 当天日期 yyyyMMdd（北京时间）+ 3 至 24 位数字或字母序号（不能为 000），总长 11–32 位，永不重复；日期须与 refund_date 一致。',
    },
  },
  {
    code: 'RESULT_BATCH_NO_FORMAT_ERROR',
    zh: '批次号格式错误',
    en: 'Malformed batch number (result code)',
    channel: 'both',
    action: 'fix-request',
    confidence: 'INF',
    services: [...REFUND, 'query'],
    advice: {
      en:
        'Same rule as BATCH_NO_FORMAT_ERROR; this RESULT_ variant sits among the per-record codes in the code ' +
        "lists. batch_no = today's yyyyMMdd + 3–24 digits or letters, not 000: fix it and resubmit in a new batch.",
      zh:
        '规则同 BATCH_NO_FORMAT_ERROR；这个 RESULT_ 前缀的码在码表中列在逐笔结果码之间。batch_no = 当天 yyyyMMdd + ' +
        '3 至 24 位数字或字母（不能为 000）：修正后放入新批次重新提交。',
    },
  },
  {
    code: 'DETAIL_DATA_FORMAT_ERROR',
    zh: '数据集参数格式错误',
    en: 'Malformed detail_data',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        "Records are trade_no^amount^reason joined by '#', optionally followed by |royalty items and a $$sub-trade " +
        "part; amounts have at most 2 decimals; reasons contain no ^ | $ #; royalty items keep every '^' even for " +
        "empty fields; no leading or trailing '#'.",
      zh:
        '每笔为 交易号^退款金额^退款理由，笔与笔用“#”分隔，可附 |分润 与 $$子交易；金额最多两位小数；理由中不能含 ^ | $ #；' +
        '分润字段为空时“^”也必须保留；首尾不能有“#”。',
    },
  },
  {
    code: 'PWD_REFUND_NOT_ALLOW_ROYALTY',
    zh: '有密接口不允许退分润',
    en: 'The pwd service does not allow royalty refunds',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: ['pwd'],
    advice: {
      en: 'Remove the |royalty items from detail_data. Royalty refunds need refund_fastpay_by_platform_nopwd (a separate contract).',
      zh: '从 detail_data 中去掉 |分润 部分。退分润需使用无密接口 refund_fastpay_by_platform_nopwd（需单独签约）。',
    },
  },
  {
    code: 'BATCH_MEMO_LENGTH_EXCEED_LIMIT',
    zh: '备注长度超过256字节',
    en: 'A refund reason is longer than 256 bytes',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        'Shorten each reason to at most 256 bytes in _input_charset (a Chinese character is 3 bytes in UTF-8, ' +
        '2 in GBK). One code list says 1000 bytes; 256 is the safe limit.',
      zh: '每条退款理由按 _input_charset 计不超过 256 字节（中文在 UTF-8 中占 3 字节、GBK 中占 2 字节）。有一份码表写 1000 字节，按 256 更稳妥。',
    },
  },
  {
    code: 'SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT',
    zh: '单条数据集编码集不支持',
    en: "A record contains characters the request's charset cannot carry",
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en: 'A record has characters _input_charset cannot represent (e.g. emoji under GBK). Remove them or send the request in utf-8.',
      zh: '某条明细含有 _input_charset 无法表示的字符（如 GBK 下的 emoji）。删除这些字符或改用 utf-8。',
    },
  },
  {
    code: 'INVALID_CHARACTER_SET',
    zh: '字符集无效',
    en: 'Invalid character set',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en: 'Use _input_charset utf-8, gbk or gb2312 and encode the body in exactly that charset.',
      zh: '_input_charset 使用 utf-8、gbk 或 gb2312，并严格按该字符集编码请求体。',
    },
  },
  {
    code: 'SELLER_INFO_NOT_EXIST',
    zh: '卖家信息不存在',
    en: 'Seller information does not exist',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en: 'seller_email / seller_user_id does not identify an Alipay account. Check it; for your own trades send seller_user_id = partner.',
      zh: 'seller_email / seller_user_id 找不到对应的支付宝账户。请核对；退自己的交易时传 seller_user_id = partner。',
    },
  },
  {
    code: 'SELLER_STATUS_NOT_ALLOW',
    zh: '卖家状态不正常',
    en: 'The seller account status does not allow refunds',
    channel: 'sync',
    action: 'contact-alipay',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en: 'The seller account is frozen, closed or restricted. Resolve its status with Alipay, then resubmit in a new batch.',
      zh: '卖家账户被冻结、注销或受限。联系支付宝恢复账户状态后，放入新批次重新提交。',
    },
  },
  {
    code: 'SELLER_NOT_SIGN_PROTOCOL',
    zh: '卖家未签署协议',
    en: 'The seller has not signed the agreement',
    channel: 'sync',
    action: 'resubmit-new-batch',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        "A seller account other than the partner's own must sign the 支付圈 agreement (sign_protocol_with_partner) " +
        'with the partner account (S1). Have it signed, then resubmit in a new batch.',
      zh: '收款账号不是签约账号本身时，须与签约账号签署“支付圈签约接口（sign_protocol_with_partner）”协议（S1）。签约后放入新批次重新提交。',
    },
  },
  {
    code: 'PARTNER_NOT_SIGN_PROTOCOL',
    zh: '平台商未签署协议',
    en: 'The platform has not signed the agreement',
    channel: 'both',
    action: 'resubmit-new-batch',
    confidence: 'INF',
    services: [...REFUND, 'query'],
    advice: {
      en:
        "Royalty accounts, and a seller_email that is not the partner's own account, must sign the 支付圈 agreement " +
        '(sign_protocol_with_partner) with the partner account (S1); signing with one platform does not cover ' +
        'another. Have it signed, then resubmit the affected records in a new batch.',
      zh:
        '分润方账号，以及不是签约账号本身的收款账号（seller_email），须与签约账号签署“支付圈签约接口（sign_protocol_with_partner）”' +
        '协议（S1）；与 A 平台签约不代表与 B 平台签约。签约后把相关明细放入新批次重新提交。',
    },
  },
  {
    code: 'CA_USER_NOT_USE_CA',
    zh: '数字证书用户但未使用数字证书登录',
    en: 'A certificate user did not log in with the digital certificate',
    channel: 'sync',
    action: 'retry-later',
    confidence: 'INF',
    services: ['pwd'],
    advice: {
      en: "The operator's Alipay account uses a digital certificate: confirm the refund on a computer where that certificate is installed.",
      zh: '操作员的支付宝账户启用了数字证书：请在安装了该证书的电脑上确认退款。',
    },
  },
  {
    code: 'TRADE_STATUS_ERROR',
    zh: '交易状态不允许退款',
    en: 'The trade status does not allow a refund',
    channel: 'sync',
    action: 'fix-request',
    confidence: 'C1',
    services: REFUND,
    advice: {
      en:
        "A trade in the batch cannot be refunded in its current state, e.g. suspended because one party's account " +
        'is locked (S1); only TRADE_SUCCESS trades can be refunded. The whole batch was rejected: leave that trade ' +
        'out, resubmit the others in a new batch, and take the suspended one up with Alipay.',
      zh:
        '批次中有交易处于不允许退款的状态，例如因交易一方账号被锁定而挂起（S1）；只有 TRADE_SUCCESS 状态的交易可以退款。' +
        '整批已被拒绝：去掉该交易，其余明细放入新批次重新提交；挂起的交易联系支付宝处理。',
    },
  },
  // ---- per-record results (async) --------------------------------------------------------------
  {
    code: 'SUCCESS',
    zh: '处理成功',
    en: 'Success',
    channel: 'async',
    action: 'none',
    confidence: 'C2',
    services: RESULT,
    advice: {
      en:
        'This part of the record was refunded. Update your order idempotently (the same notification can arrive ' +
        'several times); a fee or royalty part carries its own code.',
      zh: '该部分退款成功。幂等地更新订单（同一通知可能多次到达）；退费、退分润部分各有自己的结果码。',
    },
  },
  {
    code: 'NOT_THIS_SELLER_TRADE',
    zh: '不是当前卖家的交易',
    en: 'Not a trade of this seller',
    channel: 'async',
    action: 'fix-request',
    confidence: 'C2',
    services: RESULT,
    advice: {
      en:
        'The trade was paid to another seller account. Check trade_no and, for pwd, seller_user_id / seller_email; ' +
        'refund it as the seller that received the payment, in a new batch.',
      zh: '该交易的收款方是其他卖家。核对交易号，有密接口还需核对 seller_user_id / seller_email；以实际收款的卖家身份在新批次中退款。',
    },
  },
  {
    code: 'NOT_THIS_PARTNERS_TRADE',
    zh: '退款明细非本合作伙伴的交易',
    en: 'The refund record is not a trade of this partner',
    channel: 'async',
    action: 'fix-request',
    confidence: 'C2',
    services: RESULT,
    advice: {
      en: 'The trade was not created through this partner ID. Check trade_no for typos; only the partner that created a trade can refund it.',
      zh: '该交易不是通过本 partner 创建的。核对交易号是否有误；只有创建交易的合作伙伴才能退款。',
    },
  },
  {
    code: 'TRADE_NOT_EXISTS',
    zh: '交易不存在',
    en: 'The trade does not exist',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en:
        "trade_no must be Alipay's trade number (16 digits before 2013, 28 later), not your out_trade_no, and the " +
        'trade must have been paid. Correct it and resubmit in a new batch.',
      zh: 'trade_no 须为支付宝交易号（2013 年前 16 位，之后 28 位），不是商户订单号 out_trade_no，且交易须已付款。更正后放入新批次重新提交。',
    },
  },
  {
    code: 'WHOLE_DETAIL_FORBID_REFUND',
    zh: '整条退款明细都禁止退款',
    en: 'Refunds are forbidden for the whole record',
    channel: 'async',
    action: 'contact-alipay',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'Alipay refused every part of this record. Do not resubmit it automatically; contact Alipay support with the trade_no.',
      zh: '支付宝拒绝了这条明细的全部内容。不要自动重新提交；带上交易号联系支付宝技术支持。',
    },
  },
  {
    code: 'TRADE_HAS_CLOSED',
    zh: '交易已关闭，不允许退款',
    en: 'The trade is closed; no refund allowed',
    channel: 'async',
    action: 'none',
    confidence: 'C1',
    services: RESULT,
    advice: {
      en:
        'The trade is TRADE_CLOSED: already fully refunded, or never paid. Do not resubmit. If your records show ' +
        "no earlier refund, an earlier batch's notification may have been lost: look the trade up with refund_fastpay_query.",
      zh: '交易为 TRADE_CLOSED：已全额退款或未付款。不要重新提交。若本地没有先前退款的记录，可能是之前某批次的通知丢失：用 refund_fastpay_query 按交易号查询。',
    },
  },
  {
    code: 'TRADE_HAS_FINISHED',
    zh: '交易已结束，不允许退款',
    en: 'The trade is finished; no refund allowed',
    channel: 'async',
    action: 'none',
    confidence: 'C1',
    services: RESULT,
    advice: {
      en:
        'The trade is TRADE_FINISHED: its refund period is over and this API can no longer refund it. Do not ' +
        'resubmit; refund the buyer by other means if you must.',
      zh: '交易为 TRADE_FINISHED：已过可退款期限，无法再通过本接口退款。不要重新提交；如需退款请通过其他方式退给买家。',
    },
  },
  {
    code: 'REFUND_TRADE_FEE_ERROR',
    zh: '退交易金额不合法',
    en: 'Invalid trade refund amount',
    channel: 'async',
    action: 'fix-request',
    confidence: 'C1',
    services: RESULT,
    advice: {
      en:
        'The trade refund amount is not acceptable: it does not agree with the paid amount (S1) or exceeds the ' +
        'paid amount minus earlier refunds. Correct the amount and resubmit the record in a new batch.',
      zh: '交易退款金额与付款金额不一致（S1），或超过实付金额减去已退金额。更正金额后把该笔放入新批次重新提交。',
    },
  },
  {
    code: 'REFUND_AMOUNT_NOT_VALID',
    zh: '退款金额不合法',
    en: 'Invalid refund amount',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en:
        'Amounts are yuan with at most 2 decimals, at least 0.01 (0 only in a royalty-only record), and all ' +
        'refunds of a trade together may not exceed what was paid. Correct it and resubmit in a new batch.',
      zh: '金额以元为单位，最多两位小数，至少 0.01（仅退分润时交易金额可为 0），同一交易累计退款不得超过实付金额。更正后放入新批次重新提交。',
    },
  },
  {
    code: 'REASON_TRADE_REFUND_FEE_ERR',
    zh: '退款金额错误',
    en: 'Wrong refund amount',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: "The refund amount is wrong, typically more than what is left to refund. Check the trade's earlier refunds, correct the amount and resubmit in a new batch.",
      zh: '退款金额错误，通常是超过了剩余可退金额。核对该交易之前的退款，更正金额后放入新批次重新提交。',
    },
  },
  {
    code: 'REASON_HAS_REFUND_FEE_NOT_MATCH',
    zh: '已退款金额错误',
    en: 'The already-refunded amount does not match',
    channel: 'async',
    action: 'pause-and-ask',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en:
        "The amount already refunded on this trade does not add up. Do not resubmit: reconcile the trade's earlier " +
        'refunds (refund_fastpay_query by trade_no) and contact Alipay if they disagree with your records.',
      zh: '该交易的已退款金额对不上。不要重新提交：用 refund_fastpay_query 按交易号核对历史退款，与本地记录不符时联系支付宝。',
    },
  },
  {
    code: 'RESULT_AMOUNT_NOT_VALID',
    zh: '退收费、退分润或者退款的金额错误',
    en: 'Invalid fee, royalty or refund amount',
    channel: 'async',
    action: 'fix-request',
    confidence: 'C1',
    services: RESULT,
    advice: {
      en:
        'A fee, royalty or refund amount is larger than the matching amount of the original trade (S1; e.g. ticket ' +
        'price, airport fee, fuel surcharge or insurance). Check every amount of the record and resubmit it in a new batch.',
      zh: '退收费、退分润或退款金额大于原交易的相应金额（S1，如票面价、机建费、燃油费、航意险）。逐项核对金额后放入新批次重新提交。',
    },
  },
  {
    code: 'REFUND_CHARGE_FEE_ERROR',
    zh: '退收费金额不合法',
    en: 'Invalid fee-refund amount',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en:
        'The $charge (fee refund) amount is invalid. Alipay computes the fee refund itself (S1): drop the $charge ' +
        'section or correct it, and resubmit in a new batch.',
      zh: '退收费金额不合法。支付宝会自动计算退手续费（S1）：去掉 $收费 部分或更正金额，放入新批次重新提交。',
    },
  },
  {
    code: 'REFUND_CHARGE_FEE_GREATER_THAN_LIMIT',
    zh: '退收费金额超过限制',
    en: 'The fee refund exceeds the limit',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'The fee refund is larger than the fee that was charged. Lower it, or drop the $charge section and let Alipay compute it; resubmit in a new batch.',
      zh: '退收费金额超过了原收费金额。调低金额，或去掉 $收费 部分由支付宝自动计算；放入新批次重新提交。',
    },
  },
  {
    code: 'REASON_REFUND_CHARGE_ERR',
    zh: '退收费失败',
    en: 'The fee refund failed',
    channel: 'async',
    action: 'contact-alipay',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'The fee part failed; the trade part has its own code, so check it before resubmitting anything. Ask Alipay about the fee part.',
      zh: '退收费部分失败；交易部分另有结果码，重新提交前先核对它。退收费部分请联系支付宝。',
    },
  },
  {
    code: 'NO_REFUND_CHARGE_PRIVILEDGE',
    zh: '没有退收费的权限',
    en: 'No privilege to refund fees',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'Remove the $charge section (Alipay refunds the payment fee automatically, S1) or ask Alipay for the privilege; resubmit in a new batch.',
      zh: '去掉 $收费 部分（支付宝会自动退支付手续费，S1），或向支付宝申请该权限；放入新批次重新提交。',
    },
  },
  {
    code: 'REFUND_ROYALTY_FEE_ERROR',
    zh: '退分润金额不合法',
    en: 'Invalid royalty refund amount',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: NOPWD_RESULT,
    advice: {
      en: 'A royalty refund is malformed or larger than what the transfer-out account received in the original split. Correct it and resubmit in a new batch.',
      zh: '退分润金额格式不对，或大于转出方在原分润中收到的金额。更正后放入新批次重新提交。',
    },
  },
  {
    code: 'REASON_REFUND_ROYALTY_ERROR',
    zh: '退分润错误',
    en: 'The royalty refund failed',
    channel: 'async',
    action: 'resubmit-new-batch',
    confidence: 'INF',
    services: NOPWD_RESULT,
    advice: {
      en:
        'The royalty part failed, typically because the transfer-out account lacks balance (S1) or an account is ' +
        'wrong. Fix the cause, then resubmit the royalty part in a new batch (a royalty-only record has trade amount 0).',
      zh: '退分润失败，通常是转出方余额不足（S1）或账号有误。解决后把分润部分放入新批次重新提交（仅退分润时交易金额填 0）。',
    },
  },
  {
    code: 'ROYALTYER_NOT_SIGN_PROTOCOL',
    zh: '分润方未签署三方协议',
    en: 'The royalty party has not signed the three-party agreement',
    channel: 'async',
    action: 'resubmit-new-batch',
    confidence: 'INF',
    services: NOPWD_RESULT,
    advice: {
      en: 'The royalty account must sign the 支付圈 agreement (sign_protocol_with_partner) with the partner account (S1). Have it signed, then resubmit in a new batch.',
      zh: '分润方须与签约账号签署“支付圈签约接口（sign_protocol_with_partner）”协议（S1）。签约后放入新批次重新提交。',
    },
  },
  {
    code: 'DUP_ROYALTY_REFUND_ITEM',
    zh: '重复的退分润条目',
    en: 'Duplicate royalty refund item',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: NOPWD_RESULT,
    advice: {
      en: 'The same royalty item appears twice: merge items with the same transfer-out and transfer-in accounts and resubmit in a new batch.',
      zh: '分润条目重复：合并转出、转入账户相同的条目后，放入新批次重新提交。',
    },
  },
  {
    code: 'REFUND_SUBTRADE_FEE_ERROR',
    zh: '退子交易金额不合法',
    en: 'Invalid sub-trade refund amount',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: NOPWD_RESULT,
    advice: {
      en: "The $$sub-trade amount is malformed or exceeds the sub-trade's refundable amount (reported in the result). Correct it and resubmit in a new batch.",
      zh: '$$子交易 退款金额格式不对，或超过子交易可退金额（结果中会返回）。更正后放入新批次重新提交。',
    },
  },
  {
    code: 'ACCOUNT_NOT_EXISTS',
    zh: '账号不存在',
    en: 'The account does not exist',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en:
        'A royalty or fee account does not exist. Check the email (mobile numbers are not accepted, S1) or use ' +
        'the 2088… user ID instead, then resubmit in a new batch.',
      zh: '分润或收费账号不存在。核对邮箱（不能用手机号，S1），或改用 2088 开头的用户 ID，然后放入新批次重新提交。',
    },
  },
  {
    code: 'EMAIL_USERID_NOT_MATCH',
    zh: 'Email和用户ID不匹配',
    en: 'Email and user ID do not match',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: "For each royalty or fee party fill either the email or the user ID and leave the other empty (keeping its '^'); resubmit in a new batch.",
      zh: '分润或收费的每一方只填邮箱或用户 ID 其中之一，另一项留空（保留“^”）；放入新批次重新提交。',
    },
  },
  {
    code: 'RESULT_ACCOUNT_NO_NOT_VALID',
    zh: '账号无效',
    en: 'Invalid account',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'An account in the record cannot be used (bad format or closed). Use a valid email or 2088… user ID and resubmit in a new batch.',
      zh: '明细中的某个账号不可用（格式错误或已注销）。改用有效的邮箱或 2088 开头的用户 ID，放入新批次重新提交。',
    },
  },
  {
    code: 'TXN_RESULT_ACCOUNT_STATUS_NOT_VALID',
    zh: '账户状态无效或被冻结',
    en: 'The account status is invalid or frozen',
    channel: 'async',
    action: 'contact-alipay',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'The paying account (the seller, or a royalty payer) is frozen or restricted. Resolve it with Alipay, then resubmit the record in a new batch.',
      zh: '付款方账户（卖家或分润转出方）被冻结或受限。联系支付宝处理后，把该笔放入新批次重新提交。',
    },
  },
  {
    code: 'TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH',
    zh: '账户余额不足',
    en: 'Insufficient account balance',
    channel: 'async',
    action: 'resubmit-new-batch',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'The paying account (the seller, or a royalty payer) lacks available balance. Top it up, then resubmit the failed records in a new batch.',
      zh: '付款方账户（卖家或分润转出方）可用余额不足。充值后把失败的明细放入新批次重新提交。',
    },
  },
  {
    code: 'SELLER_BALANCE_NOT_ENOUGH',
    zh: '账户余额不足',
    en: "The seller's balance is insufficient",
    channel: 'async',
    action: 'resubmit-new-batch',
    confidence: 'C1',
    services: RESULT,
    advice: {
      en: "The seller's available balance does not cover the refund. Top up the Alipay account, then resubmit the failed records in a new batch (new batch_no).",
      zh: '卖家可用余额不足以退款。给支付宝账户充值后，把失败的明细放入新批次（新的 batch_no）重新提交。',
    },
  },
  {
    code: 'BATCH_REFUND_LOCK_ERROR',
    zh: '同一时间不允许进行多笔并发退款',
    en: 'Concurrent refund batches are not allowed',
    channel: 'async',
    action: 'retry-later',
    confidence: 'C1',
    services: RESULT,
    advice: {
      en:
        "Only one batch per partner is processed at a time (S1). Wait for the running batch's notification, then " +
        'resubmit the failed records in a new batch; send batches one after another.',
      zh: '同一 partner 同一时间只能处理一个批次（S1）。等正在处理的批次的异步通知到达后，把失败的明细放入新批次重新提交；批次之间请串行提交。',
    },
  },
  {
    code: 'BATCH_REFUND_STATUS_ERROR',
    zh: '退款记录状态错误',
    en: 'The refund record is in a wrong state',
    channel: 'async',
    action: 'contact-alipay',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: "Alipay's refund record is in an unexpected state. Do not resubmit automatically: check the batch with refund_fastpay_query and contact Alipay.",
      zh: '支付宝的退款记录状态异常。不要自动重新提交：用 refund_fastpay_query 查询该批次并联系支付宝。',
    },
  },
  {
    code: 'BATCH_REFUND_DATA_ERROR',
    zh: '批量退款后数据检查错误',
    en: 'The data check after the batch refund failed',
    channel: 'async',
    action: 'contact-alipay',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: "Alipay's post-refund data check failed, so the record's real state is unclear. Check it with refund_fastpay_query before resubmitting, and contact Alipay.",
      zh: '支付宝退款后的数据检查失败，该笔的真实状态不明。重新提交前先用 refund_fastpay_query 查询，并联系支付宝。',
    },
  },
  {
    code: 'REFUND_TRADE_FAILED',
    zh: '不存在退交易，但是退收费和退分润失败',
    en: 'No trade refund, and the fee and royalty refunds failed',
    channel: 'async',
    action: 'resubmit-new-batch',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en:
        'The record refunded no trade amount and its fee/royalty parts failed. Fix the cause reported on those ' +
        'parts (balance, agreement, accounts), then resubmit in a new batch.',
      zh: '该笔没有退交易金额，且退收费、退分润失败。按这些部分的结果码解决问题（余额、协议、账号）后放入新批次重新提交。',
    },
  },
  {
    code: 'REFUND_FAIL',
    zh: '退款失败',
    en: 'Refund failed',
    channel: 'async',
    action: 'contact-alipay',
    confidence: 'C1',
    services: RESULT,
    advice: {
      en:
        "Only produced during Alipay's data recovery when the real result code was lost (S1). Ask Alipay support " +
        "for the record's real outcome before doing anything else.",
      zh: '该结果码只会出现在支付宝做意外数据恢复、找不到结果码时（S1）。请先联系支付宝技术支持确认该笔的真实结果，再做其他处理。',
    },
  },
  {
    code: 'TRADE_PAYMENT_ERROR',
    zh: '交易支付处理错误（支付宝内部错误）',
    en: 'Trade payment processing error (Alipay internal)',
    channel: 'async',
    action: 'alipay-retries',
    confidence: 'C1',
    services: RESULT,
    advice: ALIPAY_RETRIES_ADVICE,
  },
  {
    code: 'TRADE_PROCESS_ERROR',
    zh: '交易处理错误（支付宝内部错误）',
    en: 'Trade processing error (Alipay internal)',
    channel: 'async',
    action: 'alipay-retries',
    confidence: 'C1',
    services: RESULT,
    advice: ALIPAY_RETRIES_ADVICE,
  },
  {
    code: 'QUERY_PARTICIPANT_ERROR',
    zh: '查询交易参与方错误（支付宝内部错误）',
    en: "Error looking up the trade's participants (Alipay internal)",
    channel: 'async',
    action: 'alipay-retries',
    confidence: 'C1',
    services: RESULT,
    advice: ALIPAY_RETRIES_ADVICE,
  },
  {
    code: 'NANHANG_REFUND_CHARGE_AMOUNT_ERROR',
    zh: '退票面价金额不合法',
    en: 'Invalid ticket-price refund amount (airline trades)',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'Airline trades: the ticket-price part of the refund is invalid or exceeds the ticket price paid. Correct it and resubmit in a new batch.',
      zh: '航空类交易：退票面价金额不合法或超过支付的票面价。更正后放入新批次重新提交。',
    },
  },
  {
    code: 'RESULT_FACE_AMOUNT_NOT_VALID',
    zh: '退款票面价不能大于支付票面价',
    en: 'The refunded ticket price may not exceed the ticket price paid',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'Lower the refunded ticket price to at most the ticket price paid, then resubmit the record in a new batch.',
      zh: '把退款票面价调到不超过支付票面价，然后放入新批次重新提交。',
    },
  },
  {
    code: 'TRADE_PRODUCT_TYPE_NOT_ALLOW_REFUND',
    zh: '交易类型不允许退交易',
    en: 'The trade type does not allow refunds',
    channel: 'async',
    action: 'contact-alipay',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'This kind of trade cannot be refunded through this service. Do not resubmit; ask Alipay how to refund it.',
      zh: '此类交易不能通过本接口退款。不要重新提交；联系支付宝确认退款方式。',
    },
  },
  {
    code: 'TRADE_PRODUCT_NOT_ALLOW_REFUND',
    zh: '交易产品不允许退款',
    en: "The trade's product does not allow refunds",
    channel: 'async',
    action: 'contact-alipay',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en: 'The product the trade was made with does not allow refunds through this service. Do not resubmit; ask Alipay how to refund it.',
      zh: '该交易所属的产品不允许通过本接口退款。不要重新提交；联系支付宝确认退款方式。',
    },
  },
  {
    code: 'REASON_REFUND_AMOUNT_LESS_THAN_COUPON_FEE',
    zh: '红包无法部分退款',
    en: 'A red packet (coupon) cannot be refunded partially',
    channel: 'async',
    action: 'fix-request',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en:
        'Part of the payment was a red packet (coupon), which cannot be refunded partially, so the refund may not be ' +
        'smaller than the coupon part. Refund the trade in full, or ask Alipay; resubmit in a new batch.',
      zh: '该交易部分使用红包支付，红包不能部分退款，退款金额不能小于红包金额。改为全额退款或联系支付宝；放入新批次重新提交。',
    },
  },
  {
    code: 'BUYER_ERROR',
    zh: '因买家支付宝账户问题不允许退款',
    en: "Refund not allowed because of a problem with the buyer's Alipay account",
    channel: 'async',
    action: 'contact-alipay',
    confidence: 'C2',
    services: RESULT,
    advice: {
      en: "The buyer's account cannot receive the refund (e.g. closed or restricted). Do not resubmit automatically; ask the buyer to sort the account out, or refund by other means.",
      zh: '买家账户无法接收退款（如已注销或受限）。不要自动重新提交；请买家处理账户问题，或通过其他方式退款。',
    },
  },
  {
    code: 'ELLER_CONFLICT',
    zh: MOBILE_RELEASED_ZH,
    en: "The merchant account's mobile login name was released; it cannot receive or pay",
    channel: 'async',
    action: 'resubmit-new-batch',
    confidence: 'C1',
    services: RESULT,
    advice: {
      en: `Spelled this way in one code list (presumably SELLER_CONFLICT). ${MOBILE_RELEASED_ADVICE.en}`,
      zh: `某份码表中的拼写（应为 SELLER_CONFLICT）。${MOBILE_RELEASED_ADVICE.zh}`,
    },
  },
  {
    code: 'SELLER_CONFLICT',
    zh: MOBILE_RELEASED_ZH,
    en: "The merchant account's mobile login name was released; it cannot receive or pay",
    channel: 'async',
    action: 'resubmit-new-batch',
    confidence: 'INF',
    services: RESULT,
    advice: MOBILE_RELEASED_ADVICE,
  },
  {
    code: 'ROYALTY_RECEIVE_EMAIL_CONFLICT',
    zh: '因分润收款账户手机登录号被释放，无法进行收付款。为了保障资金安全，建议修改账户名。',
    en: "The royalty receiving account's mobile login name was released; it cannot receive or pay",
    channel: 'async',
    action: 'resubmit-new-batch',
    confidence: 'C1',
    services: NOPWD_RESULT,
    advice: {
      en:
        "The mobile number used as this royalty account's login name was released. Identify the account by its " +
        '2088… user ID, or have the owner change the account name, then resubmit in a new batch.',
      zh: '该分润账户作为登录名的手机号已被释放。改用 2088 开头的用户 ID 指定账户，或请账户所有人修改账户名，然后放入新批次重新提交。',
    },
  },
  {
    code: 'ROYALTY_PAY_EMAIL_CONFLICT',
    zh: '因分润付款账户手机登录号被释放，无法进行收付款。为了保障资金安全，建议修改账户名。',
    en: "The royalty paying account's mobile login name was released; it cannot receive or pay",
    channel: 'async',
    action: 'resubmit-new-batch',
    confidence: 'C1',
    services: NOPWD_RESULT,
    advice: {
      en:
        "The mobile number used as this royalty account's login name was released. Identify the account by its " +
        '2088… user ID, or have the owner change the account name, then resubmit in a new batch.',
      zh: '该分润账户作为登录名的手机号已被释放。改用 2088 开头的用户 ID 指定账户，或请账户所有人修改账户名，然后放入新批次重新提交。',
    },
  },
  // ---- refund_fastpay_query (§13) --------------------------------------------------------------
  {
    code: 'REFUND_NOT_EXIST',
    zh: '退款记录不存在',
    en: 'No such refund',
    channel: 'sync',
    action: 'none',
    confidence: 'C1',
    services: ['query'],
    advice: {
      en:
        'Alipay has no refund under this batch_no / trade_no. Check the number; a batch rejected synchronously ' +
        '(is_success=F) is never recorded. For a batch whose outcome was unknown, query again later before resubmitting.',
      zh: '支付宝没有该 batch_no / trade_no 的退款记录。核对号码；同步被拒绝（is_success=F）的批次不会留下记录。对结果不明的批次，稍后再查一次确认后再重新提交。',
    },
  },
  // ---- produced by alirefund -------------------------------------------------------------------
  {
    code: 'RESULT_DETAILS_FORMAT_ERROR',
    zh: '退款结果明细无法解析',
    en: 'result_details could not be parsed',
    channel: 'local',
    action: 'pause-and-ask',
    confidence: 'INF',
    services: RESULT,
    advice: {
      en:
        'alirefund could not parse result_details (or a query result). Keep the raw text; do not mark records ' +
        'failed or resubmit them; check each record with refund_fastpay_query and report the sample, which may be an unknown format variant.',
      zh: 'alirefund 无法解析 result_details（或查询结果）。保存原文；不要把明细标为失败或重新提交；用 refund_fastpay_query 逐笔核对，并提交该样本（可能是未知的格式变体）。',
    },
  },
  {
    code: 'NOTIFY_SIGN_MISMATCH',
    zh: '异步通知签名验证失败',
    en: 'The notification signature does not verify',
    channel: 'local',
    action: 'pause-and-ask',
    confidence: 'INF',
    services: REFUND,
    advice: {
      en:
        'Do not process the notification and do not answer success. If genuine notifications fail: check the key ' +
        "(RSA notifications verify with Alipay's public key, not yours), decode values in the request's " +
        '_input_charset before verifying, and sign every posted parameter except sign, sign_type and empty ones.',
      zh:
        '不要处理该通知，也不要返回 success。若真实通知也验签失败：检查密钥（RSA 通知用支付宝公钥验签，而非商户公钥），' +
        '按原请求的 _input_charset 解码参数值后再验签，并对除 sign、sign_type 和空值外的全部通知参数验签。',
    },
  },
  {
    code: 'NOTIFY_VERIFY_FALSE',
    zh: 'notify_verify 返回 false',
    en: 'notify_verify answered false',
    channel: 'local',
    action: 'pause-and-ask',
    confidence: 'INF',
    services: ['notify_verify'],
    advice: {
      en:
        'Alipay does not recognise the notify_id for this partner: forged, expired, sent to another partner, or ' +
        'already consumed after an earlier success answer. Do not process it; check the partner used for the ' +
        'check, and confirm the batch with refund_fastpay_query.',
      zh: '支付宝不认可该 notify_id：伪造、过期、属于其他 partner，或之前已回复 success 而失效。不要处理该通知；核对校验时使用的 partner，并用 refund_fastpay_query 确认批次结果。',
    },
  },
  {
    code: 'NOTIFY_VERIFY_UNREACHABLE',
    zh: '无法完成 notify_verify 校验',
    en: 'notify_verify could not be reached',
    channel: 'local',
    action: 'retry-later',
    confidence: 'INF',
    services: ['notify_verify'],
    advice: {
      en:
        'Network error, timeout or an answer other than true/false when calling notify_verify: the notification ' +
        'is unconfirmed. Answer something other than success so Alipay sends it again (up to 8 times within about ' +
        '25 hours), and check again then.',
      zh: '调用 notify_verify 时网络错误、超时或返回既非 true 也非 false：通知未经确认。不要返回 success，让支付宝重发（约 25 小时内最多 8 次），届时再次校验。',
    },
  },
  {
    code: 'TRANSPORT_ERROR',
    zh: '调用支付宝网关网络异常',
    en: 'Network error or timeout calling the gateway',
    channel: 'local',
    action: 'pause-and-ask',
    confidence: 'INF',
    outcomeUnknown: true,
    services: ['nopwd', 'query'],
    advice: {
      en:
        'The request may or may not have reached Alipay. Never resubmit it under a new batch_no. Resending the ' +
        'identical request (same batch_no, same day) is safe: DUPLICATE_BATCH_NO then means the first one was ' +
        'accepted. Otherwise wait for the notification or check with refund_fastpay_query.',
      zh:
        '请求可能已到达支付宝，也可能没有。绝不要换新 batch_no 重新提交。当天原样重发（相同 batch_no）是安全的：' +
        '若返回 DUPLICATE_BATCH_NO 说明首次已被受理。否则等待异步通知或用 refund_fastpay_query 查询。',
    },
  },
];

function freezeEntry(info: CodeInfo): CodeInfo {
  Object.freeze(info.advice);
  if (info.services) Object.freeze(info.services);
  return Object.freeze(info);
}

/** Every known code, frozen and sorted by `code` (UTF-16 code-unit order, i.e. ASCII for codes). */
export const CODES: readonly CodeInfo[] = Object.freeze(
  [...ENTRIES].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)).map(freezeEntry),
);

const BY_CODE: ReadonlyMap<string, CodeInfo> = new Map(CODES.map((info) => [info.code, info]));

/** Codes are matched exactly, ignoring surrounding whitespace (some copied code maps carry a stray space). */
function normalize(code: string): string {
  return String(code).trim();
}

/** Whether `code` is in the catalogue. */
export function isKnownCode(code: string): boolean {
  return BY_CODE.has(normalize(code));
}

/**
 * The catalogue entry for `code`. Never throws: an unknown code gets a synthesized entry
 * (`未知错误码` / `Unknown code`, channel `both`, action `contact-alipay`, confidence `INF`).
 * @example lookupCode('ILLEGAL_SIGN').action // 'fix-request'
 */
export function lookupCode(code: string): CodeInfo {
  const key = normalize(code);
  const known = BY_CODE.get(key);
  if (known) return known;
  return freezeEntry({
    code: key,
    zh: '未知错误码',
    en: 'Unknown code',
    channel: 'both',
    action: 'contact-alipay',
    confidence: 'INF',
    advice: {
      en:
        'alirefund does not know this code. Do not resubmit automatically: keep the raw response, check the ' +
        'batch with refund_fastpay_query and ask Alipay support what the code means.',
      zh: 'alirefund 不认识该错误码。不要自动重新提交：保存原始响应，用 refund_fastpay_query 查询该批次，并向支付宝技术支持确认含义。',
    },
  });
}

/**
 * Whether the request that produced `code` may still have executed: UNKNOWN_EXCEPTION,
 * GENERIC_FAILURE, SYSTEM_ERROR (S1: pause, the request may complete through Alipay's recovery)
 * and alirefund's TRANSPORT_ERROR. Such a batch must never be resubmitted automatically.
 */
export function isOutcomeUnknown(code: string): boolean {
  return BY_CODE.get(normalize(code))?.outcomeUnknown === true;
}
