/**
 * Accounts: sign in/out, registration with e-mail confirmation, password reset, own profile, language.
 * Routes are thin: policy → validate → command → render.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { auditContext, actorOf, type AppContext } from '../platform/context.js';
import { echo, parseForm, type FieldErrors } from '../platform/forms.js';
import { can, guard, type Actor } from '../platform/policy.js';
import { safeNext } from '../platform/redirects.js';
import { withTransaction } from '../platform/db.js';
import { audit } from '../platform/audit.js';
import { LockedOut, type Authenticator } from './auth.js';
import { consume } from '../platform/throttle.js';
import { normaliseEmail } from './rules.js';
import { changePassword, register, requestPasswordReset, resetPassword, tokenIsUsable, updateProfile, verifyEmail } from './account-service.js';
import { institutionOptions } from './institution-service.js';
import { User } from './models.js';
import { forgotSchema, langSchema, loginSchema, passwordChangeSchema, profileSchema, registerSchema, resetSchema } from './schema.js';

function renderLogin(res: Response, status: number, m: { values?: Record<string, string>; errors?: FieldErrors; formError?: string; formErrorParams?: Record<string, unknown>; next?: string }) {
  res.status(status).render('people/login', { title: 'people:login.title', values: m.values ?? {}, errors: m.errors ?? {}, formError: m.formError, formErrorParams: m.formErrorParams, next: m.next ?? '' });
}

export function accountRouter(ctx: AppContext, passport: Authenticator): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize, config } = ctx;
  const links = { baseUrl: config.baseUrl };
  const afterCommit = () => ctx.kickOutbox();
  /** Mail-sending forms: 5 requests per address and 20 per client address in 15 minutes. */
  const REQUEST_LIMIT = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };
  const limited = (purpose: string, email: string, ip: string | undefined) =>
    consume(sequelize, [
      [`${purpose}:id:${normaliseEmail(email)}`, REQUEST_LIMIT],
      [`${purpose}:ip:${ip ?? ''}`, { ...REQUEST_LIMIT, maxFailures: 20 }],
    ]);
  const minutesUntil = (d: Date) => Math.max(1, Math.ceil((d.getTime() - Date.now()) / 60_000));

  r.get('/login', can.anyone, (req, res) => {
    if (actorOf(req)) return res.redirect(303, safeNext(req.query.next));
    renderLogin(res, 200, { next: safeNext(req.query.next, '') });
  });

  r.post('/login', can.anyone, (req: Request, res: Response, next: NextFunction) => {
    const form = parseForm(loginSchema, req.body);
    const nextUrl = safeNext(req.body?.next, '');
    if (!form.ok) return renderLogin(res, 400, { values: form.values, errors: form.errors, next: nextUrl });
    passport.authenticate('local', (err: unknown, actor: Actor | false, info?: { reason?: string }) => {
      if (err instanceof LockedOut) {
        const minutes = Math.max(1, Math.ceil((err.until.getTime() - Date.now()) / 60_000));
        return renderLogin(res, 429, { values: { email: form.data.email }, formError: 'people:login.locked', formErrorParams: { minutes }, next: nextUrl });
      }
      if (err) return next(err);
      if (!actor) {
        const key = info?.reason === 'unverified' ? 'people:login.unverified' : 'people:login.failed';
        return renderLogin(res, 401, { values: { email: form.data.email }, formError: key, next: nextUrl });
      }
      req.logIn(actor, (e) => {
        if (e) return next(e);
        (req.session as unknown as { startedAt: number }).startedAt = Date.now();
        res.cookie('yrd.lang', actor.lang, { httpOnly: true, sameSite: 'lax', secure: config.baseUrl.startsWith('https:'), maxAge: 365 * 86400_000 });
        res.redirect(303, safeNext(nextUrl));
      });
    })(req, res, next);
  });

  r.post('/logout', can.anyone, (req, res, next) => {
    req.logout((e) => {
      if (e) return next(e);
      req.session.destroy((e2) => {
        if (e2) return next(e2);
        res.clearCookie('yrd.sid', { path: '/' });
        res.flash('info', 'people:logout.done');
        res.redirect(303, '/login');
      });
    });
  });

  const renderRegister = async (res: Response, status: number, values: Record<string, string>, errors: FieldErrors, waitMinutes?: number) =>
    res.status(status).render('people/register', {
      title: 'people:register.title',
      values,
      errors,
      formError: waitMinutes ? 'people:throttled' : undefined,
      minutes: waitMinutes,
      institutions: await institutionOptions(res.locals.lang, values.institutionId),
    });

  r.get('/register', can.guest, async (_req, res) => renderRegister(res, 200, {}, {}));
  r.post('/register', can.guest, async (req, res) => {
    const form = parseForm(registerSchema, req.body);
    if (!form.ok) return renderRegister(res, 400, form.values, form.errors);
    const wait = await limited('register', form.data.email, req.ip);
    if (wait) return renderRegister(res, 429, echo(req.body), {}, minutesUntil(wait));
    await register(sequelize, auditContext(req), links, { ...form.data, lang: res.locals.lang });
    afterCommit();
    res.render('people/check-mail', { title: 'people:register.checkMailTitle', message: 'people:register.checkMail', email: form.data.email });
  });

  r.get('/verify/:token', can.anyone, async (req, res) => {
    const usable = await tokenIsUsable(String(req.params.token), 'verify');
    res.status(usable ? 200 : 410).render('people/verify', { title: 'people:verify.title', usable, token: usable ? req.params.token : '' });
  });
  r.post('/verify/:token', can.anyone, async (req, res) => {
    const userId = await verifyEmail(sequelize, auditContext(req), String(req.params.token));
    if (!userId) return res.status(410).render('people/verify', { title: 'people:verify.title', usable: false });
    res.flash('success', 'people:verify.done');
    res.redirect(303, '/login');
  });

  r.get('/password/forgot', can.anyone, (_req, res) => res.render('people/forgot', { title: 'people:forgot.title', values: {}, errors: {} }));
  r.post('/password/forgot', can.anyone, async (req, res) => {
    const form = parseForm(forgotSchema, req.body);
    if (!form.ok) return res.status(400).render('people/forgot', { title: 'people:forgot.title', values: form.values, errors: form.errors });
    const wait = await limited('reset', form.data.email, req.ip);
    if (wait) return res.status(429).render('people/forgot', { title: 'people:forgot.title', values: { email: form.data.email }, errors: {}, formError: 'people:throttled', minutes: minutesUntil(wait) });
    await requestPasswordReset(sequelize, auditContext(req), links, form.data.email);
    afterCommit();
    res.render('people/check-mail', { title: 'people:forgot.title', message: 'people:forgot.sent', email: form.data.email });
  });

  r.get('/password/reset/:token', can.anyone, async (req, res) => {
    const usable = await tokenIsUsable(String(req.params.token), 'reset');
    res.status(usable ? 200 : 410).render('people/reset', { title: 'people:reset.title', usable, token: req.params.token, errors: {} });
  });
  r.post('/password/reset/:token', can.anyone, async (req, res) => {
    const token = String(req.params.token);
    const form = parseForm(resetSchema, req.body);
    if (!form.ok) return res.status(400).render('people/reset', { title: 'people:reset.title', usable: true, token, errors: form.errors });
    const userId = await resetPassword(sequelize, auditContext(req), token, form.data.password);
    if (!userId) return res.status(410).render('people/reset', { title: 'people:reset.title', usable: false, errors: {} });
    if (actorOf(req)?.id === userId) await new Promise<void>((ok) => req.logout(() => ok()));
    res.flash('success', 'people:reset.done');
    res.redirect(303, '/login');
  });

  r.post('/lang', can.anyone, async (req, res) => {
    const form = parseForm(langSchema, req.body);
    const back = safeNext(req.body?.next);
    if (!form.ok) return res.redirect(303, back);
    res.cookie('yrd.lang', form.data.lang, { httpOnly: true, sameSite: 'lax', secure: config.baseUrl.startsWith('https:'), maxAge: 365 * 86400_000 });
    const actor = actorOf(req);
    if (actor && actor.lang !== form.data.lang) {
      await withTransaction(sequelize, async (t) => {
        await User.update({ lang: form.data.lang }, { where: { id: actor.id }, transaction: t });
        await audit(t, auditContext(req), { action: 'user.set_language', entityType: 'user', entityId: actor.id, before: { lang: actor.lang }, after: { lang: form.data.lang } });
      });
      actor.lang = form.data.lang; // the session keeps the actor
      (req.session as unknown as { passport: { user: Actor } }).passport.user = actor;
    }
    res.redirect(303, back);
  });

  const renderAccount = async (req: Request, res: Response, status: number, m: { profileValues?: Record<string, string>; profileErrors?: FieldErrors; passwordErrors?: FieldErrors }) => {
    const actor = actorOf(req)!;
    const user = (await User.findByPk(actor.id))!;
    const profile = m.profileValues ?? { name: user.name, lang: user.lang, institutionId: user.institutionId ? String(user.institutionId) : '' };
    res.status(status).render('people/account', {
      title: 'people:account.title',
      email: user.email,
      profile,
      profileErrors: m.profileErrors ?? {},
      passwordErrors: m.passwordErrors ?? {},
      institutions: await institutionOptions(res.locals.lang, profile.institutionId),
      roles: actor.roles.map((g) => ({ role: g.role, provinceCode: g.provinceCode ?? '', institutionId: g.institutionId ?? '' })),
    });
  };

  r.get('/account', can.signedIn, (req, res) => renderAccount(req, res, 200, {}));
  r.post('/account/profile', can.signedIn, async (req, res) => {
    const form = parseForm(profileSchema, req.body);
    if (!form.ok) return renderAccount(req, res, 400, { profileValues: form.values, profileErrors: form.errors });
    const actor = actorOf(req)!;
    await updateProfile(sequelize, auditContext(req), actor.id, form.data);
    Object.assign(actor, { name: form.data.name, lang: form.data.lang, institutionId: form.data.institutionId });
    (req.session as unknown as { passport: { user: Actor } }).passport.user = actor;
    res.cookie('yrd.lang', form.data.lang, { httpOnly: true, sameSite: 'lax', secure: config.baseUrl.startsWith('https:'), maxAge: 365 * 86400_000 });
    res.flash('success', 'people:account.saved');
    res.redirect(303, '/account');
  });
  r.post('/account/password', can.signedIn, async (req, res) => {
    const form = parseForm(passwordChangeSchema, req.body);
    if (!form.ok) return renderAccount(req, res, 400, { passwordErrors: form.errors });
    const result = await changePassword(sequelize, auditContext(req), actorOf(req)!.id, req.sessionID, form.data.currentPassword, form.data.newPassword);
    if (!result.ok) return renderAccount(req, res, 400, { passwordErrors: { [result.field]: result.error } });
    res.flash('success', 'people:account.passwordChanged');
    res.redirect(303, '/account');
  });

  return router;
}
