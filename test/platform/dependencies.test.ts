/**
 * Dependency floors: npm audit cannot reach its service here, so every installed copy of the packages named in
 * security/floors.json (copied from shared/SECURITY.md) must be at least the listed version.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../server/config.js';

interface Floors {
  floors: Record<string, string>;
  forbidden: Array<{ package: string; pattern: string; why: string }>;
}

const floors = JSON.parse(readFileSync(path.join(ROOT, 'security', 'floors.json'), 'utf8')) as Floors;

type Version = { parts: [number, number, number]; pre: boolean };

function parseVersion(v: string): Version {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(?:\+.*)?$/.exec(v.trim());
  if (!m) throw new Error(`not a version: ${v}`);
  return { parts: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre: Boolean(m[4]) };
}

/** True when `installed` is at least `floor`; a pre-release of the floor itself is below it. */
function meetsFloor(installed: string, floor: string): boolean {
  const a = parseVersion(installed);
  const b = parseVersion(floor);
  for (let i = 0; i < 3; i++) if (a.parts[i] !== b.parts[i]) return a.parts[i]! > b.parts[i]!;
  return !a.pre || b.pre;
}

/** Every copy of `name` in the lockfile (top level and nested), as [location, version]. */
function lockedCopies(name: string): Array<[string, string]> {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; link?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([loc, meta]) => loc.endsWith(`node_modules/${name}`) && !meta.link)
    .map(([loc, meta]) => [loc, meta.version ?? '?']);
}

function installedVersion(location: string): string | null {
  const file = path.join(ROOT, location, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : null;
}

function sourceFiles(dir: string): string[] {
  return (readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(ROOT, dir, f));
}

describe('dependency floors', () => {
  it('compares versions the way the floors mean them', () => {
    expect(meetsFloor('5.1.0', '5.1')).to.equal(true);
    expect(meetsFloor('5.3.0', '5.1.0')).to.equal(true);
    expect(meetsFloor('5.0.9', '5.1.0')).to.equal(false);
    expect(meetsFloor('4.21.2', '5.1.0')).to.equal(false);
    expect(meetsFloor('1.18.1', '1.18.2')).to.equal(false);
    expect(meetsFloor('6.37.8-beta.1', '6.37.8')).to.equal(false);
    expect(meetsFloor('10.4.1', '10.4.1')).to.equal(true);
    expect(meetsFloor('3.100.0', '3.23.1')).to.equal(true);
  });

  for (const [name, floor] of Object.entries(floors.floors)) {
    it(`every installed ${name} is ≥ ${floor}`, () => {
      const copies = lockedCopies(name);
      expect(copies, `${name} is not in package-lock.json`).to.not.be.empty;
      for (const [loc, locked] of copies) {
        const onDisk = installedVersion(loc);
        // Optional/dev copies absent from this install are judged by the lockfile alone.
        const version = onDisk ?? locked;
        if (onDisk) expect(onDisk, `${loc}: node_modules disagrees with package-lock.json`).to.equal(locked);
        expect(meetsFloor(version, floor), `${loc} is ${version}, below the floor ${floor}`).to.equal(true);
      }
    });
  }

  it('the floors still match shared/SECURITY.md', function () {
    const file = path.resolve(ROOT, '..', 'shared', 'SECURITY.md');
    if (!existsSync(file)) this.skip();
    const text = readFileSync(file, 'utf8');
    const section = /## Dependency floors[^\n]*\n([\s\S]*?)\n## /.exec(text)?.[1] ?? '';
    const listed = Object.fromEntries([...section.matchAll(/([a-z0-9@/._-]+) ≥ (\d+(?:\.\d+)*)/g)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(listed).length, 'no floors found in SECURITY.md').to.be.greaterThan(5);
    for (const [name, floor] of Object.entries(listed)) {
      const ours = floors.floors[name];
      expect(ours, `${name} ≥ ${floor} is in SECURITY.md but not in security/floors.json`).to.be.a('string');
      expect(meetsFloor(ours!, floor), `security/floors.json has ${name} ${ours}, SECURITY.md asks ≥ ${floor}`).to.equal(true);
    }
  });

  for (const rule of floors.forbidden) {
    it(`no source says ${rule.pattern.replace(/\\s\*/g, ' ')} (${rule.package})`, () => {
      const re = new RegExp(rule.pattern);
      const offenders = [...sourceFiles('server'), ...sourceFiles('scripts')].filter((f) => re.test(readFileSync(f, 'utf8')));
      expect(offenders.map((f) => path.relative(ROOT, f)), rule.why).to.deep.equal([]);
    });
  }
});
