/**
 * `alirefund refund --serve`: this command receives its own notifications. It serves the server's notify
 * endpoints on plain node:http (the server's `nodeRoute`, as `alirefund serve` does: no WHATWG Request/Response
 * per delivery), the rest of the server's app and the pwd forms at /bulk/pwd/BATCH_NO, and tells the drive loop
 * when a notification was answered.
 */
import type { AlirefundServer } from '@alirefund/server';
import { Hono } from 'hono';
import { listen, type NodeRoute } from '../runtime.js';

export interface NotifyEndpoint {
  /** `http://host:port` it listens on. */
  url: string;
  /**
   * Stops listening. Requests being handled are waited for before and after, so that a notification arriving
   * during shutdown (e.g. after Ctrl-C) is applied and answered before the database is closed.
   */
  close(): Promise<void>;
}

export async function serveNotifications(
  server: AlirefundServer,
  forms: ReadonlyMap<string, string>,
  where: { port: number; host: string },
  onNotification: () => void,
): Promise<NotifyEndpoint> {
  const inflight = new Set<Promise<unknown>>();
  const drain = async () => {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  };
  const outer = new Hono();
  outer.get('/bulk/pwd/:batchNo', (c) => {
    const html = forms.get(c.req.param('batchNo'));
    return html === undefined ? c.text('no such form', 404) : c.html(html);
  });
  outer.all('*', async (c) => {
    const handled = Promise.resolve(server.app.fetch(c.req.raw));
    inflight.add(handled);
    try {
      const res = await handled;
      if (c.req.path.startsWith('/alipay/')) onNotification();
      return res;
    } finally {
      inflight.delete(handled);
    }
  });
  // The notify endpoints: answered by the server's node:http route once the notification is applied (or refused).
  const notify: NodeRoute = (req, res) => {
    if (!server.nodeRoute(req, res)) return false;
    const answered = new Promise<void>((r) => res.once('close', () => r()));
    inflight.add(answered);
    void answered.then(() => {
      inflight.delete(answered);
      onNotification();
    });
    return true;
  };
  const http = await listen(outer, where.port, where.host, notify);
  return {
    url: http.url,
    async close() {
      await drain();
      await http.close();
      await drain();
    },
  };
}
