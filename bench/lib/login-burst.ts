/**
 * Sign-in pressure: N clients, each with its own CSRF cookie and token, POST /login with a correct password
 * in a loop (every success creates a session, so each one costs a real argon2 verification).
 */
import { loginForm, postLogin, type LoginForm } from './client.js';

export interface BurstOptions {
  base: string;
  clients: number;
  logins: Array<{ email: string; password: string }>;
  /** Time for the hashing queue to fill before `during` starts. */
  rampMs: number;
}

export interface Burst<T> {
  during: T;
  logins: number;
  failures: number;
  seconds: number;
}

export async function withLoginBurst<T>(o: BurstOptions, during: () => Promise<T>): Promise<Burst<T>> {
  let stop = false;
  let logins = 0;
  let failures = 0;
  let countFrom = 0;
  let firstError: unknown = null;

  const client = async (i: number) => {
    const who = o.logins[i % o.logins.length]!;
    // The form is fetched inside the loop's try: a client whose GET /login fails is counted as a failure and
    // tries again, instead of its promise rejecting unseen and the run reporting fewer clients than it names.
    let form: LoginForm | null = null;
    while (!stop) {
      try {
        form ??= await loginForm(o.base);
        const r = await postLogin(o.base, form, who.email, who.password);
        if (stop) break;
        if (r.status !== 303) form = null; // as a browser would, sign in again from a freshly loaded form
        if (Date.now() < countFrom) continue;
        if (r.status === 303) logins++;
        else failures++;
      } catch (e) {
        if (Date.now() >= countFrom) failures++;
        firstError ??= e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const started = Date.now();
  countFrom = started + o.rampMs;
  const clients = Array.from({ length: o.clients }, (_, i) => client(i));
  await new Promise((r) => setTimeout(r, o.rampMs));
  const t0 = Date.now();
  let result: T;
  try {
    result = await during();
  } finally {
    stop = true;
  }
  const seconds = (Date.now() - t0) / 1000;
  await Promise.allSettled(clients);
  if (logins === 0) throw new Error(`no sign-in succeeded during the burst (${failures} failures${firstError ? `: ${String(firstError)}` : ''})`);
  return { during: result, logins, failures, seconds };
}
