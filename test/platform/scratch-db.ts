/**
 * A private database for tests that must not touch the shared test platform's one: a fresh SQLite file under
 * var/test/, or — when DATABASE_URL points at MySQL/MariaDB — a database named `<that database>_<tag>` created
 * with the same credentials and dropped afterwards.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { ROOT } from '../../server/config.js';
import { dialectOf } from '../../server/platform/db.js';

export interface ScratchDatabase {
  url: string;
  dialect: 'sqlite' | 'mysql';
  drop(): Promise<void>;
}

function mysqlServer(url: URL) {
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

/** `charset`: MySQL only, the new database's default character set (e.g. latin1, as on a server left at its default). */
export async function scratchDatabase(tag: string, o: { charset?: 'latin1' } = {}): Promise<ScratchDatabase> {
  const shared = process.env.DATABASE_URL;
  if (!shared || dialectOf(shared) === 'sqlite') {
    const file = path.join(ROOT, 'var', 'test', `${tag}-${process.pid}.sqlite`);
    const clean = () => {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
    };
    clean();
    return { url: `sqlite:${path.relative(ROOT, file)}`, dialect: 'sqlite', drop: async () => clean() };
  }
  const url = new URL(shared.replace(/^mariadb:/, 'mysql:'));
  const base = url.pathname.replace(/^\//, '') || 'yrd';
  const name = `${base}_${tag}`.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 64);
  const admin = async (sql: string) => {
    const c = await mysql.createConnection(mysqlServer(url));
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin(`CREATE DATABASE \`${name}\` ${o.charset === 'latin1' ? 'CHARACTER SET latin1 COLLATE latin1_swedish_ci' : 'CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci'}`);
  const own = new URL(url.toString());
  own.pathname = `/${name}`;
  return { url: own.toString(), dialect: 'mysql', drop: () => admin(`DROP DATABASE IF EXISTS \`${name}\``) };
}
