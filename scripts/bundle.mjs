// Builds the start-up bundles (npm run build runs this after tsc), each one CommonJS file:
// - dist/bundle/start.cjs: what bin/run.js (CommonJS) loads first, src/entry/bundle-loader.ts, so
//   the commands it starts never load Node's ESM loader; it loads the two below with a V8 code
//   cache that keeps them compiled between runs;
// - dist/bundle/check.cjs: `probe --host` (src/entry/check-script.ts), node: built-ins only;
// - dist/bundle/hot.cjs: gen, validate config and lint relayd (src/entry/hot.ts) with their
//   dependencies, '@oclif/core' replaced by src/cli/oclif-shim.ts, so no oclif in it;
// - dist/bundle/fleet.cjs: `fleet publish` and `fleet status` (src/entry/fleet-hot.ts), likewise;
// - dist/bundle/help.cjs: oclif (src/entry/help.ts) for --help, -h and a bare `jproxy`.
// dist/bundle/inputs.json lists every input with its hash, so a test can tell a bundle older
// than its sources; dist/bundle/hashes.json has each bundle's own hash and size.
import {createHash} from 'node:crypto'
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

/**
 * Builtins loaded on first use instead of at start: most runs of the hot commands never spawn a
 * program (child_process), read stdin (stream/consumers), hash (crypto, OpenSSL) or write a file
 * (fs/promises, which loads streams and readline), relayd's check scripts probe over plain HTTP
 * (https loads TLS and OpenSSL: 9 MB on Node 24), and each costs start-up time and RSS. Every
 * function the sources import from them becomes a wrapper that loads the module (and constructs
 * with `new`, for classes).
 */
const LAZY_BUILTINS = ['node:child_process', 'node:crypto', 'node:fs/promises', 'node:https', 'node:stream/consumers']
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    build.onResolve({filter: new RegExp(`^(${LAZY_BUILTINS.join('|')})$`)}, (args) => (args.namespace === 'lazy-builtin' ? {external: true, path: args.path} : {namespace: 'lazy-builtin', path: args.path}))
    build.onLoad({filter: /.*/, namespace: 'lazy-builtin'}, async (args) => {
      const functions = Object.entries(await import(args.path)).filter(([name, value]) => typeof value === 'function' && name !== 'default').map(([name]) => name)
      const load = `let loaded; const load = () => (loaded ??= require(${JSON.stringify(args.path)}));`
      const wrappers = functions.map((name) => `export function ${name}(...args) { return new.target ? new (load().${name})(...args) : load().${name}(...args) }`)
      return {contents: [load, ...wrappers].join('\n'), loader: 'js'}
    })
  },
}

const common = {
  absWorkingDir: root,
  // render.ts finds templates/ from its own URL; dist/bundle/ is as deep as dist/render/.
  banner: {js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;"},
  bundle: true,
  define: {'import.meta.url': '__bundleUrl'},
  format: 'cjs',
  legalComments: 'none',
  minify: true,
  keepNames: true,
  logLevel: 'warning',
  metafile: true,
  platform: 'node',
  target: 'node20',
}

const bundles = [
  {...common, entryPoints: ['src/entry/bundle-loader.ts'], outfile: 'dist/bundle/start.cjs'},
  // `probe --host`, relayd's check script when the watcher is stale: node: built-ins only. A plan
  // cache miss imports the full inventory path from dist/ (same depth, so the paths hold).
  {...common, entryPoints: ['src/entry/check-script.ts'], external: ['../inventory/load.js', '../probe/plan.js', '../probe/plan-cache-hook.js'], outfile: 'dist/bundle/check.cjs', plugins: [lazyBuiltins]},
  {...common, alias: {'@oclif/core': './src/cli/oclif-shim.ts'}, entryPoints: ['src/entry/hot.ts'], outfile: 'dist/bundle/hot.cjs', plugins: [lazyBuiltins]},
  {...common, alias: {'@oclif/core': './src/cli/oclif-shim.ts'}, entryPoints: ['src/entry/fleet-hot.ts'], outfile: 'dist/bundle/fleet.cjs', plugins: [lazyBuiltins]},
  // oclif requires typescript only to run .ts sources in development, never here.
  {...common, entryPoints: ['src/entry/help.ts'], external: ['typescript'], outfile: 'dist/bundle/help.cjs'},
]

const hash = (file) => createHash('sha256').update(readFileSync(`${root}${file}`)).digest('hex')
const record = {}
for (const options of bundles) {
  const result = await build(options)
  record[options.outfile] = {hash: hash(options.outfile), inputs: Object.fromEntries(Object.keys(result.metafile.inputs).filter((file) => !file.includes(":")).sort().map((file) => [file, hash(file)]))}
}

writeFileSync(`${root}dist/bundle/inputs.json`, `${JSON.stringify(record, null, 1)}\n`)
// Each bundle's hash and size for the code cache key (src/entry/bundle-loader.ts): hashing
// 300 KB at every start would cost more time and memory than the cache saves.
const hashes = Object.fromEntries(bundles.map(({outfile}) => [outfile.split('/').pop(), {sha256: record[outfile].hash, size: statSync(`${root}${outfile}`).size}]))
writeFileSync(`${root}dist/bundle/hashes.json`, `${JSON.stringify(hashes, null, 1)}\n`)
