/**
 * Process-level plumbing shared by the long-running commands: listening, logging, shutdown.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import pino from 'pino';
import { CliError } from './io.js';

/** Field names whose values never reach a log line. */
export const REDACT = [
  'key',
  'password',
  'paymentPassword',
  'privateKey',
  'token',
  'apiToken',
  'adminPassword',
  'authorization',
  'cookie',
  '*.key',
  '*.password',
  '*.paymentPassword',
  '*.token',
  '*.authorization',
  '*.cookie',
];

/** A JSON logger on stderr (stdout carries the human lines other programs read). */
export function createLogger(level = process.env['ALIREFUND_LOG_LEVEL'] ?? 'info'): pino.Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } }, pino.destination(2));
}

export interface Listening {
  port: number;
  url: string;
  /** Closes every connection at once (requests in flight are cut). */
  close(): Promise<void>;
  /**
   * Graceful stop: no new connections, idle keep-alive connections closed, requests in flight answered (with
   * `Connection: close`). After `timeoutMs` whatever is left is cut. Resolves true when nothing was cut.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

/** A node:http route tried before the app (true: it answered the request). */
export type NodeRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Serves a Hono app on host:port (0 = any free port); `route` (e.g. the merchant server's notification
 * endpoints) sees each request first. @throws CliError when the port is taken.
 */
export async function listen(
  app: Hono,
  port: number,
  host = '127.0.0.1',
  route?: NodeRoute,
): Promise<Listening> {
  return new Promise((resolve, reject) => {
    let server: ServerType | undefined;
    const onError = (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new CliError(`port ${port} on ${host} is already in use; choose another with --port`)
          : new CliError(`cannot listen on ${host}:${port}: ${e.message}`),
      );
    const withRoute =
      route === undefined
        ? {}
        : {
            createServer: ((options: object, listener: (req: IncomingMessage, res: ServerResponse) => void) =>
              createServer(options, (req, res) => {
                if (!route(req, res)) listener(req, res);
              })) as unknown as typeof createServer,
          };
    server = serve({ fetch: app.fetch, port, hostname: host, ...withRoute }, (info) => {
      server?.off('error', onError);
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`;
      const s = server as unknown as {
        closeAllConnections?: () => void;
        closeIdleConnections?: () => void;
        close: (cb: () => void) => void;
      };
      let closed: Promise<void> | undefined;
      const stop = () => {
        closed ??= new Promise<void>((r) => s.close(() => r()));
        return closed;
      };
      resolve({
        port: info.port,
        url,
        close: () => {
          const done = stop();
          s.closeAllConnections?.();
          return done;
        },
        async drain(timeoutMs) {
          const done = stop().then(() => true);
          s.closeIdleConnections?.();
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<boolean>((r) => {
            timer = setTimeout(() => r(false), timeoutMs);
          });
          const clean = await Promise.race([done, late]);
          clearTimeout(timer);
          if (!clean) {
            s.closeAllConnections?.();
            await done;
          }
          return clean;
        },
      });
    });
    server.once('error', onError);
  });
}

/** Resolves on SIGINT/SIGTERM (once), after which the caller shuts down. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}

/** Parses a port flag. */
export function parsePort(text: string, flag = '--port'): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new CliError(`${flag}: "${text}" is not a port number (0-65535)`);
  return n;
}
