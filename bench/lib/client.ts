/** What a browser does to sign in: GET /login for the CSRF cookie and token, then POST the form. */

export interface LoginForm {
  token: string;
  /** Cookie header carrying the CSRF cookie. */
  cookie: string;
}

const cookiePairs = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]!);

export async function loginForm(base: string): Promise<LoginForm> {
  const res = await fetch(`${base}/login`, { redirect: 'manual' });
  const html = await res.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (res.status !== 200 || !token) throw new Error(`GET /login: status ${res.status}, no CSRF token`);
  return { token, cookie: cookiePairs(res).join('; ') };
}

/** POST /login; returns the status and the cookies set (a 303 with yrd.sid on success). */
export async function postLogin(base: string, form: LoginForm, email: string, password: string): Promise<{ status: number; cookies: string[] }> {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: form.cookie },
    body: new URLSearchParams({ _csrf: form.token, email, password }).toString(),
  });
  await res.arrayBuffer();
  return { status: res.status, cookies: cookiePairs(res) };
}

/** Sign in and return the Cookie header a browser would then send (CSRF cookie, session, language). */
export async function signIn(base: string, email: string, password: string): Promise<string> {
  const form = await loginForm(base);
  const r = await postLogin(base, form, email, password);
  if (r.status !== 303 || !r.cookies.some((c) => c.startsWith('yrd.sid='))) throw new Error(`sign-in of ${email} failed: status ${r.status}`);
  const jar = new Map<string, string>();
  for (const c of [...form.cookie.split('; '), ...r.cookies]) jar.set(c.split('=')[0]!, c);
  return [...jar.values()].join('; ');
}

export async function getPage(base: string, path: string, cookie?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}${path}`, { redirect: 'manual', headers: cookie ? { Cookie: cookie } : {} });
  return { status: res.status, text: await res.text() };
}
