/**
 * The gateway (ALIPAY_GATEWAY): an http(s) URL, https on a public host, reachable, and its notify_verify answers
 * `false` for a notify_id nobody issued (GATEWAY_OK, after which the key check asks it a signed query).
 */
import { DEFAULT_GATEWAY, notifyVerifyUrl } from '@alirefund/protocol';
import type { DoctorCheck } from './findings.js';
import { isPrivateHost, isRedirect, looksHtml, probe } from './http.js';

/** A notify_id no gateway has issued. */
const PROBE_NOTIFY_ID = 'alirefunddoctorprobe000000000000';
const MAPI_GATEWAY = `ALIPAY_GATEWAY must be the mapi gateway.do (${DEFAULT_GATEWAY}, or the sandbox's /gateway.do)`;

export const gateway: DoctorCheck = {
  async run(ctx, found) {
    const note = found.note('gateway');
    const gateway = ctx.env['ALIPAY_GATEWAY']?.trim() || DEFAULT_GATEWAY;
    let u: URL;
    try {
      u = new URL(gateway);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      note(
        'GATEWAY_URL',
        'error',
        `ALIPAY_GATEWAY "${gateway}" is not an http(s) URL`,
        `leave ALIPAY_GATEWAY unset for ${DEFAULT_GATEWAY}, or give the sandbox's http://HOST:PORT/gateway.do`,
      );
      return;
    }
    if (u.protocol === 'http:' && !isPrivateHost(u.hostname)) {
      note(
        'GATEWAY_NOT_HTTPS',
        'warning',
        `ALIPAY_GATEWAY uses plain http on a public host (${u.host})`,
        `Alipay requires https: use ${DEFAULT_GATEWAY}`,
      );
    }
    const partner = ctx.env['ALIPAY_PARTNER']?.trim() || '2088000000000000';
    const res = await probe(ctx, notifyVerifyUrl(gateway, partner, PROBE_NOTIFY_ID), {}, note, {
      codePrefix: 'GATEWAY',
      message: (detail) => `notify_verify at ${gateway} could not be called: ${detail}`,
      fixes: {
        DNS: 'the gateway host does not resolve: check ALIPAY_GATEWAY and this machine’s DNS (the seeds: use DNS, do not pin Alipay’s IP addresses)',
        TLS: 'the gateway’s certificate is not accepted: check the system CA store and any TLS-intercepting proxy',
        TIMEOUT:
          'the gateway did not answer in time: check the firewall and proxy between this server and Alipay',
        UNREACHABLE: 'nothing answers at ALIPAY_GATEWAY: check the URL, the firewall and the proxy',
      },
    });
    if (res === null) return;
    const text = Buffer.from(await res.arrayBuffer())
      .toString('utf8')
      .replace(/^\ufeff/, '');
    const contentType = res.headers.get('content-type') ?? '';
    const word = text.trim();
    if (isRedirect(res)) {
      note(
        'GATEWAY_REDIRECT',
        'error',
        `the gateway answered HTTP ${res.status} to ${res.headers.get('location') ?? '(no location)'}`,
        'set ALIPAY_GATEWAY to the final gateway.do address',
      );
    } else if (looksHtml(text, contentType)) {
      note(
        'GATEWAY_HTML',
        'error',
        `notify_verify answered HTML (HTTP ${res.status}): ${JSON.stringify(word.slice(0, 80))}; this is not the mapi gateway (a proxy, captive portal or wrong URL)`,
        `${MAPI_GATEWAY}; check any proxy on the way`,
      );
    } else if (res.status !== 200) {
      note(
        'GATEWAY_STATUS',
        'error',
        `notify_verify answered HTTP ${res.status}`,
        'check ALIPAY_GATEWAY (it must end with /gateway.do)',
      );
    } else if (/^false$/i.test(word)) {
      note(
        'GATEWAY_OK',
        'ok',
        `${gateway} is reachable; notify_verify answered false for an unknown notify_id, as it should`,
      );
    } else if (/^true$/i.test(word)) {
      note(
        'GATEWAY_SAYS_TRUE',
        'error',
        'notify_verify answered true for a notify_id nobody issued: notifications could not be told from forgeries',
        MAPI_GATEWAY,
      );
    } else {
      note(
        'GATEWAY_UNEXPECTED',
        'error',
        `notify_verify answered ${JSON.stringify(word.slice(0, 80))} instead of true/false`,
        MAPI_GATEWAY,
      );
    }
  },
};
