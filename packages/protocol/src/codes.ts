/**
 * The error / result code catalogue of the batch refund services (protocol.md §8), plus the codes
 * alirefund itself produces. Each entry says where the code shows up, what it means in Chinese and
 * English, what the merchant should do about it, and how sure the spec is.
 *
 * `zh` is the official Chinese wording quoted by protocol.md §8 (or by the code maps it cites)
 * wherever one exists. The system-fault codes, the internal codes Alipay retries itself,
 * SELLER_CONFLICT, REFUND_NOT_EXIST and the local codes have no official wording; theirs is ours.
 *
 * The catalogue is data: {@link ROWS} holds one row per code, turned into frozen {@link CodeInfo}
 * objects (and checked) once, when the module loads.
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

/** The advice of a row: English, then Chinese. */
type Advice = readonly [en: string, zh: string];

/** Marks the row of a code whose request may still have executed ({@link CodeInfo.outcomeUnknown}). */
const OUTCOME_UNKNOWN = 'outcome-unknown';

/** One catalogue row, in the order of the table's columns. */
type Row = readonly [
  code: string,
  channel: CodeChannel,
  action: CodeAction,
  confidence: CodeInfo['confidence'],
  services: readonly CodeService[],
  zh: string,
  en: string,
  ...advice: Advice,
  outcomeUnknown?: typeof OUTCOME_UNKNOWN,
];

const SYSTEM_FAULT_ADVICE: Advice = [
  'Pause: the request may already have reached Alipay and may still execute through its recovery ' +
    'mechanism (S1). Do not resubmit, least of all under a new batch_no; wait for the notification, ' +
    'check the batch with refund_fastpay_query, or ask Alipay support.',
  '暂停后续操作：请求可能已提交到支付宝，并可能由恢复机制自动完成（S1）。不要重新提交，更不要换新 batch_no 提交；' +
    '等待异步通知、用 refund_fastpay_query 查询该批次，或联系支付宝技术支持。',
];

const ALIPAY_RETRIES_ADVICE: Advice = [
  'Alipay internal error: Alipay retries by itself and the merchant need not act (S1 商户无需处理). ' +
    'Keep the record pending and do not resubmit; if no final result arrives within 24 hours, check it with refund_fastpay_query.',
  '支付宝内部错误，系统会启动重试机制，商户无需处理（S1）。该笔保持“处理中”，不要重新提交；' +
    '24 小时内仍无最终结果时用 refund_fastpay_query 查询。',
];

const FILE_PARAM_ADVICE: Advice = [
  'A generic gateway check for file-upload services; refund requests carry no file. Remove undocumented ' +
    'parameters and send a plain form post.',
  '网关针对文件类接口的通用校验，退款请求不带文件。去掉文档之外的参数，以普通表单方式提交。',
];

const MOBILE_RELEASED_ZH = '因商户账户手机登录号被释放，暂无法收付款。为保障资金安全，建议修改账户名。';
const MOBILE_RELEASED_ADVICE: Advice = [
  "The mobile number used as the merchant account's login name was released to someone else. Change the " +
    'account name in Alipay, then resubmit the failed records in a new batch.',
  '商户账户作为登录名的手机号已被释放。请在支付宝修改账户名，然后把失败的明细放入新批次重新提交。',
];

const ROYALTY_RELEASED_ADVICE: Advice = [
  "The mobile number used as this royalty account's login name was released. Identify the account by its " +
    '2088… user ID, or have the owner change the account name, then resubmit in a new batch.',
  '该分润账户作为登录名的手机号已被释放。改用 2088 开头的用户 ID 指定账户，或请账户所有人修改账户名，然后放入新批次重新提交。',
];

/** The catalogue, one code a line: code, channel, action, confidence, services, zh, en, advice en, advice zh. */
// biome-ignore format: a table, one row per code
const ROWS: readonly Row[] = [
  // gateway checks (sync)
  ['ILLEGAL_SIGN', 'sync', 'fix-request', 'C2', GATEWAY, '签名不正确', 'Signature is incorrect', 'Check that the key belongs to this partner (MD5: the 32-character 安全校验码; RSA: your private key, with its public key uploaded). Sign the bytes in the charset named by _input_charset and include _input_charset itself; sign raw values, not URL-encoded ones; leave out sign, sign_type and empty values; sort keys in ASCII order and join as k=v&k=v.', '检查密钥是否属于该 partner（MD5 为 32 位安全校验码；RSA 为商户私钥且已上传对应公钥）。按 _input_charset 指定的字符集取字节签名，_input_charset 本身也参与签名；对参数原始值而不是 URL 编码后的值签名；去掉 sign、sign_type 和空值，按参数名 ASCII 升序拼成 k=v&k=v。'],
  ['ILLEGAL_DYN_MD5_KEY', 'sync', 'fix-request', 'INF', GATEWAY, '动态密钥信息错误', 'Dynamic key information is incorrect', 'The MD5 key you signed with is not the one Alipay holds for the partner. Copy the key again from the merchant platform (no spaces, not swapped with the partner ID) and check sign_type=MD5.', '签名所用的 MD5 密钥与支付宝保存的不一致。从商户平台重新复制密钥（无空格、未与 partner 填反），并确认 sign_type=MD5。'],
  ['ILLEGAL_ENCRYPT', 'sync', 'fix-request', 'INF', GATEWAY, '加密不正确', 'Encryption is incorrect', 'These services are signed, not encrypted: send the parameters in plain text with sign and sign_type, and check that sign_type names the algorithm you actually used.', '这两个退款接口只签名、不加密：明文发送参数并附 sign、sign_type，确认 sign_type 与实际签名算法一致。'],
  ['ILLEGAL_ARGUMENT', 'sync', 'fix-request', 'C1', GATEWAY, '参数不正确', 'A parameter is invalid', 'A parameter or its value has the wrong format (S0). Check that every required parameter is present, optional ones are omitted rather than sent empty, partner is 2088 + 12 digits, notify_url is an absolute URL of at most 200 characters without a query string, and the form holds only documented parameters.', '参数或参数值格式不正确（S0）。检查必填参数齐全；可空参数不用就不要传空值；partner 为 2088 开头的 16 位数字；notify_url 为不超过 200 字符、不带“?”自定义参数的完整地址；表单中只包含文档列出的参数。'],
  ['ILLEGAL_SERVICE', 'sync', 'fix-request', 'C1', GATEWAY, 'Service参数不正确', 'The service parameter is invalid', 'The service name is wrong or all request parameters were lost (S0). Check the spelling (refund_fastpay_by_platform_pwd / refund_fastpay_by_platform_nopwd) and that the parameters reach the gateway: application/x-www-form-urlencoded body, _input_charset in the URL.', '服务名错误或请求参数全部丢失（S0）。检查 service 拼写（refund_fastpay_by_platform_pwd / refund_fastpay_by_platform_nopwd），并确认参数确实送达网关：以 application/x-www-form-urlencoded 提交，_input_charset 放在 URL 上。'],
  ['ILLEGAL_USER', 'sync', 'fix-request', 'INF', REFUND, '用户ID不正确', 'User ID is incorrect', 'Check seller_user_id: 2088 + 12 digits, the account that received the original payments (normally the partner ID itself).', '检查 seller_user_id：2088 开头的 16 位数字，应为原交易的收款账户（通常就是 partner 本身）。'],
  ['ILLEGAL_PARTNER', 'sync', 'fix-request', 'C2', GATEWAY, '合作伙伴ID不正确', 'Partner ID is incorrect', 'Check partner: the 16-digit 2088… ID of the contract, without spaces and not swapped with the key (S0).', '检查 partner：签约的 2088 开头 16 位合作者身份 ID，不含空格，且没有与密钥填反（S0）。'],
  ['ILLEGAL_EXTERFACE', 'sync', 'contact-alipay', 'INF', GATEWAY, '接口配置不正确', 'Interface configuration is incorrect', "Alipay's configuration of this service for the partner is wrong or missing. Check the service name, then ask Alipay support to check the product configuration.", '支付宝侧该 partner 的此接口配置有误或缺失。先核对 service 名称，再联系支付宝技术支持检查产品配置。'],
  ['ILLEGAL_PARTNER_EXTERFACE', 'sync', 'contact-alipay', 'INF', GATEWAY, '合作伙伴接口信息不正确', "The partner's interface information is incorrect", "The partner's settings for this service are incomplete on Alipay's side. Check partner and service, then ask Alipay support.", '支付宝侧该合作伙伴的接口信息不完整。核对 partner 与 service 后联系支付宝技术支持。'],
  ['ILLEGAL_SECURITY_PROFILE', 'sync', 'fix-request', 'INF', GATEWAY, '未找到匹配的密钥配置', 'No matching key configuration was found', 'No key of the requested sign_type is configured for this partner. Use the sign_type you set up (MD5 key, or RSA with your public key uploaded in the merchant platform).', '该 partner 没有与 sign_type 对应的密钥配置。使用已配置的签名方式（MD5 密钥，或已在商户平台上传公钥的 RSA）。'],
  ['ILLEGAL_AGENT', 'sync', 'fix-request', 'INF', GATEWAY, '代理ID不正确', 'Agent ID is incorrect', 'These refund services take no agent parameter: remove any agent field and check partner.', '退款接口没有代理参数：去掉 agent 类字段，并核对 partner。'],
  ['ILLEGAL_SIGN_TYPE', 'sync', 'fix-request', 'C1', GATEWAY, '签名类型不正确', 'Signature type is incorrect', 'sign_type must be MD5, RSA or DSA in upper case, must match the key configured for the partner, and is itself left out of the signed string (S0).', 'sign_type 只能是大写的 MD5、RSA 或 DSA，须与该 partner 配置的密钥类型一致，且本身不参与签名（S0）。'],
  ['ILLEGAL_CHARSET', 'sync', 'fix-request', 'INF', GATEWAY, '字符集不合法', 'Charset is not valid', '_input_charset must be utf-8, gbk or gb2312, sent in the gateway URL (?_input_charset=…) and among the signed parameters.', '_input_charset 只能是 utf-8、gbk 或 gb2312，须出现在网关 URL（?_input_charset=…）中并参与签名。'],
  ['ILLEGAL_ENCODING', 'sync', 'fix-request', 'INF', GATEWAY, '不支持该编码类型', 'Encoding type is not supported', 'Encode the request body in the charset named by _input_charset (utf-8, gbk or gb2312) and in nothing else.', '请求体须按 _input_charset 指定的字符集（utf-8、gbk 或 gb2312）编码，不要混用其他编码。'],
  ['ILLEGAL_CLIENT_IP', 'sync', 'contact-alipay', 'INF', GATEWAY, '客户端IP地址无权访问服务', 'The client IP address may not access the service', "The partner has an IP allow-list: call from a registered server IP, or ask Alipay to update the list. Reach Alipay through DNS; do not pin Alipay's IP addresses (S1).", '该 partner 设置了 IP 白名单：从已登记的服务器 IP 调用，或联系支付宝更新白名单。请通过 DNS 访问支付宝，不要绑定支付宝 IP（S1）。'],
  ['HAS_NO_PRIVILEGE', 'sync', 'contact-alipay', 'C1', GATEWAY, '无权访问', 'No privilege (the contract lacks this service)', 'The contract does not include this service (S0). pwd and nopwd are signed separately, and nopwd needs the automatic-refund agreement signed with a digital certificate. Check the service name, then sign the product with Alipay.', '签约合同中没有该接口的权限（S0）。有密与无密需分别签约，无密退款需用数字证书签署自动退款协议。核对 service 后向支付宝申请开通。'],
  ['ILLEGAL_DIGEST_TYPE', 'sync', 'fix-request', 'INF', GATEWAY, '摘要类型不正确', 'Digest type is incorrect', ...FILE_PARAM_ADVICE],
  ['ILLEGAL_DIGEST', 'sync', 'fix-request', 'INF', GATEWAY, '文件摘要不正确', 'File digest is incorrect', ...FILE_PARAM_ADVICE],
  ['ILLEGAL_FILE_FORMAT', 'sync', 'fix-request', 'INF', GATEWAY, '文件格式不正确', 'File format is incorrect', ...FILE_PARAM_ADVICE],
  ['ILLEGAL_TARGET_SERVICE', 'sync', 'fix-request', 'INF', GATEWAY, '错误的target_service', 'Invalid target_service', 'Refund requests have no target_service parameter: remove it and check service.', '退款请求没有 target_service 参数：删除它并核对 service。'],
  ['ILLEGAL_ACCESS_SWITCH_SYSTEM', 'sync', 'contact-alipay', 'INF', GATEWAY, 'partner不允许访问该类型的系统', 'The partner may not access this type of system', 'The partner is not allowed on the Alipay system it called. Check that the gateway URL and the partner belong to the same environment, then ask Alipay.', '该 partner 不允许访问所调用的支付宝系统。确认网关地址与 partner 属于同一环境，仍不行请联系支付宝。'],
  ['EXTERFACE_IS_CLOSED', 'sync', 'contact-alipay', 'INF', GATEWAY, '接口已关闭', 'The interface has been closed', 'Alipay has closed this service for the partner (these legacy mapi refund services were later replaced by alipay.trade.refund). Ask Alipay whether it can be reopened, or migrate.', '支付宝已为该 partner 关闭此接口（这些旧版 mapi 退款接口后来被 alipay.trade.refund 取代）。联系支付宝确认能否重新开通，或迁移到新接口。'],
  ['SESSION_TIMEOUT', 'sync', 'retry-later', 'INF', GATEWAY, 'session超时', 'Session timed out', 'The Alipay page session expired before the refund was confirmed. Start again from your site with a freshly built request (refund_date is the current time).', '支付宝页面会话在确认退款前已超时。请从商户网站重新构造请求（refund_date 取当前时间）后再发起。'],
  ['ILLEGAL_REQUEST_REFERER', 'sync', 'fix-request', 'INF', REFUND, '防钓鱼检查不支持该请求来源', 'Anti-phishing check: the request origin is not allowed', "The partner has anti-phishing checks enabled: submit the form from the domain registered with Alipay (the browser's Referer must match), or ask Alipay to register the domain.", '该 partner 开启了防钓鱼校验：从在支付宝登记的域名提交表单（浏览器 Referer 须匹配），或联系支付宝登记域名。'],
  ['ILLEGAL_ANTI_PHISHING_KEY', 'sync', 'contact-alipay', 'INF', REFUND, '防钓鱼检查非法时间戳参数', 'Anti-phishing check: invalid timestamp key', 'The partner has timestamp anti-phishing enabled, which these refund services do not document. Ask Alipay to turn it off for them, or send a fresh anti_phishing_key from query_timestamp.', '该 partner 开启了时间戳防钓鱼，而退款接口文档中没有该参数。请联系支付宝为退款接口关闭，或携带由 query_timestamp 新取的 anti_phishing_key。'],
  ['ANTI_PHISHING_KEY_TIMEOUT', 'sync', 'retry-later', 'INF', REFUND, '防钓鱼检查时间戳超时', 'Anti-phishing check: the timestamp has expired', 'Fetch a new anti_phishing_key from query_timestamp right before building the request and submit it at once.', '在构造请求前重新调用 query_timestamp 获取 anti_phishing_key，并立即提交。'],
  ['ILLEGAL_EXTER_INVOKE_IP', 'sync', 'fix-request', 'INF', REFUND, '防钓鱼检查非法调用IP', 'Anti-phishing check: the caller IP is not allowed', 'The IP checked by anti-phishing (exter_invoke_ip) does not match the real caller. Send the real client IP or none, or ask Alipay to turn the check off.', '防钓鱼校验的 IP（exter_invoke_ip）与实际调用方不符。传真实的客户端 IP 或不传，或联系支付宝关闭该校验。'],
  // system faults (sync or async)
  ['UNKNOWN_EXCEPTION', 'both', 'pause-and-ask', 'C1', GATEWAY, '系统未知异常', 'Unknown system exception', ...SYSTEM_FAULT_ADVICE, OUTCOME_UNKNOWN],
  ['GENERIC_FAILURE', 'both', 'pause-and-ask', 'C1', GATEWAY, '系统通用失败', 'Generic system failure', ...SYSTEM_FAULT_ADVICE, OUTCOME_UNKNOWN],
  ['SYSTEM_ERROR', 'both', 'pause-and-ask', 'C1', GATEWAY, '系统错误', 'System error', ...SYSTEM_FAULT_ADVICE, OUTCOME_UNKNOWN],
  // batch checks (sync)
  ['BATCH_NUM_EXCEED_LIMIT', 'sync', 'fix-request', 'INF', REFUND, '总笔数大于1000', 'More than 1000 records in one batch', 'Split the refunds into batches of at most 1000 records (50 is the most efficient size, S1), each with its own batch_no, and submit them one after another: only one batch per partner runs at a time.', '拆分为每批不超过 1000 笔（S1：50 笔效率最高），每批使用新的 batch_no，并逐批提交：同一 partner 同一时间只能处理一个批次。'],
  ['REFUND_DATE_ERROR', 'sync', 'fix-request', 'C1', REFUND, '错误的退款时间', 'Invalid refund time', 'refund_date must be the current Beijing time as yyyy-MM-dd HH:mm:ss (24-hour) and its date must equal the yyyyMMdd that starts batch_no (S1). Fix it and resubmit.', 'refund_date 须为当前北京时间，格式 yyyy-MM-dd HH:mm:ss（24 小时制），其日期须与 batch_no 开头的 yyyyMMdd 一致（S1）。修改后重新提交。'],
  ['BATCH_NUM_ERROR', 'sync', 'fix-request', 'INF', REFUND, '传入的总笔数格式错误', 'batch_num is not a valid number', 'batch_num must be a plain integer from 1 to 1000 (no spaces, signs or decimals) equal to the number of records.', 'batch_num 须为 1 到 1000 的整数（无空格、符号或小数），且等于明细笔数。'],
  ['BATCH_NUM_NOT_EQUAL_TOTAL', 'sync', 'fix-request', 'INF', REFUND, '传入的退款条数不等于数据集解析出的退款条数', 'batch_num differs from the number of records in detail_data', "batch_num must equal the number of '#'-separated records. A '#' inside a refund reason splits a record in two: strip ^ | $ # from reasons.", 'batch_num 须等于 detail_data 中以“#”分隔的笔数。退款理由中的“#”会多拆出一笔：请去掉理由中的 ^ | $ #。'],
  ['SINGLE_DETAIL_DATA_EXCEED_LIMIT', 'sync', 'fix-request', 'INF', REFUND, '单笔退款明细超出限制', 'A single refund record exceeds the limit', 'One record is too large, for example too many royalty items; the exact limit is undocumented. Spread the royalty refunds over records in later batches (a trade_no may appear only once per batch).', '单条明细过大（例如分润条目过多），具体上限文档未给出。把分润退款拆到后续批次的明细中（同一批次中交易号只能出现一次）。'],
  ['DUBL_ROYALTY_IN_DETAIL', 'sync', 'fix-request', 'INF', ['nopwd'], '同一条明细中存在两条转入转出账户相同的分润信息', 'Two royalty items in one record have the same out and in accounts', 'Merge royalty items that have the same transfer-out and transfer-in accounts into one item with the summed amount.', '把转出、转入账户都相同的分润条目合并为一条，金额相加。'],
  ['DUBL_TRADE_NO_IN_SAME_BATCH', 'sync', 'fix-request', 'INF', REFUND, '同一批退款中存在两条相同的退款记录', 'The same trade appears twice in one batch', 'Each trade_no may appear only once per batch: merge the amounts into one record, or send the second refund in a later batch.', '同一批次中每个交易号只能出现一次：合并为一条明细，或把第二笔退款放到后续批次。'],
  ['DUPLICATE_BATCH_NO', 'sync', 'pause-and-ask', 'INF', REFUND, '重复的批次号', 'Duplicate batch number', 'This partner has used the batch_no before. If this answers a resend of a request whose reply was lost, the first submission was accepted: wait for its notification or check it with refund_fastpay_query, and do not resubmit. Otherwise fix the batch_no generator so every batch gets a new number.', '该 partner 已使用过此 batch_no。如果这是对未收到应答的请求的重发，说明首次提交已被受理：等待其异步通知或用 refund_fastpay_query 查询，不要再提交。否则请修正批次号生成逻辑，保证每批唯一。'],
  ['BATCH_NO_FORMAT_ERROR', 'sync', 'fix-request', 'C1', REFUND, '批次号格式错误', 'Malformed batch number', "batch_no = today's date yyyyMMdd (Beijing time) + a serial of 3–24 digits or letters, not 000, 11–32 characters in all, never reused; its date must equal refund_date's date.", 'batch_no = 当天日期 yyyyMMdd（北京时间）+ 3 至 24 位数字或字母序号（不能为 000），总长 11–32 位，永不重复；日期须与 refund_date 一致。'],
  ['RESULT_BATCH_NO_FORMAT_ERROR', 'both', 'fix-request', 'INF', ['pwd', 'nopwd', 'query'], '批次号格式错误', 'Malformed batch number (result code)', "Same rule as BATCH_NO_FORMAT_ERROR; this RESULT_ variant sits among the per-record codes in the code lists. batch_no = today's yyyyMMdd + 3–24 digits or letters, not 000: fix it and resubmit in a new batch.", '规则同 BATCH_NO_FORMAT_ERROR；这个 RESULT_ 前缀的码在码表中列在逐笔结果码之间。batch_no = 当天 yyyyMMdd + 3 至 24 位数字或字母（不能为 000）：修正后放入新批次重新提交。'],
  ['DETAIL_DATA_FORMAT_ERROR', 'sync', 'fix-request', 'INF', REFUND, '数据集参数格式错误', 'Malformed detail_data', "Records are trade_no^amount^reason joined by '#', optionally followed by |royalty items and a $$sub-trade part; amounts have at most 2 decimals; reasons contain no ^ | $ #; royalty items keep every '^' even for empty fields; no leading or trailing '#'.", '每笔为 交易号^退款金额^退款理由，笔与笔用“#”分隔，可附 |分润 与 $$子交易；金额最多两位小数；理由中不能含 ^ | $ #；分润字段为空时“^”也必须保留；首尾不能有“#”。'],
  ['PWD_REFUND_NOT_ALLOW_ROYALTY', 'sync', 'fix-request', 'INF', ['pwd'], '有密接口不允许退分润', 'The pwd service does not allow royalty refunds', 'Remove the |royalty items from detail_data. Royalty refunds need refund_fastpay_by_platform_nopwd (a separate contract).', '从 detail_data 中去掉 |分润 部分。退分润需使用无密接口 refund_fastpay_by_platform_nopwd（需单独签约）。'],
  ['BATCH_MEMO_LENGTH_EXCEED_LIMIT', 'sync', 'fix-request', 'INF', REFUND, '备注长度超过256字节', 'A refund reason is longer than 256 bytes', 'Shorten each reason to at most 256 bytes in _input_charset (a Chinese character is 3 bytes in UTF-8, 2 in GBK). One code list says 1000 bytes; 256 is the safe limit.', '每条退款理由按 _input_charset 计不超过 256 字节（中文在 UTF-8 中占 3 字节、GBK 中占 2 字节）。有一份码表写 1000 字节，按 256 更稳妥。'],
  ['SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT', 'sync', 'fix-request', 'INF', REFUND, '单条数据集编码集不支持', "A record contains characters the request's charset cannot carry", 'A record has characters _input_charset cannot represent (e.g. emoji under GBK). Remove them or send the request in utf-8.', '某条明细含有 _input_charset 无法表示的字符（如 GBK 下的 emoji）。删除这些字符或改用 utf-8。'],
  ['INVALID_CHARACTER_SET', 'sync', 'fix-request', 'INF', REFUND, '字符集无效', 'Invalid character set', 'Use _input_charset utf-8, gbk or gb2312 and encode the body in exactly that charset.', '_input_charset 使用 utf-8、gbk 或 gb2312，并严格按该字符集编码请求体。'],
  ['SELLER_INFO_NOT_EXIST', 'sync', 'fix-request', 'INF', REFUND, '卖家信息不存在', 'Seller information does not exist', 'seller_email / seller_user_id does not identify an Alipay account. Check it; for your own trades send seller_user_id = partner.', 'seller_email / seller_user_id 找不到对应的支付宝账户。请核对；退自己的交易时传 seller_user_id = partner。'],
  ['SELLER_STATUS_NOT_ALLOW', 'sync', 'contact-alipay', 'INF', REFUND, '卖家状态不正常', 'The seller account status does not allow refunds', 'The seller account is frozen, closed or restricted. Resolve its status with Alipay, then resubmit in a new batch.', '卖家账户被冻结、注销或受限。联系支付宝恢复账户状态后，放入新批次重新提交。'],
  ['SELLER_NOT_SIGN_PROTOCOL', 'sync', 'resubmit-new-batch', 'INF', REFUND, '卖家未签署协议', 'The seller has not signed the agreement', "A seller account other than the partner's own must sign the 支付圈 agreement (sign_protocol_with_partner) with the partner account (S1). Have it signed, then resubmit in a new batch.", '收款账号不是签约账号本身时，须与签约账号签署“支付圈签约接口（sign_protocol_with_partner）”协议（S1）。签约后放入新批次重新提交。'],
  ['PARTNER_NOT_SIGN_PROTOCOL', 'both', 'resubmit-new-batch', 'INF', ['pwd', 'nopwd', 'query'], '平台商未签署协议', 'The platform has not signed the agreement', "Royalty accounts, and a seller_email that is not the partner's own account, must sign the 支付圈 agreement (sign_protocol_with_partner) with the partner account (S1); signing with one platform does not cover another. Have it signed, then resubmit the affected records in a new batch.", '分润方账号，以及不是签约账号本身的收款账号（seller_email），须与签约账号签署“支付圈签约接口（sign_protocol_with_partner）”协议（S1）；与 A 平台签约不代表与 B 平台签约。签约后把相关明细放入新批次重新提交。'],
  ['CA_USER_NOT_USE_CA', 'sync', 'retry-later', 'INF', ['pwd'], '数字证书用户但未使用数字证书登录', 'A certificate user did not log in with the digital certificate', "The operator's Alipay account uses a digital certificate: confirm the refund on a computer where that certificate is installed.", '操作员的支付宝账户启用了数字证书：请在安装了该证书的电脑上确认退款。'],
  ['TRADE_STATUS_ERROR', 'sync', 'fix-request', 'C1', REFUND, '交易状态不允许退款', 'The trade status does not allow a refund', "A trade in the batch cannot be refunded in its current state, e.g. suspended because one party's account is locked (S1); only TRADE_SUCCESS trades can be refunded. The whole batch was rejected: leave that trade out, resubmit the others in a new batch, and take the suspended one up with Alipay.", '批次中有交易处于不允许退款的状态，例如因交易一方账号被锁定而挂起（S1）；只有 TRADE_SUCCESS 状态的交易可以退款。整批已被拒绝：去掉该交易，其余明细放入新批次重新提交；挂起的交易联系支付宝处理。'],
  // per-record results (async)
  ['SUCCESS', 'async', 'none', 'C2', RESULT, '处理成功', 'Success', 'This part of the record was refunded. Update your order idempotently (the same notification can arrive several times); a fee or royalty part carries its own code.', '该部分退款成功。幂等地更新订单（同一通知可能多次到达）；退费、退分润部分各有自己的结果码。'],
  ['NOT_THIS_SELLER_TRADE', 'async', 'fix-request', 'C2', RESULT, '不是当前卖家的交易', 'Not a trade of this seller', 'The trade was paid to another seller account. Check trade_no and, for pwd, seller_user_id / seller_email; refund it as the seller that received the payment, in a new batch.', '该交易的收款方是其他卖家。核对交易号，有密接口还需核对 seller_user_id / seller_email；以实际收款的卖家身份在新批次中退款。'],
  ['NOT_THIS_PARTNERS_TRADE', 'async', 'fix-request', 'C2', RESULT, '退款明细非本合作伙伴的交易', 'The refund record is not a trade of this partner', 'The trade was not created through this partner ID. Check trade_no for typos; only the partner that created a trade can refund it.', '该交易不是通过本 partner 创建的。核对交易号是否有误；只有创建交易的合作伙伴才能退款。'],
  ['TRADE_NOT_EXISTS', 'async', 'fix-request', 'INF', RESULT, '交易不存在', 'The trade does not exist', "trade_no must be Alipay's trade number (16 digits before 2013, 28 later), not your out_trade_no, and the trade must have been paid. Correct it and resubmit in a new batch.", 'trade_no 须为支付宝交易号（2013 年前 16 位，之后 28 位），不是商户订单号 out_trade_no，且交易须已付款。更正后放入新批次重新提交。'],
  ['WHOLE_DETAIL_FORBID_REFUND', 'async', 'contact-alipay', 'INF', RESULT, '整条退款明细都禁止退款', 'Refunds are forbidden for the whole record', 'Alipay refused every part of this record. Do not resubmit it automatically; contact Alipay support with the trade_no.', '支付宝拒绝了这条明细的全部内容。不要自动重新提交；带上交易号联系支付宝技术支持。'],
  ['TRADE_HAS_CLOSED', 'async', 'none', 'C1', RESULT, '交易已关闭，不允许退款', 'The trade is closed; no refund allowed', "The trade is TRADE_CLOSED: already fully refunded, or never paid. Do not resubmit. If your records show no earlier refund, an earlier batch's notification may have been lost: look the trade up with refund_fastpay_query.", '交易为 TRADE_CLOSED：已全额退款或未付款。不要重新提交。若本地没有先前退款的记录，可能是之前某批次的通知丢失：用 refund_fastpay_query 按交易号查询。'],
  ['TRADE_HAS_FINISHED', 'async', 'none', 'C1', RESULT, '交易已结束，不允许退款', 'The trade is finished; no refund allowed', 'The trade is TRADE_FINISHED: its refund period is over and this API can no longer refund it. Do not resubmit; refund the buyer by other means if you must.', '交易为 TRADE_FINISHED：已过可退款期限，无法再通过本接口退款。不要重新提交；如需退款请通过其他方式退给买家。'],
  ['REFUND_TRADE_FEE_ERROR', 'async', 'fix-request', 'C1', RESULT, '退交易金额不合法', 'Invalid trade refund amount', 'The trade refund amount is not acceptable: it does not agree with the paid amount (S1) or exceeds the paid amount minus earlier refunds. Correct the amount and resubmit the record in a new batch.', '交易退款金额与付款金额不一致（S1），或超过实付金额减去已退金额。更正金额后把该笔放入新批次重新提交。'],
  ['REFUND_AMOUNT_NOT_VALID', 'async', 'fix-request', 'INF', RESULT, '退款金额不合法', 'Invalid refund amount', 'Amounts are yuan with at most 2 decimals, at least 0.01 (0 only in a royalty-only record), and all refunds of a trade together may not exceed what was paid. Correct it and resubmit in a new batch.', '金额以元为单位，最多两位小数，至少 0.01（仅退分润时交易金额可为 0），同一交易累计退款不得超过实付金额。更正后放入新批次重新提交。'],
  ['REASON_TRADE_REFUND_FEE_ERR', 'async', 'fix-request', 'INF', RESULT, '退款金额错误', 'Wrong refund amount', "The refund amount is wrong, typically more than what is left to refund. Check the trade's earlier refunds, correct the amount and resubmit in a new batch.", '退款金额错误，通常是超过了剩余可退金额。核对该交易之前的退款，更正金额后放入新批次重新提交。'],
  ['REASON_HAS_REFUND_FEE_NOT_MATCH', 'async', 'pause-and-ask', 'INF', RESULT, '已退款金额错误', 'The already-refunded amount does not match', "The amount already refunded on this trade does not add up. Do not resubmit: reconcile the trade's earlier refunds (refund_fastpay_query by trade_no) and contact Alipay if they disagree with your records.", '该交易的已退款金额对不上。不要重新提交：用 refund_fastpay_query 按交易号核对历史退款，与本地记录不符时联系支付宝。'],
  ['RESULT_AMOUNT_NOT_VALID', 'async', 'fix-request', 'C1', RESULT, '退收费、退分润或者退款的金额错误', 'Invalid fee, royalty or refund amount', 'A fee, royalty or refund amount is larger than the matching amount of the original trade (S1; e.g. ticket price, airport fee, fuel surcharge or insurance). Check every amount of the record and resubmit it in a new batch.', '退收费、退分润或退款金额大于原交易的相应金额（S1，如票面价、机建费、燃油费、航意险）。逐项核对金额后放入新批次重新提交。'],
  ['REFUND_CHARGE_FEE_ERROR', 'async', 'fix-request', 'INF', RESULT, '退收费金额不合法', 'Invalid fee-refund amount', 'The $charge (fee refund) amount is invalid. Alipay computes the fee refund itself (S1): drop the $charge section or correct it, and resubmit in a new batch.', '退收费金额不合法。支付宝会自动计算退手续费（S1）：去掉 $收费 部分或更正金额，放入新批次重新提交。'],
  ['REFUND_CHARGE_FEE_GREATER_THAN_LIMIT', 'async', 'fix-request', 'INF', RESULT, '退收费金额超过限制', 'The fee refund exceeds the limit', 'The fee refund is larger than the fee that was charged. Lower it, or drop the $charge section and let Alipay compute it; resubmit in a new batch.', '退收费金额超过了原收费金额。调低金额，或去掉 $收费 部分由支付宝自动计算；放入新批次重新提交。'],
  ['REASON_REFUND_CHARGE_ERR', 'async', 'contact-alipay', 'INF', RESULT, '退收费失败', 'The fee refund failed', 'The fee part failed; the trade part has its own code, so check it before resubmitting anything. Ask Alipay about the fee part.', '退收费部分失败；交易部分另有结果码，重新提交前先核对它。退收费部分请联系支付宝。'],
  ['NO_REFUND_CHARGE_PRIVILEDGE', 'async', 'fix-request', 'INF', RESULT, '没有退收费的权限', 'No privilege to refund fees', 'Remove the $charge section (Alipay refunds the payment fee automatically, S1) or ask Alipay for the privilege; resubmit in a new batch.', '去掉 $收费 部分（支付宝会自动退支付手续费，S1），或向支付宝申请该权限；放入新批次重新提交。'],
  ['REFUND_ROYALTY_FEE_ERROR', 'async', 'fix-request', 'INF', NOPWD_RESULT, '退分润金额不合法', 'Invalid royalty refund amount', 'A royalty refund is malformed or larger than what the transfer-out account received in the original split. Correct it and resubmit in a new batch.', '退分润金额格式不对，或大于转出方在原分润中收到的金额。更正后放入新批次重新提交。'],
  ['REASON_REFUND_ROYALTY_ERROR', 'async', 'resubmit-new-batch', 'INF', NOPWD_RESULT, '退分润错误', 'The royalty refund failed', 'The royalty part failed, typically because the transfer-out account lacks balance (S1) or an account is wrong. Fix the cause, then resubmit the royalty part in a new batch (a royalty-only record has trade amount 0).', '退分润失败，通常是转出方余额不足（S1）或账号有误。解决后把分润部分放入新批次重新提交（仅退分润时交易金额填 0）。'],
  ['ROYALTYER_NOT_SIGN_PROTOCOL', 'async', 'resubmit-new-batch', 'INF', NOPWD_RESULT, '分润方未签署三方协议', 'The royalty party has not signed the three-party agreement', 'The royalty account must sign the 支付圈 agreement (sign_protocol_with_partner) with the partner account (S1). Have it signed, then resubmit in a new batch.', '分润方须与签约账号签署“支付圈签约接口（sign_protocol_with_partner）”协议（S1）。签约后放入新批次重新提交。'],
  ['DUP_ROYALTY_REFUND_ITEM', 'async', 'fix-request', 'INF', NOPWD_RESULT, '重复的退分润条目', 'Duplicate royalty refund item', 'The same royalty item appears twice: merge items with the same transfer-out and transfer-in accounts and resubmit in a new batch.', '分润条目重复：合并转出、转入账户相同的条目后，放入新批次重新提交。'],
  ['REFUND_SUBTRADE_FEE_ERROR', 'async', 'fix-request', 'INF', NOPWD_RESULT, '退子交易金额不合法', 'Invalid sub-trade refund amount', "The $$sub-trade amount is malformed or exceeds the sub-trade's refundable amount (reported in the result). Correct it and resubmit in a new batch.", '$$子交易 退款金额格式不对，或超过子交易可退金额（结果中会返回）。更正后放入新批次重新提交。'],
  ['ACCOUNT_NOT_EXISTS', 'async', 'fix-request', 'INF', RESULT, '账号不存在', 'The account does not exist', 'A royalty or fee account does not exist. Check the email (mobile numbers are not accepted, S1) or use the 2088… user ID instead, then resubmit in a new batch.', '分润或收费账号不存在。核对邮箱（不能用手机号，S1），或改用 2088 开头的用户 ID，然后放入新批次重新提交。'],
  ['EMAIL_USERID_NOT_MATCH', 'async', 'fix-request', 'INF', RESULT, 'Email和用户ID不匹配', 'Email and user ID do not match', "For each royalty or fee party fill either the email or the user ID and leave the other empty (keeping its '^'); resubmit in a new batch.", '分润或收费的每一方只填邮箱或用户 ID 其中之一，另一项留空（保留“^”）；放入新批次重新提交。'],
  ['RESULT_ACCOUNT_NO_NOT_VALID', 'async', 'fix-request', 'INF', RESULT, '账号无效', 'Invalid account', 'An account in the record cannot be used (bad format or closed). Use a valid email or 2088… user ID and resubmit in a new batch.', '明细中的某个账号不可用（格式错误或已注销）。改用有效的邮箱或 2088 开头的用户 ID，放入新批次重新提交。'],
  ['TXN_RESULT_ACCOUNT_STATUS_NOT_VALID', 'async', 'contact-alipay', 'INF', RESULT, '账户状态无效或被冻结', 'The account status is invalid or frozen', 'The paying account (the seller, or a royalty payer) is frozen or restricted. Resolve it with Alipay, then resubmit the record in a new batch.', '付款方账户（卖家或分润转出方）被冻结或受限。联系支付宝处理后，把该笔放入新批次重新提交。'],
  ['TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH', 'async', 'resubmit-new-batch', 'INF', RESULT, '账户余额不足', 'Insufficient account balance', 'The paying account (the seller, or a royalty payer) lacks available balance. Top it up, then resubmit the failed records in a new batch.', '付款方账户（卖家或分润转出方）可用余额不足。充值后把失败的明细放入新批次重新提交。'],
  ['SELLER_BALANCE_NOT_ENOUGH', 'async', 'resubmit-new-batch', 'C1', RESULT, '账户余额不足', "The seller's balance is insufficient", "The seller's available balance does not cover the refund. Top up the Alipay account, then resubmit the failed records in a new batch (new batch_no).", '卖家可用余额不足以退款。给支付宝账户充值后，把失败的明细放入新批次（新的 batch_no）重新提交。'],
  ['BATCH_REFUND_LOCK_ERROR', 'async', 'retry-later', 'C1', RESULT, '同一时间不允许进行多笔并发退款', 'Concurrent refund batches are not allowed', "Only one batch per partner is processed at a time (S1). Wait for the running batch's notification, then resubmit the failed records in a new batch; send batches one after another.", '同一 partner 同一时间只能处理一个批次（S1）。等正在处理的批次的异步通知到达后，把失败的明细放入新批次重新提交；批次之间请串行提交。'],
  ['BATCH_REFUND_STATUS_ERROR', 'async', 'contact-alipay', 'INF', RESULT, '退款记录状态错误', 'The refund record is in a wrong state', "Alipay's refund record is in an unexpected state. Do not resubmit automatically: check the batch with refund_fastpay_query and contact Alipay.", '支付宝的退款记录状态异常。不要自动重新提交：用 refund_fastpay_query 查询该批次并联系支付宝。'],
  ['BATCH_REFUND_DATA_ERROR', 'async', 'contact-alipay', 'INF', RESULT, '批量退款后数据检查错误', 'The data check after the batch refund failed', "Alipay's post-refund data check failed, so the record's real state is unclear. Check it with refund_fastpay_query before resubmitting, and contact Alipay.", '支付宝退款后的数据检查失败，该笔的真实状态不明。重新提交前先用 refund_fastpay_query 查询，并联系支付宝。'],
  ['REFUND_TRADE_FAILED', 'async', 'resubmit-new-batch', 'INF', RESULT, '不存在退交易，但是退收费和退分润失败', 'No trade refund, and the fee and royalty refunds failed', 'The record refunded no trade amount and its fee/royalty parts failed. Fix the cause reported on those parts (balance, agreement, accounts), then resubmit in a new batch.', '该笔没有退交易金额，且退收费、退分润失败。按这些部分的结果码解决问题（余额、协议、账号）后放入新批次重新提交。'],
  ['REFUND_FAIL', 'async', 'contact-alipay', 'C1', RESULT, '退款失败', 'Refund failed', "Only produced during Alipay's data recovery when the real result code was lost (S1). Ask Alipay support for the record's real outcome before doing anything else.", '该结果码只会出现在支付宝做意外数据恢复、找不到结果码时（S1）。请先联系支付宝技术支持确认该笔的真实结果，再做其他处理。'],
  ['TRADE_PAYMENT_ERROR', 'async', 'alipay-retries', 'C1', RESULT, '交易支付处理错误（支付宝内部错误）', 'Trade payment processing error (Alipay internal)', ...ALIPAY_RETRIES_ADVICE],
  ['TRADE_PROCESS_ERROR', 'async', 'alipay-retries', 'C1', RESULT, '交易处理错误（支付宝内部错误）', 'Trade processing error (Alipay internal)', ...ALIPAY_RETRIES_ADVICE],
  ['QUERY_PARTICIPANT_ERROR', 'async', 'alipay-retries', 'C1', RESULT, '查询交易参与方错误（支付宝内部错误）', "Error looking up the trade's participants (Alipay internal)", ...ALIPAY_RETRIES_ADVICE],
  ['NANHANG_REFUND_CHARGE_AMOUNT_ERROR', 'async', 'fix-request', 'INF', RESULT, '退票面价金额不合法', 'Invalid ticket-price refund amount (airline trades)', 'Airline trades: the ticket-price part of the refund is invalid or exceeds the ticket price paid. Correct it and resubmit in a new batch.', '航空类交易：退票面价金额不合法或超过支付的票面价。更正后放入新批次重新提交。'],
  ['RESULT_FACE_AMOUNT_NOT_VALID', 'async', 'fix-request', 'INF', RESULT, '退款票面价不能大于支付票面价', 'The refunded ticket price may not exceed the ticket price paid', 'Lower the refunded ticket price to at most the ticket price paid, then resubmit the record in a new batch.', '把退款票面价调到不超过支付票面价，然后放入新批次重新提交。'],
  ['TRADE_PRODUCT_TYPE_NOT_ALLOW_REFUND', 'async', 'contact-alipay', 'INF', RESULT, '交易类型不允许退交易', 'The trade type does not allow refunds', 'This kind of trade cannot be refunded through this service. Do not resubmit; ask Alipay how to refund it.', '此类交易不能通过本接口退款。不要重新提交；联系支付宝确认退款方式。'],
  ['TRADE_PRODUCT_NOT_ALLOW_REFUND', 'async', 'contact-alipay', 'INF', RESULT, '交易产品不允许退款', "The trade's product does not allow refunds", 'The product the trade was made with does not allow refunds through this service. Do not resubmit; ask Alipay how to refund it.', '该交易所属的产品不允许通过本接口退款。不要重新提交；联系支付宝确认退款方式。'],
  ['REASON_REFUND_AMOUNT_LESS_THAN_COUPON_FEE', 'async', 'fix-request', 'INF', RESULT, '红包无法部分退款', 'A red packet (coupon) cannot be refunded partially', 'Part of the payment was a red packet (coupon), which cannot be refunded partially, so the refund may not be smaller than the coupon part. Refund the trade in full, or ask Alipay; resubmit in a new batch.', '该交易部分使用红包支付，红包不能部分退款，退款金额不能小于红包金额。改为全额退款或联系支付宝；放入新批次重新提交。'],
  ['BUYER_ERROR', 'async', 'contact-alipay', 'C2', RESULT, '因买家支付宝账户问题不允许退款', "Refund not allowed because of a problem with the buyer's Alipay account", "The buyer's account cannot receive the refund (e.g. closed or restricted). Do not resubmit automatically; ask the buyer to sort the account out, or refund by other means.", '买家账户无法接收退款（如已注销或受限）。不要自动重新提交；请买家处理账户问题，或通过其他方式退款。'],
  ['ELLER_CONFLICT', 'async', 'resubmit-new-batch', 'C1', RESULT, MOBILE_RELEASED_ZH, "The merchant account's mobile login name was released; it cannot receive or pay", `Spelled this way in one code list (presumably SELLER_CONFLICT). ${MOBILE_RELEASED_ADVICE[0]}`, `某份码表中的拼写（应为 SELLER_CONFLICT）。${MOBILE_RELEASED_ADVICE[1]}`],
  ['SELLER_CONFLICT', 'async', 'resubmit-new-batch', 'INF', RESULT, MOBILE_RELEASED_ZH, "The merchant account's mobile login name was released; it cannot receive or pay", ...MOBILE_RELEASED_ADVICE],
  ['ROYALTY_RECEIVE_EMAIL_CONFLICT', 'async', 'resubmit-new-batch', 'C1', NOPWD_RESULT, '因分润收款账户手机登录号被释放，无法进行收付款。为了保障资金安全，建议修改账户名。', "The royalty receiving account's mobile login name was released; it cannot receive or pay", ...ROYALTY_RELEASED_ADVICE],
  ['ROYALTY_PAY_EMAIL_CONFLICT', 'async', 'resubmit-new-batch', 'C1', NOPWD_RESULT, '因分润付款账户手机登录号被释放，无法进行收付款。为了保障资金安全，建议修改账户名。', "The royalty paying account's mobile login name was released; it cannot receive or pay", ...ROYALTY_RELEASED_ADVICE],
  // refund_fastpay_query (§13)
  ['REFUND_NOT_EXIST', 'sync', 'none', 'C1', ['query'], '退款记录不存在', 'No such refund', 'Alipay has no refund under this batch_no / trade_no. Check the number; a batch rejected synchronously (is_success=F) is never recorded. For a batch whose outcome was unknown, query again later before resubmitting.', '支付宝没有该 batch_no / trade_no 的退款记录。核对号码；同步被拒绝（is_success=F）的批次不会留下记录。对结果不明的批次，稍后再查一次确认后再重新提交。'],
  // produced by alirefund
  ['RESULT_DETAILS_FORMAT_ERROR', 'local', 'pause-and-ask', 'INF', RESULT, '退款结果明细无法解析', 'result_details could not be parsed', 'alirefund could not parse result_details (or a query result). Keep the raw text; do not mark records failed or resubmit them; check each record with refund_fastpay_query and report the sample, which may be an unknown format variant.', 'alirefund 无法解析 result_details（或查询结果）。保存原文；不要把明细标为失败或重新提交；用 refund_fastpay_query 逐笔核对，并提交该样本（可能是未知的格式变体）。'],
  ['NOTIFY_SIGN_MISMATCH', 'local', 'pause-and-ask', 'INF', REFUND, '异步通知签名验证失败', 'The notification signature does not verify', "Do not process the notification and do not answer success. If genuine notifications fail: check the key (RSA notifications verify with Alipay's public key, not yours), decode values in the request's _input_charset before verifying, and sign every posted parameter except sign, sign_type and empty ones.", '不要处理该通知，也不要返回 success。若真实通知也验签失败：检查密钥（RSA 通知用支付宝公钥验签，而非商户公钥），按原请求的 _input_charset 解码参数值后再验签，并对除 sign、sign_type 和空值外的全部通知参数验签。'],
  ['NOTIFY_VERIFY_FALSE', 'local', 'pause-and-ask', 'INF', ['notify_verify'], 'notify_verify 返回 false', 'notify_verify answered false', 'Alipay does not recognise the notify_id for this partner: forged, expired, sent to another partner, or already consumed after an earlier success answer. Do not process it; check the partner used for the check, and confirm the batch with refund_fastpay_query.', '支付宝不认可该 notify_id：伪造、过期、属于其他 partner，或之前已回复 success 而失效。不要处理该通知；核对校验时使用的 partner，并用 refund_fastpay_query 确认批次结果。'],
  ['NOTIFY_VERIFY_UNREACHABLE', 'local', 'retry-later', 'INF', ['notify_verify'], '无法完成 notify_verify 校验', 'notify_verify could not be reached', 'Network error, timeout or an answer other than true/false when calling notify_verify: the notification is unconfirmed. Answer something other than success so Alipay sends it again (up to 8 times within about 25 hours), and check again then.', '调用 notify_verify 时网络错误、超时或返回既非 true 也非 false：通知未经确认。不要返回 success，让支付宝重发（约 25 小时内最多 8 次），届时再次校验。'],
  ['TRANSPORT_ERROR', 'local', 'pause-and-ask', 'INF', ['nopwd', 'query'], '调用支付宝网关网络异常', 'Network error or timeout calling the gateway', 'The request may or may not have reached Alipay. Never resubmit it under a new batch_no. Resending the identical request (same batch_no, same day) is safe: DUPLICATE_BATCH_NO then means the first one was accepted. Otherwise wait for the notification or check with refund_fastpay_query.', '请求可能已到达支付宝，也可能没有。绝不要换新 batch_no 重新提交。当天原样重发（相同 batch_no）是安全的：若返回 DUPLICATE_BATCH_NO 说明首次已被受理。否则等待异步通知或用 refund_fastpay_query 查询。', OUTCOME_UNKNOWN],
];

/** A row as a {@link CodeInfo}, its properties in the order `lookupCode(…)` has always shown them. */
function toInfo(row: Row): CodeInfo {
  const [code, channel, action, confidence, services, zh, en, adviceEn, adviceZh, flag] = row;
  return {
    code,
    zh,
    en,
    channel,
    action,
    confidence,
    ...(flag === OUTCOME_UNKNOWN ? { outcomeUnknown: true as const } : {}),
    services,
    advice: { en: adviceEn, zh: adviceZh },
  };
}

/** The rows as entries, checked once: each code is well formed and has one row only. */
function toEntries(rows: readonly Row[]): CodeInfo[] {
  const seen = new Set<string>();
  return rows.map((row) => {
    const code = row[0];
    if (!/^[A-Z][A-Z0-9_]+$/.test(code)) throw new Error(`error-code catalogue: malformed code "${code}"`);
    if (seen.has(code)) throw new Error(`error-code catalogue: ${code} has two rows`);
    seen.add(code);
    return toInfo(row);
  });
}

function freezeEntry(info: CodeInfo): CodeInfo {
  Object.freeze(info.advice);
  if (info.services) Object.freeze(info.services);
  return Object.freeze(info);
}

/** Every known code, frozen and sorted by `code` (UTF-16 code-unit order, i.e. ASCII for codes). */
export const CODES: readonly CodeInfo[] = Object.freeze(
  toEntries(ROWS)
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
    .map(freezeEntry),
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
