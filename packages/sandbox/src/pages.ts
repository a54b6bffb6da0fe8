/**
 * The gateway's HTML pages, in the style of Alipay's (pwd guide fig. 4.3 and §5.1): the error page, the
 * 批量退款申请 confirmation page with Email + 支付密码, and the result page. All output goes through
 * `hono/html`, which escapes every interpolated value.
 */
import { lookupCode } from '@alirefund/protocol';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/** `html` for templates without async parts (none of ours have any). */
export function h(strings: TemplateStringsArray, ...values: unknown[]): HtmlEscapedString {
  return html(strings, ...values) as HtmlEscapedString;
}

/**
 * Headers of every HTML page: no framing, no scripts, no referrer, no caching. A fresh object each time:
 * @hono/node-server adds Content-Length to the headers object it is given, so a shared one would leak one
 * page's length into the next.
 */
export function pageHeaders(): Record<string, string> {
  return { ...PAGE_HEADER_VALUES };
}

const PAGE_HEADER_VALUES: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
});

const STYLE = `
body{margin:0;font:14px/1.6 "WenQuanYi Zen Hei","Microsoft YaHei",SimSun,sans-serif;color:#333;background:#fff}
.top{background:#f5f5f5;border-bottom:1px solid #ddd;font-size:12px;padding:4px 24px;color:#666}
.top a{color:#06c;margin-right:8px;text-decoration:none}
.brand{padding:12px 24px;border-bottom:3px solid #1e8bd5}
.brand b{font-size:26px;color:#1e8bd5;letter-spacing:2px}
.brand span{color:#999;margin-left:12px}
.sandbox{background:#fff8e1;border:1px solid #f0c36d;margin:12px 24px;padding:6px 12px;font-size:12px;color:#8a6d3b}
main{margin:16px 24px;max-width:960px}
h1{font-size:20px;color:#f60;margin:8px 0}
h2{font-size:16px;border-left:4px solid #1e8bd5;padding-left:8px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
th,td{border:1px solid #d9d9d9;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eaf4fc}
.amount{text-align:right;font-family:monospace}
form .row{margin:10px 0}
form label{display:inline-block;width:110px;text-align:right;margin-right:8px}
input[type=text],input[type=email],input[type=password]{width:220px;padding:4px}
button{background:#f60;color:#fff;border:0;padding:6px 28px;font-size:14px;cursor:pointer}
.error{color:#c00;background:#fff0f0;border:1px solid #f5c2c2;padding:6px 12px}
.code{font-family:monospace;font-size:16px;color:#c00}
.muted{color:#999;font-size:12px}
`;

function layout(title: string, content: HtmlEscapedString): HtmlEscapedString {
  return h`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${title}</title><style>${raw(STYLE)}</style></head>
<body>
<div class="top"><a href="#">哇！支付宝</a>|<a href="#">论坛</a>|<a href="#">安全策略中心</a>|<a href="#">帮助中心</a></div>
<div class="brand"><b>支付宝</b><span>alipay.com</span></div>
<div class="sandbox">alirefund 沙箱 · sandbox gateway — not Alipay. 这是模拟网关，不会动用真实资金。</div>
<main>${content}</main>
</body></html>`;
}

/** The 调试错误 page (pwd guide §5.1) with the code, its meaning and the sandbox's own explanation. */
export function errorPage(code: string, detail: string | undefined): HtmlEscapedString {
  const info = lookupCode(code);
  return layout(
    '支付宝 - 调试错误',
    h`<h1>调试错误，请回到请求来源地，重新发起请求。</h1>
<p>错误代码 <span class="code" id="error-code">${code}</span></p>
<p>${info.zh} · ${info.en}</p>
${detail ? h`<p class="muted">沙箱说明 / sandbox detail: ${detail}</p>` : ''}
<p class="muted">${info.advice.zh}</p>`,
  );
}

export interface ConfirmRow {
  tradeNo: string;
  payeeEmail: string;
  amount: string;
  reason: string;
}

export interface ConfirmPageData {
  partner: string;
  batchNo: string;
  token: string;
  rows: ConfirmRow[];
  totalAmount: string;
  email: string;
  error?: string;
}

/** Masks an email as Alipay shows a counterparty: `ab***@example.com`. */
export function maskEmail(email: string | null): string {
  if (!email) return '—';
  const at = email.indexOf('@');
  if (at < 0) return '***';
  const local = email.slice(0, at);
  return `${local.slice(0, Math.min(2, local.length))}***${email.slice(at)}`;
}

/** 批量退款申请 / 确认批量退款信息 (pwd guide fig. 4.3). */
export function confirmPage(d: ConfirmPageData): HtmlEscapedString {
  return layout(
    '支付宝 - 批量退款申请',
    h`<h1>批量退款申请</h1>
<h2>确认批量退款信息</h2>
<p>批次号：<span id="batch-no">${d.batchNo}</span>　退款笔数：${d.rows.length}　退款总金额：${d.totalAmount} 元</p>
<table id="refund-details">
<thead><tr><th>交易号</th><th>收款人 email</th><th>退款金额 (元)</th><th>退款类型</th><th>退款理由</th></tr></thead>
<tbody>
${d.rows.map((r) => h`<tr><td>${r.tradeNo}</td><td>${r.payeeEmail}</td><td class="amount">${r.amount}</td><td>交易退款</td><td>${r.reason}</td></tr>`)}
</tbody>
</table>
<h2>输入Email地址，确认付款</h2>
${d.error ? h`<p class="error" id="confirm-error">${d.error}</p>` : ''}
<form method="post" action="/pwd/confirm" autocomplete="off">
<input type="hidden" name="partner" value="${d.partner}">
<input type="hidden" name="batch_no" value="${d.batchNo}">
<input type="hidden" name="token" value="${d.token}">
<div class="row"><label for="email">Email地址:</label><input type="text" id="email" name="email" value="${d.email}"></div>
<div class="row"><label for="password">* 支付密码:</label><input type="password" id="password" name="password"> <a href="#">找回支付密码</a></div>
<div class="row"><label></label><button type="submit" id="confirm">确认</button></div>
</form>`,
  );
}

export interface ResultPageData {
  batchNo: string;
  recordCount: number;
  successNum: number | null;
  notifyUrl: string | null;
}

/** After the password was accepted. */
export function resultPage(d: ResultPageData): HtmlEscapedString {
  return layout(
    '支付宝 - 批量退款',
    h`<h1 id="result-title">退款申请已提交</h1>
<p>批次号：${d.batchNo}　退款笔数：${d.recordCount}${
      d.successNum === null ? h`　处理中` : h`　成功笔数：<span id="success-num">${d.successNum}</span>`
    }</p>
<p>${
      d.notifyUrl
        ? h`退款结果将通过服务器异步通知 (batch_refund_notify) 发送到 ${d.notifyUrl}。`
        : h`请求中没有 notify_url，因此不会发送异步通知。`
    }</p>${(() => {
      const back = consoleLink(d.notifyUrl, d.batchNo);
      return back
        ? h`<p><a id="back-to-console" href="${back}">返回商户退款控制台（批次 ${d.batchNo}）</a></p>`
        : '';
    })()}`,
  );
}

/**
 * The way back after the password page (the interface has no return_url): the merchant's console at the
 * notify_url's origin, on this batch's page, when the notify_url is an http(s) URL.
 */
export function consoleLink(notifyUrl: string | null, batchNo: string): string | null {
  if (!notifyUrl) return null;
  try {
    const u = new URL(notifyUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return `${u.origin}/batches/${encodeURIComponent(batchNo)}`;
  } catch {
    return null;
  }
}

/** A plain message page (expired or already confirmed batches, refused confirmations). */
export function messagePage(title: string, message: string): HtmlEscapedString {
  return layout(`支付宝 - ${title}`, h`<h1>${title}</h1><p class="error">${message}</p>`);
}
