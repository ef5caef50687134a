/**
 * Assembles the Express app: middleware in a fixed order, then the area routers, then 404 and errors.
 */
import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import { ROOT } from './config.js';
import type { AppContext } from './platform/context.js';
import { csrfProtection } from './platform/csrf.js';
import { isReachable } from './platform/db.js';
import { errorHandler, notFound } from './platform/errors.js';
import { flashMiddleware } from './platform/flash.js';
import { DEFAULT_LANG, isLang } from './platform/i18n.js';
import { httpLogger } from './platform/logger.js';
import { navigationFor } from './platform/navigation.js';
import { can, guard, type Actor } from './platform/policy.js';
import { DbSessionStore } from './platform/session-store.js';
import { setupViews } from './platform/views.js';
import { createAuthenticator } from './people/auth.js';
import { accountRouter } from './people/account-routes.js';
import { adminRouter } from './people/admin-routes.js';
import { institutionRouter } from './people/institution-routes.js';
import { homeRouter } from './people/home-routes.js';
import { mailAdminRouter } from './platform/mail/routes.js';
import { auditRouter } from './platform/audit-routes.js';
import { callRouter } from './calls/routes.js';
import { proposalEditorRouter } from './proposals/editor-routes.js';
import { proposalOfficeRouter } from './proposals/review-routes.js';
import { integrityRouter } from './integrity/routes.js';
import { expertRouter } from './review/experts-routes.js';
import { assignmentRouter } from './review/assignment-routes.js';
import { reviewRouter } from './review/review-routes.js';
import { resultsRouter } from './review/results-routes.js';

export const SESSION_IDLE_MS = 2 * 3600_000;
export const SESSION_ABSOLUTE_MS = 12 * 3600_000;

export interface AppState {
  ready: boolean;
}

export function createApp(ctx: AppContext, state: AppState = { ready: true }) {
  const { config, sequelize, logger } = ctx;
  const app = express();
  const secure = config.baseUrl.startsWith('https:');
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');
  // Pages are made per user and carry CSRF tokens: no cache may keep them (below), so an ETag would never be used
  // and hashing every page for it is wasted work.
  app.set('etag', false);
  setupViews(app, config.env !== 'development');

  if (config.logLevel !== 'silent') app.use(httpLogger(logger));

  const probes = guard(app);
  probes.get('/healthz', can.anyone, (_req, res) => void res.json({ status: 'ok' }));
  probes.get('/readyz', can.anyone, async (_req, res) => {
    const ok = state.ready && (await isReachable(sequelize));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'unavailable' });
  });

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          ...(secure ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      hsts: secure,
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use('/static', express.static(path.join(ROOT, 'public'), { maxAge: config.env === 'production' ? '1d' : 0, index: false }));

  // Everything past the static files is personal or carries a form token: a shared computer's browser cache or
  // a proxy must not keep it (the back button after signing out shows nothing).
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(cookieParser());
  app.use(express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 500 }));
  app.use(express.json({ limit: '200kb' }));

  const store = new DbSessionStore(sequelize, SESSION_IDLE_MS);
  app.use(
    session({
      name: 'yrd.sid',
      secret: config.sessionSecret,
      store,
      resave: false,
      saveUninitialized: false,
      rolling: false,
      proxy: config.trustProxy !== false,
      cookie: { httpOnly: true, sameSite: 'lax', secure, path: '/' },
    }),
  );
  const authenticator = createAuthenticator(ctx);
  app.use(authenticator.initialize());
  app.use(authenticator.session());

  // Absolute session lifetime: a session older than SESSION_ABSOLUTE_MS ends whatever the activity.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = (req.session as { startedAt?: number } | undefined)?.startedAt;
    if (req.user && started && Date.now() - started > SESSION_ABSOLUTE_MS) {
      return req.session.destroy(() => {
        res.clearCookie('yrd.sid', { path: '/' });
        res.redirect(303, '/login');
      });
    }
    next();
  });

  // Language: the user's choice, else the cookie, else zh-CN.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const actor = req.user as Actor | undefined;
    const cookieLang = req.cookies?.['yrd.lang'];
    res.locals.lang = actor && isLang(actor.lang) ? actor.lang : isLang(cookieLang) ? cookieLang : DEFAULT_LANG;
    res.locals.htmlLang = res.locals.lang === 'en' ? 'en' : 'zh-CN';
    next();
  });
  app.use(csrfProtection(config.sessionSecret, secure));
  app.use(flashMiddleware(secure));
  app.use((req: Request, res: Response, next: NextFunction) => {
    const actor = (req.user as Actor | undefined) ?? null;
    res.locals.currentUser = actor ? { name: actor.name, email: actor.email } : null;
    res.locals.nav = navigationFor(actor, req.path);
    res.locals.currentPath = req.originalUrl.length <= 500 ? req.originalUrl : req.path;
    next();
  });

  app.use(homeRouter(ctx));
  app.use(accountRouter(ctx, authenticator));
  app.use(callRouter(ctx));
  app.use(proposalEditorRouter(ctx));
  app.use(proposalOfficeRouter(ctx));
  app.use(expertRouter(ctx));
  app.use(assignmentRouter(ctx));
  app.use(reviewRouter(ctx));
  app.use(resultsRouter(ctx));
  app.use(integrityRouter(ctx));
  app.use(institutionRouter(ctx));
  app.use(adminRouter(ctx));
  app.use(auditRouter(ctx));
  app.use(mailAdminRouter(ctx));

  app.use(notFound);
  app.use(errorHandler(logger));
  return { app, sessionStore: store };
}
