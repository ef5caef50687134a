/** Structured JSON logs (pino); each request gets a request id (kept from a sane X-Request-Id or new). */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';

/** `destination` defaults to stdout; tests pass a stream to read what was logged. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { pid: process.pid }, redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'] };
  return destination ? pino(options, destination) : pino(options);
}

/** Path segments that look like secrets (e-mail verification and reset tokens) never reach the log. */
const TOKEN_SEGMENT = /\/[A-Za-z0-9_-]{32,}(?=\/|$)/g;
export function loggableUrl(url: string): string {
  return url.split('?')[0]!.replace(TOKEN_SEGMENT, '/:token');
}

const SANE_ID = /^[A-Za-z0-9._-]{8,64}$/;

export function httpLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    serializers: {
      req: (r: { id: string; method: string; url: string }) => ({ id: r.id, method: r.method, url: loggableUrl(r.url) }),
      res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }),
    },
  });
}
