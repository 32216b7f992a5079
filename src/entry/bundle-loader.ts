import {existsSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import module from 'node:module'
import {arch, platform, release, tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {appliedV8Flags, tuneForShortRun} from '../cli/short-run.js'
import {stringHash} from '../system/string-hash.js'

const BUNDLES = new URL('../bundle/', import.meta.url)
/** The start-up bundles npm run build makes (scripts/bundle.mjs): the hot commands, and oclif for help. */
export const HOT_BUNDLE = fileURLToPath(new URL('hot.cjs', BUNDLES))
/** The fleet commands cron and deploy scripts run (src/entry/fleet-hot.ts). */
export const FLEET_BUNDLE = fileURLToPath(new URL('fleet.cjs', BUNDLES))
const FLEET_HOT = new Set(['publish', 'status'])
export const HELP_BUNDLE = fileURLToPath(new URL('help.cjs', BUNDLES))
/** The package root: where oclif reads package.json and the manifest (bin/ has a package.json of its own). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PACKAGE = new URL('../../package.json', import.meta.url)
/** First words of the commands in the hot bundle; anything else goes straight to oclif. */
const HOT_TOPICS = new Set(['gen', 'lint', 'probe', 'validate'])
const HELP_FLAGS = new Set(['--help', '-h'])

interface HotBundle {
  runHot(argv: string[]): Promise<boolean>
}

interface HelpBundle {
  runHelp(argv: string[], root: string): Promise<boolean>
}

/**
 * Starts what can start without loading oclif from node_modules: `--version`, help (oclif from
 * the help bundle) and the hot commands (the hot bundle); false, having done nothing, for the
 * rest, which bin/run.js gives to oclif. JPROXY_NO_BUNDLE=1 sends everything to oclif (the
 * tests compare both paths).
 */
export async function runFast(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.JPROXY_NO_BUNDLE) return false
  if (argv.length === 1 && argv[0] === '--version') return printVersion()
  // oclif shows help for no arguments and for a help flag anywhere before `--`.
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length
  if (argv.length === 0 || argv.slice(0, end).some((a) => HELP_FLAGS.has(a))) {
    return runBundle<HelpBundle>(HELP_BUNDLE, (help) => help.runHelp(argv, ROOT))
  }

  if (argv[0] === 'fleet' && FLEET_HOT.has(argv[1])) {
    tuneForShortRun(argv, env)
    return runBundle<HotBundle>(FLEET_BUNDLE, (fleet) => fleet.runHot(argv))
  }

  if (!HOT_TOPICS.has(argv[0])) return false
  // Every hot command is a short run but `probe --watch`, the service, which keeps V8's optimizers.
  if (!(argv[0] === 'probe' && argv.includes('--watch'))) tuneForShortRun(argv, env)
  return runBundle<HotBundle>(HOT_BUNDLE, (hot) => hot.runHot(argv))
}

/** oclif's `--version` line (config.userAgent); on WSL, where oclif says "wsl", oclif prints it. */
function printVersion(): boolean {
  if (release().toLowerCase().includes('microsoft')) return false
  const {name, version} = JSON.parse(readFileSync(PACKAGE, 'utf8')) as {name: string; version?: string}
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  process.stdout.write(`${name}/${version ?? '0.0.0'} ${platform()}-${cpu} node-${process.version}\n`)
  return true
}

/**
 * Loads a bundle and runs `use` on its exports. The bundle is compiled with vm.Script and V8's
 * code cache is kept in a file named by the bundle's hash and V8's version and flags, written
 * after the run so that it holds every function the command compiled. Node 22+'s own compile
 * cache (which bin/run.js enables for everything else) is written before a module runs: it holds
 * a tenth of that, and help then starts 10% slower. NODE_DISABLE_COMPILE_CACHE turns both off.
 */
export async function runBundle<T>(bundle: string, use: (exports: T) => Promise<boolean>, cacheDir = codeCacheDir()): Promise<boolean> {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: \`npm run build\` makes it`)
  if (process.env.NODE_DISABLE_COMPILE_CACHE) {
    return use(module.createRequire(import.meta.url)(bundle) as T)
  }

  const loaded = loadWithCodeCache(bundle, cacheDir)
  const handled = await use(loaded.exports as T)
  loaded.saveCache()
  return handled
}

/** The folder for the bundles' code cache: NODE_COMPILE_CACHE as Node 22+ reads it, else one per user in the temp folder. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NODE_COMPILE_CACHE ?? join(tmpdir(), `jproxy-compile-cache-${process.getuid?.() ?? 'user'}`)
}

/**
 * Compiles a CommonJS file with V8's code cache from `cacheDir` when one matches, and runs it.
 * saveCache() writes the cache (after the run, so the functions it compiled are in it) when
 * there was none or V8 refused it; a folder another user owns or can write to is not used.
 */
export function loadWithCodeCache(file: string, cacheDir: string): {cacheRejected?: boolean; exports: unknown; saveCache(): boolean} {
  const source = readFileSync(file, 'utf8')
  const vm = module.createRequire(import.meta.url)('node:vm') as typeof import('node:vm')
  // What V8's cache depends on: its version and flags (tuneForShortRun's too); V8 refuses a cache made under others.
  const flags = [...process.execArgv, ...appliedV8Flags()].join(' ')
  const key = stringHash(`${sourceHash(file, source)}\0${process.version}\0${process.arch}\0${flags}`)
  const cacheFile = join(cacheDir, `${key}.v8cache`)
  const usable = privateFolder(cacheDir)
  let cachedData: Buffer | undefined
  try {
    cachedData = usable ? readFileSync(cacheFile) : undefined
  } catch {}

  const script = new vm.Script(module.wrap(source), {cachedData, filename: file})
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  const exported = {exports: {}}
  wrapper.call(exported.exports, exported.exports, module.createRequire(file), exported, file, dirname(file))
  return {
    cacheRejected: cachedData === undefined ? undefined : script.cachedDataRejected,
    exports: exported.exports,
    saveCache() {
      if (!usable || (cachedData !== undefined && !script.cachedDataRejected)) return false
      try {
        const temp = `${cacheFile}.${process.pid}`
        writeFileSync(temp, script.createCachedData(), {mode: 0o600})
        renameSync(temp, cacheFile)
        return true
      } catch {
        return false // a cache is an optimisation: never a reason to fail the command
      }
    },
  }
}

/**
 * The hash of a bundle's source as the build recorded it (hashes.json beside it, matched by name
 * and size), else of the source itself: hashing 300 KB in JavaScript at every start costs
 * megabytes of compiler memory, and node:crypto as much again.
 */
function sourceHash(file: string, source: string): string {
  try {
    const recorded = (JSON.parse(readFileSync(join(dirname(file), 'hashes.json'), 'utf8')) as Record<string, {sha256: string; size: number}>)[basename(file)]
    if (recorded?.size === Buffer.byteLength(source)) return recorded.sha256
  } catch {}

  return stringHash(source)
}

/** True when `dir` exists or could be made, is a real folder, ours, and nobody else can write to it. */
function privateFolder(dir: string): boolean {
  try {
    mkdirSync(dir, {mode: 0o700, recursive: true})
    const stat = lstatSync(dir)
    return stat.isDirectory() && (process.getuid === undefined || stat.uid === process.getuid()) && (stat.mode & 0o022) === 0
  } catch {
    return false
  }
}
