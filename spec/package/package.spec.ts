/**
 * The package as a user installs it: `npm pack` of this repository (its `prepack` builds dist/),
 * the tarball installed into a new project, and that project using it from CommonJS, ES modules and
 * TypeScript (tsc --strict and tsx) — every entry point that the `exports` map lists, a Thread, a
 * ThreadPoolExecutor task that is a function of the user's own file, a Pool.map, the examples of the
 * README's "Install and use" section, and tsx as the optional peer dependency it is. The native
 * addon comes prebuilt in the tarball (its `prepack` makes it), so shared memory works whether or
 * not the install script runs (npm 11 runs it only once the user approves it; `--ignore-scripts`).
 *
 * Bounded in time: every command runs with a deadline and is killed with its process group. Offline
 * but for the npm registry: installs prefer npm's cache (`--prefer-offline`), which `npm ci` filled,
 * and tsc and @types/node come from this repository's node_modules. The time of each step is printed
 * at the end of the file.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killAll, runOk } from './run';

const ROOT = path.resolve(__dirname, '../..');
const PROJECT = path.join(__dirname, 'project');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TYPE_ROOTS = path.join(ROOT, 'node_modules', '@types');

const PACK_MS = 180_000;
const INSTALL_MS = 240_000;
const TSC_MS = 120_000;
const RUN_MS = 60_000;

/** The runtime dependencies the package may have: each is there for the reason given. */
const ALLOWED_DEPENDENCIES: Record<string, string> = {
  piscina: 'the thread pool under ThreadPoolExecutor',
  bullmq: 'threadkit/distributed only',
  ioredis: 'threadkit/distributed only',
  'node-gyp-build': 'loads the native shared-memory addon',
};

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, string | { types?: string; default: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** Every import specifier the exports map offers (`threadkit`, `threadkit/threading`, …), code only. */
const ENTRIES = Object.keys(manifest.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`));

const timings: Array<[step: string, ms: number]> = [];
let work: string;
let app: string;
let tarball: string;

async function timed<T extends { ms: number }>(step: string, ran: Promise<T>): Promise<T> {
  const done = await ran;
  timings.push([step, done.ms]);
  return done;
}

const node = (args: string[], step: string, cwd = app): Promise<{ stdout: string; ms: number }> =>
  timed(step, runOk(process.execPath, args, cwd, RUN_MS));
const npm = (args: string[], cwd: string, step: string, deadline: number): Promise<{ stdout: string; ms: number }> =>
  timed(step, runOk('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd, deadline));
const tsc = (project: string, step: string): Promise<{ stdout: string; ms: number }> =>
  timed(step, runOk(process.execPath, [TSC, '-p', project], app, TSC_MS));

/** The files of this checkout as a fresh clone has them: tracked and new ones, nothing ignored. */
function copyRepository(to: string): void {
  let files: string[];
  try {
    files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f !== '');
  } catch {
    // Not a git checkout: everything but what a build or an install makes.
    const skip = new Set(['node_modules', 'dist', 'build', 'coverage', 'bench-results', '.git']);
    files = (fs.readdirSync(ROOT, { recursive: true }) as string[])
      .filter((f) => !skip.has(f.split(path.sep)[0]) && fs.statSync(path.join(ROOT, f)).isFile());
  }
  for (const file of files) {
    const from = path.join(ROOT, file);
    if (!fs.existsSync(from) || fs.statSync(from).isDirectory()) continue; // deleted in the work tree; a submodule
    fs.mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    fs.copyFileSync(from, path.join(to, file));
  }
}

/** Names that a module exports, as a JSON line (the same program for every flavour). */
function namesProgram(load: string): string {
  return `for (const [entry, mod] of ${load}) names[entry] = Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule').sort();\n` +
    'console.log(JSON.stringify(names));\n';
}

/** entries.cjs, .mjs, .ts and .mts: each loads every entry point and prints its export names. */
function writeEntryPrograms(): void {
  const list = JSON.stringify(ENTRIES);
  fs.writeFileSync(path.join(app, 'entries.cjs'),
    `const names = {};\n${namesProgram(`${list}.map((e) => [e, require(e)])`)}`);
  const imports = ENTRIES.map((entry, i) => `import * as m${i} from '${entry}';`).join('\n');
  const pairs = `[${ENTRIES.map((entry, i) => `['${entry}', m${i}]`).join(', ')}] as const`;
  fs.writeFileSync(path.join(app, 'entries.mjs'), `${imports}\nconst names = {};\n${namesProgram(pairs.replace(' as const', ''))}`);
  const typed = `${imports}\nconst names: Record<string, string[]> = {};\n${namesProgram(pairs)}`;
  fs.writeFileSync(path.join(app, 'entries.ts'), `${typed}export {};\n`);
  fs.writeFileSync(path.join(app, 'entries.mts'), typed);
}

/** A tsconfig in the app for `files`, strict, with this repository's @types/node. */
function writeTsconfig(name: string, files: string[], options: Record<string, unknown>): string {
  const compilerOptions = {
    strict: true, target: 'es2022', types: ['node'], typeRoots: [TYPE_ROOTS], skipLibCheck: false, ...options,
  };
  fs.writeFileSync(path.join(app, name), JSON.stringify({ compilerOptions, files }, null, 2));
  return path.join(app, name);
}

/** The lines that the program must print, in this order (others may come between them). */
function expectLines(stdout: string, expected: string[]): void {
  const lines = stdout.split('\n');
  let at = 0;
  for (const line of expected) {
    const found = lines.indexOf(line, at);
    expect({ line, found: found >= 0, stdout }).toEqual({ line, found: true, stdout });
    at = found + 1;
  }
}

let names: Promise<string> | undefined;

/** The export names of every entry point as CommonJS sees them (JSON), for the other flavours to match. */
function entryNames(): Promise<string> {
  names ??= node(['entries.cjs'], 'node entries.cjs').then((ran) => ran.stdout.trim());
  return names;
}

const USER_LINES = ['thread: 42', 'fromModule: 42', 'error: RangeError: from a target', 'submitted at: true', 'pool: 1 4 9'];

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'threadkit-package-'));
  const src = path.join(work, 'src');
  copyRepository(src);
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'), 'dir');
  await npm(['pack', '--pack-destination', work], src, 'npm pack (prepack builds dist/)', PACK_MS);
  tarball = path.join(work, fs.readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  app = path.join(work, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'threadkit-user', version: '1.0.0', private: true }, null, 2));
  await npm(['install', tarball, '--prefer-offline'], app, 'npm install <tarball> --prefer-offline', INSTALL_MS);
  for (const file of fs.readdirSync(PROJECT)) fs.copyFileSync(path.join(PROJECT, file), path.join(app, file));
  writeEntryPrograms();
}, PACK_MS + INSTALL_MS);

afterAll(() => {
  killAll();
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  if (timings.length > 0) {
    const width = Math.max(...timings.map(([step]) => step.length));
    const total = timings.reduce((sum, [, ms]) => sum + ms, 0);
    console.log(`package test timings (load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}):\n` +
      [...timings, ['total of the steps', total] as [string, number]].map(([step, ms]) => `  ${step.padEnd(width)}  ${(ms / 1000).toFixed(1).padStart(6)} s`).join('\n'));
  }
});

describe('the tarball', () => {
  test('holds the compiled JavaScript with its declarations and the native sources; no TypeScript sources, tests or source maps', () => {
    const listed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
    const files = new Set(listed.map((l) => l.replace(/^package\//, '')));
    expect(files.has('package.json')).toBe(true);
    expect(files.has('README.md')).toBe(true);
    const sources = (fs.readdirSync(path.join(ROOT, 'lib'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(10);
    const missing = sources.flatMap((f) => [f.replace(/\.ts$/, '.js'), f.replace(/\.ts$/, '.d.ts')].map((out) => `dist/${out.split(path.sep).join('/')}`))
      .filter((out) => !files.has(out));
    expect(missing).toEqual([]);
    const nativeDir = path.join(ROOT, 'native');
    if (fs.existsSync(nativeDir)) {
      const tracked = execFileSync('git', ['ls-files', 'native'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((l) => l !== '');
      expect(tracked.filter((f) => !files.has(f))).toEqual([]);
    }
    const unwanted = [...files].filter((f) => /^(lib|spec|benchmarks|examples|node_modules|native\/build)\//.test(f) || f.endsWith('.map') || f.endsWith('.tsbuildinfo'));
    expect(unwanted).toEqual([]);
  });

  test('its exports map lists only entry points that exist, each with its declarations', () => {
    const installed = path.join(app, 'node_modules', manifest.name);
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as PackageJson;
    const targets = Object.entries(pkg.exports).filter(([key]) => key !== './package.json');
    expect(targets.length).toBeGreaterThan(0);
    for (const [key, target] of targets) {
      expect({ key, target: typeof target }).toEqual({ key, target: 'object' });
      const { types, default: js } = target as { types?: string; default: string };
      for (const file of [js, types]) expect({ key, file, exists: file !== undefined && fs.existsSync(path.join(installed, file)) }).toEqual({ key, file, exists: true });
    }
  });

  test('installs piscina and nothing of a TypeScript toolchain; tsx is an optional peer', () => {
    const deps = Object.keys(manifest.dependencies ?? {});
    expect(deps.filter((d) => !(d in ALLOWED_DEPENDENCIES))).toEqual([]);
    expect(deps).toContain('piscina');
    expect(manifest.peerDependencies?.tsx).toBeDefined();
    expect(manifest.peerDependenciesMeta?.tsx?.optional).toBe(true);
    expect(manifest.devDependencies?.tsx).toBeDefined();
    const modules = fs.readdirSync(path.join(app, 'node_modules'));
    expect(modules).toEqual(expect.arrayContaining([manifest.name, 'piscina']));
    expect(modules.filter((m) => ['tsx', 'esbuild', 'typescript', 'ts-node', '@esbuild'].includes(m))).toEqual([]);
  });
});

describe('the native addon, as installed', () => {
  // Where packing made one: Linux (prebuild.js), named as node-gyp-build looks for it.
  const libc = fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
  const PREBUILD = `native/prebuilds/${process.platform}-${process.arch}/node.abi${process.versions.modules}.${libc}.node`;
  const onLinux = process.platform === 'linux' ? test : test.skip;
  const SHARED_LINES = ['process exitcode: 0', 'value: 1500', `addon: ${PREBUILD}`];

  /** The installed package in `project`. */
  const installed = (project: string): string => path.join(project, 'node_modules', manifest.name);

  onLinux('the tarball carries it prebuilt for this platform and Node ABI; no build of it', () => {
    const listed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').map((l) => l.replace(/^package\//, ''));
    expect(listed.filter((f) => f.startsWith('native/prebuilds/'))).toEqual([PREBUILD]);
    expect(listed.filter((f) => f.startsWith('native/build/'))).toEqual([]);
  });

  onLinux('a plain install (npm 11 leaves the install script to the user\'s approval) works through the prebuild: a Value under a Lock from a Process and a Pool task', async () => {
    expectLines((await node(['shared.cjs'], 'node shared.cjs')).stdout, SHARED_LINES);
    expect(fs.existsSync(path.join(installed(app), 'native', 'build'))).toBe(false);
  }, RUN_MS);

  onLinux('an install with --ignore-scripts works the same, through the prebuild', async () => {
    const bare = path.join(work, 'app-ignore-scripts');
    fs.mkdirSync(bare);
    fs.writeFileSync(path.join(bare, 'package.json'), JSON.stringify({ name: 'threadkit-user-no-scripts', version: '1.0.0', private: true }, null, 2));
    await npm(['install', tarball, '--prefer-offline', '--ignore-scripts'], bare, 'npm install <tarball> --ignore-scripts', INSTALL_MS);
    fs.copyFileSync(path.join(PROJECT, 'shared.cjs'), path.join(bare, 'shared.cjs'));
    expectLines((await node(['shared.cjs'], 'node shared.cjs (--ignore-scripts)', bare)).stdout, SHARED_LINES);
    expect(fs.existsSync(path.join(installed(bare), 'native', 'build'))).toBe(false);
  }, INSTALL_MS + RUN_MS);

  onLinux('the install script, when it runs, loads the prebuild and compiles nothing', async () => {
    const ran = await timed('node native/install.js (installed)', runOk(process.execPath, ['native/install.js'], installed(app), RUN_MS));
    expect(ran.stderr.trim()).toBe(`threadkit: using the prebuilt native addon ${PREBUILD.replace(/^native\//, '')}`);
    expect(fs.existsSync(path.join(installed(app), 'native', 'build'))).toBe(false);
  }, RUN_MS);
});

describe('without tsx', () => {
  test('every entry point loads from CommonJS and from an ES module, with the same names', async () => {
    const names = await entryNames();
    const byEntry = JSON.parse(names) as Record<string, string[]>;
    expect(Object.keys(byEntry).sort()).toEqual([...ENTRIES].sort());
    for (const entry of ENTRIES) expect({ entry, count: byEntry[entry].length > 0 }).toEqual({ entry, count: true });
    expect((await node(['entries.mjs'], 'node entries.mjs')).stdout.trim()).toBe(names);
  }, 2 * RUN_MS);

  test('a CommonJS program runs a Thread, a task from its own file, a target error with its call site, and a Pool.map', async () => {
    expectLines((await node(['user.cjs'], 'node user.cjs')).stdout, USER_LINES);
  }, RUN_MS);

  test('an ES module program does the same', async () => {
    expectLines((await node(['user.mjs'], 'node user.mjs')).stdout, USER_LINES);
  }, RUN_MS);

  test('a TypeScript task module fails with an error that says to install tsx', async () => {
    const { stdout } = await node(['no-tsx.cjs'], 'node no-tsx.cjs (no tsx)');
    expect(stdout.trim()).toMatch(/^Error: cannot load the TypeScript module \S+task\.ts: threadkit loads \.ts task modules with tsx, an optional peer dependency that is not installed\. Install it \(npm install --save-dev tsx\)/);
  }, RUN_MS);

  test('tsc --strict compiles every entry point and the program against the declarations (node16 CommonJS and ES module, classic resolution); the compiled programs run', async () => {
    const files = ['user.ts', 'task.ts', 'entries.ts', 'entries.mts'];
    await tsc(writeTsconfig('tsconfig.json', files, { module: 'node16', outDir: 'out' }), 'tsc --strict, module node16 (emit)');
    // Classic resolution ignores `exports`: typesVersions must lead it to the declarations (already
    // checked above, hence skipLibCheck).
    await tsc(writeTsconfig('tsconfig.classic.json', files.slice(0, 3), {
      module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0', noEmit: true, skipLibCheck: true,
    }), 'tsc --strict, module commonjs, node10 resolution');
    const cjsNames = await entryNames();
    expect((await node([path.join('out', 'entries.js')], 'node out/entries.js')).stdout.trim()).toBe(cjsNames);
    expect((await node([path.join('out', 'entries.mjs')], 'node out/entries.mjs')).stdout.trim()).toBe(cjsNames);
    const { stdout } = await node([path.join('out', 'user.js')], 'node out/user.js');
    expectLines(stdout, [...USER_LINES.slice(0, 2), 'task module: 42', ...USER_LINES.slice(2, 4), 'renamed import: true', USER_LINES[4]]);
  }, 2 * TSC_MS + 4 * RUN_MS);
});

describe('with tsx installed', () => {
  let tsxCli: string;

  beforeAll(async () => {
    await npm(['install', `tsx@${manifest.devDependencies!.tsx}`, '--prefer-offline'], app, 'npm install tsx --prefer-offline', INSTALL_MS);
    tsxCli = path.join(app, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  }, INSTALL_MS);

  test('plain node runs a TypeScript task module', async () => {
    expect((await node(['no-tsx.cjs'], 'node no-tsx.cjs (tsx installed)')).stdout.trim()).toBe('42');
  }, RUN_MS);

  test('tsx runs every entry point (CommonJS and ES module TypeScript) and the program, with a .ts task module', async () => {
    const cjsNames = await entryNames();
    expect((await node([tsxCli, 'entries.ts'], 'tsx entries.ts')).stdout.trim()).toBe(cjsNames);
    expect((await node([tsxCli, 'entries.mts'], 'tsx entries.mts')).stdout.trim()).toBe(cjsNames);
    const { stdout } = await node([tsxCli, 'user.ts'], 'tsx user.ts');
    expectLines(stdout, [...USER_LINES.slice(0, 2), 'task module: 42', ...USER_LINES.slice(2, 4), 'renamed import: true', USER_LINES[4]]);
  }, 4 * RUN_MS);

  test('the examples of the README\'s "Install and use" section run as written and print what they say', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Install and use'), readme.indexOf('\n## ', readme.indexOf('## Install and use') + 1));
    const blocks = [...section.matchAll(/```(?:js|ts)\n(\/\/ (app\.\w+)[^\n]*\n[\s\S]*?)```/g)].map((m) => ({ file: m[2], code: m[1] }));
    expect(blocks.map((b) => b.file).sort()).toEqual(['app.cjs', 'app.mjs', 'app.ts']);
    const dir = path.join(app, 'readme');
    fs.mkdirSync(dir, { recursive: true });
    // The module the ES example's comment describes.
    fs.writeFileSync(path.join(dir, 'tasks.mjs'), 'export function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n');
    for (const { file, code } of blocks) fs.writeFileSync(path.join(dir, file), code);
    /** What the example says it prints: the `// value` comments after its console.log calls. */
    const printed = (code: string): string[] => [...code.matchAll(/console\.log\(.*\);\s*\/\/ (.+)$/gm)].map((m) => m[1].trim());
    for (const { file, code } of blocks) {
      if (file === 'app.ts') continue;
      const expected = printed(code);
      expect(expected.length).toBeGreaterThan(0);
      expectLines((await node([path.join(dir, file)], `node readme/${file}`)).stdout, expected);
    }
    const ts = blocks.find((b) => b.file === 'app.ts')!;
    await tsc(writeTsconfig('tsconfig.readme.json', ['readme/app.ts'], { module: 'node16', rootDir: 'readme', outDir: 'readme/out', skipLibCheck: true }), 'tsc --strict readme/app.ts');
    expectLines((await node([path.join(dir, 'out', 'app.js')], 'node readme/out/app.js')).stdout, printed(ts.code));
    expectLines((await node([tsxCli, path.join(dir, 'app.ts')], 'tsx readme/app.ts')).stdout, printed(ts.code));
  }, TSC_MS + 6 * RUN_MS);
});
