/** Load with autocannon, in-process, against 127.0.0.1 only, for a bounded time. */
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  seconds: number;
  connections: number;
  headers?: Record<string, string>;
  /** Every response body must pass this check (counted as mismatches otherwise). */
  verify?: (body: string) => boolean;
}

export interface Load {
  /** 2xx responses that passed `verify`, per second. */
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  mismatches: number;
  seconds: number;
}

export async function load(o: LoadOptions): Promise<Load> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(o.url)) throw new Error(`refusing to load anything but 127.0.0.1: ${o.url}`);
  const r = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    timeout: 10,
    headers: o.headers,
    ...(o.verify ? { verifyBody: (b: string | Buffer | undefined) => o.verify!(String(b ?? '')) } : {}),
  });
  const good = r['2xx'] - r.mismatches;
  return {
    rps: good / r.duration,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    requests: r['2xx'] + r.non2xx,
    non2xx: r.non2xx,
    errors: r.errors,
    mismatches: r.mismatches,
    seconds: r.duration,
  };
}

/** A load whose every answer must have been right, else the number means nothing. */
export async function cleanLoad(what: string, o: LoadOptions): Promise<Load> {
  const l = await load(o);
  if (l.non2xx || l.errors || l.mismatches || !l.requests) {
    throw new Error(`${what}: ${l.non2xx} non-2xx, ${l.errors} errors, ${l.mismatches} wrong pages out of ${l.requests} requests`);
  }
  return l;
}
