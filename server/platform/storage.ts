/**
 * Uploaded files: received by multer into UPLOAD_DIR/.tmp (same filesystem as the final place, so the rename
 * is atomic), then fsynced, hashed (sha256), sniffed from the bytes (file-type), renamed to an opaque random
 * name directly under UPLOAD_DIR, and only then recorded in the database by the caller. Files live outside
 * the web root and are served only through a route that checks the policy. Temp files are removed when the
 * response finishes; a sweep removes files no row references (e.g. after a crash between rename and commit).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { open, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { fileTypeFromFile } from 'file-type';
import multer from 'multer';

const TMP = '.tmp';
const STORED_NAME = /^[a-f0-9]{48}$/;

export interface UploadArea {
  root: string;
  tmp: string;
}

/** The upload directory and its temp folder, created if missing. */
export function uploadArea(uploadDir: string): UploadArea {
  const root = path.resolve(uploadDir);
  const tmp = path.join(root, TMP);
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  return { root, tmp };
}

export interface SingleFileLimits {
  /** Largest accepted file, in bytes. */
  maxBytes: number;
  /** Text fields expected next to the file. */
  fields?: number;
}

/** Why multer refused the body; the route maps it to 400/413 with a message in the user's language. */
export class UploadRefused extends Error {
  constructor(
    public readonly status: 400 | 413,
    public readonly code: string,
    public readonly field?: string,
  ) {
    super(code);
  }
}

/**
 * One file in field `field`, every multer limit set. Errors are passed on as UploadRefused. The temp file is
 * removed when the response finishes, whatever happened (it has normally been renamed by then).
 */
export function singleFileUpload(area: UploadArea, field: string, limits: SingleFileLimits): RequestHandler {
  const fields = limits.fields ?? 4;
  const upload = multer({
    storage: multer.diskStorage({
      destination: area.tmp,
      filename: (_req, _file, cb) => cb(null, `${randomBytes(16).toString('hex')}.part`),
    }),
    limits: {
      fileSize: limits.maxBytes,
      files: 1,
      fields,
      parts: fields + 1,
      fieldNameSize: 64,
      fieldSize: 4096,
      headerPairs: 20,
    },
    preservePath: false,
    defParamCharset: 'utf8',
  }).single(field);
  return function receiveUpload(req: Request, res: Response, next: NextFunction) {
    res.on('close', () => void removeTemp(req));
    upload(req, res, (err?: unknown) => {
      if (!err) return next();
      if (err instanceof multer.MulterError) {
        const status = err.code === 'LIMIT_FILE_SIZE' ? 413 : 400;
        return next(new UploadRefused(status, err.code, err.field));
      }
      next(err);
    });
  };
}

/** Remove the request's temp file now (refusals call this before answering; 'close' is the safety net). */
export async function removeTemp(req: Request): Promise<void> {
  const p = req.file?.path;
  if (p) await unlink(p).catch(() => undefined);
}

/** The content type as read from the bytes (never from the name or the client's Content-Type). */
export async function sniff(file: string): Promise<{ ext: string; mime: string } | null> {
  const r = await fileTypeFromFile(file);
  return r ? { ext: r.ext, mime: r.mime } : null;
}

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function fsyncPath(p: string, flags = 'r'): Promise<void> {
  const fh = await open(p, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface StoredFile {
  storedName: string;
  sha256: string;
  sizeBytes: number;
}

/** Make the temp file durable, hash it, and move it to its final opaque name. The caller commits the row next. */
export async function keepUpload(area: UploadArea, tmpFile: string): Promise<StoredFile> {
  const resolved = path.resolve(tmpFile);
  if (path.dirname(resolved) !== area.tmp) throw new Error('upload outside the temp folder');
  await fsyncPath(resolved);
  const [sha256, st] = await Promise.all([sha256Of(resolved), stat(resolved)]);
  const storedName = randomBytes(24).toString('hex');
  await rename(resolved, path.join(area.root, storedName));
  await fsyncPath(area.root).catch(() => undefined); // the directory entry (not supported everywhere)
  return { storedName, sha256, sizeBytes: st.size };
}

/**
 * Store bytes the platform made itself (the demo's files) under a new opaque name, as an upload would be stored.
 * Not fsynced: such bytes can be made again, and a file left without a row is swept.
 */
export async function storeBytes(area: UploadArea, bytes: Buffer): Promise<StoredFile> {
  const storedName = randomBytes(24).toString('hex');
  await writeFile(path.join(area.root, storedName), bytes, { flag: 'wx', mode: 0o600 });
  return { storedName, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length };
}

/** Absolute path of a stored file; refuses anything that is not one of our opaque names. */
export function storedPath(area: UploadArea, storedName: string): string {
  if (!STORED_NAME.test(storedName)) throw new Error('not a stored file name');
  return path.join(area.root, storedName);
}

export async function removeStored(area: UploadArea, storedName: string): Promise<void> {
  if (!STORED_NAME.test(storedName)) return;
  await unlink(path.join(area.root, storedName)).catch(() => undefined);
}

/**
 * Remove stored files that no row references and temp files left behind, both only when older than
 * `olderThanMs` (an upload in flight has a temp file, or a renamed file whose row is about to be committed).
 */
export async function sweepUploads(area: UploadArea, referenced: (names: string[]) => Promise<Set<string>>, olderThanMs = 3600_000, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const old = async (p: string) => {
    try {
      return now - (await stat(p)).mtimeMs >= olderThanMs;
    } catch {
      return false;
    }
  };
  for (const name of await readdir(area.tmp).catch(() => [] as string[])) {
    const p = path.join(area.tmp, name);
    if (await old(p)) {
      await unlink(p).catch(() => undefined);
      removed.push(path.join(TMP, name));
    }
  }
  const candidates = (await readdir(area.root)).filter((n) => STORED_NAME.test(n));
  for (let i = 0; i < candidates.length; i += 500) {
    const batch = candidates.slice(i, i + 500);
    const known = await referenced(batch);
    for (const name of batch) {
      if (known.has(name)) continue;
      const p = path.join(area.root, name);
      if (await old(p)) {
        await unlink(p).catch(() => undefined);
        removed.push(name);
      }
    }
  }
  return removed;
}
