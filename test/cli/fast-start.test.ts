import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {once} from 'node:events'
import {chmod, mkdtemp, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {loadWithCodeCache} from '../../src/entry/bundle-loader.js'
import {BIN, runProgram} from '../support/cli.js'
import {freePorts} from '../support/loopback-backends.js'

// Preloaded: says on stderr, at exit, whether oclif was loaded from node_modules.
const REPORT_OCLIF = "process.on('exit', () => process.stderr.write(`\\nOCLIF ${Object.keys(require.cache).some((k) => k.includes('/node_modules/@oclif/core/'))}\\n`))"

interface Run {
  code: number
  oclif: boolean
  stderr: string
  stdout: string
}

/** bin/run.js with `args`, through the bundles or (JPROXY_NO_BUNDLE) through oclif alone. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<Run> {
  const {code, stderr, stdout} = await runProgram(process.execPath, ['--require', preload, BIN, ...args], {
    env: {...process.env, JPROXY_INVENTORY: undefined, JPROXY_NO_BUNDLE: undefined, ...env},
    input,
    timeoutMs: 30_000,
  })
  const oclif = /\nOCLIF (true|false)\n$/.exec(stderr)
  return {code, oclif: oclif?.[1] === 'true', stderr: stderr.slice(0, oclif?.index), stdout}
}

let preload: string
let dir: string

describe('start-up: bundles and the oclif-free path', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-fast-'))
    preload = join(dir, 'report-oclif.cjs')
    await writeFile(preload, REPORT_OCLIF)
    const example = await readFile('examples/two-shards.yaml', 'utf8')
    await writeFile(join(dir, 'bad-address.yaml'), example.replace(/address: \S+/, 'address: "not an address!"'))
    await writeFile(join(dir, 'broken.yaml'), 'domain: [unclosed\n')
    // A fleet whose etcd is a loopback port nothing listens on: the fleet commands' error path, at once.
    const [dead] = await freePorts(1)
    const fleet = `fleet:\n  etcd:\n    endpoints: [http://127.0.0.1:${dead}]\n  proxies:\n    - name: local\n`
    await writeFile(join(dir, 'fleet.yaml'), `${example}\n${fleet}`)
    const relayd = await run(['gen', 'relayd', '-i', 'examples/two-shards.yaml'])
    await writeFile(join(dir, 'relayd.conf'), relayd.stdout)
    await writeFile(join(dir, 'bad-relayd.conf'), `${relayd.stdout}\nrelay broken {\n`)
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  // Each case runs both ways; the bundle must print, write and exit exactly as oclif does.
  const cases: Array<{args: () => string[]; env?: NodeJS.ProcessEnv; input?: string; oclif: boolean; title: string}> = [
    {args: () => ['gen', 'haproxy', '-i', 'examples/two-shards.yaml'], oclif: false, title: 'gen haproxy -i FILE'},
    {args: () => ['gen', 'haproxy', '--inventory=examples/two-shards.yaml'], oclif: false, title: 'gen haproxy --inventory=FILE'},
    {args: () => ['gen', 'haproxy', '-iexamples/two-shards.yaml'], oclif: false, title: 'gen haproxy -iFILE'},
    {args: () => ['gen', 'relayd'], env: {JPROXY_INVENTORY: 'examples/single-host-vmm.yaml'}, oclif: false, title: 'gen relayd from JPROXY_INVENTORY'},
    {args: () => ['gen', 'pf', '-i', 'examples/single-host-vmm.yaml'], oclif: false, title: 'gen pf'},
    {args: () => ['gen', 'haproxy', '-i', join(dir, 'missing.yaml')], oclif: false, title: 'gen haproxy, inventory missing'},
    {args: () => ['gen', 'haproxy', '-i', join(dir, 'bad-address.yaml')], oclif: false, title: 'gen haproxy, inventory invalid'},
    {args: () => ['gen', 'relayd', '-i', join(dir, 'broken.yaml')], oclif: false, title: 'gen relayd, YAML broken'},
    {args: () => ['validate', 'config', '-i', 'examples/two-shards.yaml'], oclif: false, title: 'validate config'},
    {args: () => ['validate', 'config', '-i', join(dir, 'bad-address.yaml')], oclif: false, title: 'validate config, invalid'},
    {args: () => ['lint', 'relayd', join(dir, 'relayd.conf')], oclif: false, title: 'lint relayd FILE'},
    {args: () => ['lint', 'relayd', '--strict', '--no-native', join(dir, 'bad-relayd.conf')], oclif: false, title: 'lint relayd --strict --no-native, errors'},
    {args: () => ['lint', 'relayd', '-'], input: 'relay x {\n', oclif: false, title: 'lint relayd - (stdin)'},
    {args: () => ['--version'], oclif: false, title: '--version'},
    {args: () => ['fleet', 'status', '-i', join(dir, 'fleet.yaml')], oclif: false, title: 'fleet status, etcd unreachable'},
    {args: () => ['fleet', 'status', '-i', join(dir, 'fleet.yaml'), '--json'], oclif: false, title: 'fleet status --json, etcd unreachable'},
    {args: () => ['fleet', 'publish', '-i', 'examples/two-shards.yaml'], oclif: false, title: 'fleet publish, no fleet section'},
    {args: () => ['fleet', 'publish', '-i', join(dir, 'fleet.yaml'), '--timeout', '1s'], oclif: true, title: 'fleet publish --timeout, an alias (oclif)'},
    {args: () => ['fleet', 'agent', '-i', join(dir, 'fleet.yaml')], oclif: true, title: 'fleet agent, the service (oclif)'},
    {args: () => ['gen', 'haproxy', '-i', 'examples/two-shards.yaml', '--json'], oclif: false, title: 'gen haproxy --json (into a pipe)'},
    {args: () => ['validate', 'config', '-i', join(dir, 'bad-address.yaml'), '--json'], oclif: false, title: 'validate config --json, invalid'},
    {args: () => ['gen', 'relayd', '-i', join(dir, 'missing.yaml'), '--json'], oclif: false, title: 'gen relayd --json, inventory missing (the error object)'},
    {args: () => ['probe', '-i', 'examples/two-shards.yaml', '--no-state', '--id', 'nosuch'], oclif: false, title: 'probe, nothing matches'},
    {args: () => ['probe', '-i', 'examples/two-shards.yaml', '--no-state', '--id', 'nosuch', '--json'], oclif: false, title: 'probe --json, nothing matches'},
    {args: () => ['probe', '-i', join(dir, 'missing.yaml'), '--format', 'nagios'], oclif: false, title: 'probe --format nagios, inventory missing (UNKNOWN)'},
    {args: () => ['probe', '--watch', '--role', 'web'], oclif: true, title: 'probe --watch with a flag it excludes (oclif)'},
    {args: () => ['gen', 'haproxy', '--bogus'], oclif: true, title: 'an unknown flag (oclif)'},
    {args: () => ['gen', 'haproxy', '-i', 'a.yaml', '-i', 'b.yaml'], oclif: true, title: 'a repeated flag (oclif)'},
    {args: () => ['gen', 'haproxy', 'extra'], oclif: true, title: 'an unexpected argument (oclif)'},
    {args: () => ['lint', 'relayd', '--strict=yes'], oclif: true, title: 'a value on a boolean flag (oclif)'},
    {args: () => ['gen', 'hapx'], oclif: true, title: 'a mistyped command (oclif)'},
    {args: () => ['gen', 'haproxy', '-i', 'examples/two-shards.yaml'], env: {JPROXY_CONTENT_TYPE: 'json'}, oclif: true, title: 'JPROXY_CONTENT_TYPE=json (oclif)'},
  ]
  for (const {args, env, input, oclif, title} of cases) {
    it(`${title}: same output and exit code as oclif, ${oclif ? 'through' : 'without'} oclif`, async () => {
      const fast = await run(args(), env, input)
      const reference = await run(args(), {...env, JPROXY_NO_BUNDLE: '1'}, input)
      expect(reference.oclif).to.equal(true)
      expect(fast.oclif).to.equal(oclif)
      expect({code: fast.code, stderr: fast.stderr, stdout: fast.stdout}).to.deep.equal({code: reference.code, stderr: reference.stderr, stdout: reference.stdout})
    })
  }

  it('probe --json: the same report as oclif, timings aside, without oclif', async () => {
    // One loopback server per web node (a rule refuses two nodes at one address:port).
    const servers = [createServer((_request, response) => response.end('ok')), createServer((_request, response) => response.end('ok'))]
    await Promise.all(servers.map((server) => once(server.listen(0, '127.0.0.1'), 'listening')))
    try {
      const ports = servers.map((server) => (server.address() as AddressInfo).port)
      const example = await readFile('examples/two-shards.yaml', 'utf8')
      const inventory = join(dir, 'probe-web.yaml')
      await writeFile(inventory, example.replace(/address: 10\.10\.1\.1([12])/g, (_match, n: string) => `address: 127.0.0.1\n    port: ${ports[Number(n) - 1]}`))
      const args = ['probe', '-i', inventory, '--role', 'web', '--no-state', '--json']
      const [fast, reference] = [await run(args), await run(args, {JPROXY_NO_BUNDLE: '1'})]
      expect([fast.oclif, reference.oclif]).to.deep.equal([false, true])
      const report = (text: string) => JSON.parse(text, (key, value) => (key.endsWith('Ms') || key === 'startedAt' ? 0 : value)) as {backends: Array<{state: string}>}
      expect(report(fast.stdout).backends.map((b) => b.state)).to.deep.equal(['up', 'up'])
      expect({code: fast.code, report: report(fast.stdout), stderr: fast.stderr}).to.deep.equal({code: reference.code, report: report(reference.stdout), stderr: reference.stderr})
    } finally {
      for (const server of servers) server.close()
    }
  })

  it('an installed jproxy (a symlink to bin/run.js, as npm link makes) takes the same oclif-free path', async () => {
    const link = join(dir, 'jproxy')
    await symlink(BIN, link)
    const result = await new Promise<Run>((resolve) => {
      execFile(process.execPath, ['--require', preload, link, 'gen', 'relayd', '-i', 'examples/single-host-vmm.yaml'], (error, stdout, stderr) => {
        resolve({code: error ? 1 : 0, oclif: stderr.includes('OCLIF true'), stderr, stdout})
      })
    })
    expect(result.code).to.equal(0)
    expect(result.oclif).to.equal(false)
    expect(result.stdout).to.equal(await readFile('test/fixtures/golden/single-host-vmm.relayd.conf', 'utf8'))
  })

  it('gen --out writes the same file as oclif does', async () => {
    const [fast, slow] = [join(dir, 'fast.cfg'), join(dir, 'slow.cfg')]
    expect((await run(['gen', 'haproxy', '-i', 'examples/two-shards.yaml', '-o', fast])).code).to.equal(0)
    expect((await run(['gen', 'haproxy', '-i', 'examples/two-shards.yaml', '-o', slow], {JPROXY_NO_BUNDLE: '1'})).code).to.equal(0)
    expect(await readFile(fast, 'utf8')).to.equal(await readFile(slow, 'utf8'))
  })

  for (const args of [['--help'], ['-h'], [], ['gen', '--help'], ['gen', 'haproxy', '-h'], ['lint', 'relayd', '--help']]) {
    it(`help for \`${args.join(' ')}\` is oclif's, from the help bundle`, async () => {
      const fast = await run(args)
      const reference = await run(args, {JPROXY_NO_BUNDLE: '1'})
      expect(fast.oclif).to.equal(false)
      expect(fast.stdout).to.include('USAGE')
      expect({code: fast.code, stdout: fast.stdout}).to.deep.equal({code: reference.code, stdout: reference.stdout})
    })
  }

  it('the bundles are as new as every source they hold (npm run build makes them)', async () => {
    const record = JSON.parse(await readFile('dist/bundle/inputs.json', 'utf8')) as Record<string, {hash: string; inputs: Record<string, string>}>
    const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex')
    // The bundles' code cache is keyed by the hash and size hashes.json records for each bundle.
    const recorded = JSON.parse(await readFile('dist/bundle/hashes.json', 'utf8')) as Record<string, {sha256: string; size: number}>
    const entries: Record<string, string[]> = {
      'dist/bundle/check.cjs': ['src/entry/check-script.ts'],
      'dist/bundle/fleet.cjs': ['src/entry/fleet-hot.ts', 'src/etcd/client.ts'],
      'dist/bundle/help.cjs': ['src/entry/help.ts'],
      'dist/bundle/hot.cjs': ['src/entry/hot.ts', 'src/inventory/schema.ts'],
      'dist/bundle/start.cjs': ['src/entry/bundle-loader.ts'],
    }
    expect(Object.keys(record)).to.have.members(Object.keys(entries))
    for (const [bundle, {hash, inputs}] of Object.entries(record)) {
      expect(await sha256(bundle), bundle).to.equal(hash)
      expect(recorded[basename(bundle)], bundle).to.deep.equal({sha256: hash, size: (await stat(bundle)).size})
      expect(Object.keys(inputs)).to.include.members(entries[bundle])
      for (const [file, fileHash] of Object.entries(inputs)) expect(await sha256(file), `${file} changed after ${bundle} was built`).to.equal(fileHash)
    }
  })
})

describe('start-up: the V8 code cache of the bundles', () => {
  let cacheDir: string
  let file: string
  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'jproxy-code-cache-'))
    file = join(cacheDir, 'module.cjs')
    await writeFile(file, 'exports.answer = () => 42\n')
  })
  afterEach(async () => {
    await rm(cacheDir, {force: true, recursive: true})
  })

  it('writes the cache after the first load and uses it on the next', () => {
    const first = loadWithCodeCache(file, join(cacheDir, 'cache'))
    expect((first.exports as {answer(): number}).answer()).to.equal(42)
    expect(first.cacheRejected).to.equal(undefined)
    expect(first.saveCache()).to.equal(true)
    const second = loadWithCodeCache(file, join(cacheDir, 'cache'))
    expect(second.cacheRejected).to.equal(false)
    expect(second.saveCache()).to.equal(false)
  })

  it('an edited file of the same length gets a cache of its own, not the old one', async () => {
    loadWithCodeCache(file, join(cacheDir, 'cache')).saveCache()
    await writeFile(file, 'exports.answer = () => 43\n')
    const edited = loadWithCodeCache(file, join(cacheDir, 'cache'))
    expect((edited.exports as {answer(): number}).answer()).to.equal(43)
    expect(edited.cacheRejected).to.equal(undefined)
  })

  it('does not use a cache folder others can write to', async () => {
    const shared = join(cacheDir, 'shared')
    loadWithCodeCache(file, shared)
    await chmod(shared, 0o777)
    const loaded = loadWithCodeCache(file, shared)
    expect(loaded.saveCache()).to.equal(false)
    expect((loaded.exports as {answer(): number}).answer()).to.equal(42)
  })
})
