import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {lstat, mkdtemp, readdir, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

type Run = {code: number; stderr: string; stdout: string}

function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, {cwd, env: {...process.env, JPROXY_INVENTORY: undefined}, timeout: timeoutMs}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr, stdout})
    })
  })
}

const ROOT = process.cwd()

describe('the npm package', function () {
  // npm install from the local cache; a cold cache goes to the registry.
  this.timeout(300_000)
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-pack-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('packs the CLI, examples, templates, JSON Schema, LICENSE, docs and contrib, and nothing from tests or benches', async () => {
    // `npm test` has built dist/ and the schema; --ignore-scripts keeps pack from rebuilding under the running suite.
    const packed = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)
    expect(packed.code, packed.stderr).to.equal(0)
    const files: string[] = JSON.parse(packed.stdout)[0].files.map((f: {path: string}) => f.path)
    for (const needed of ['LICENSE', 'README.md', 'bin/run.js', 'dist/commands/init.js', 'examples/two-shards.yaml', 'examples/single-host-vmm.yaml', 'schema/inventory.schema.json', 'templates/haproxy.cfg.mustache', 'templates/relayd.conf.mustache', 'templates/pf.conf.mustache', 'oclif.manifest.json']) {
      expect(files, needed).to.include(needed)
    }

    expect(files.filter((f) => /^(test|bench|src|\.ci)\/|\.test\.|^bin\/dev\.js$|^dbg\./.test(f))).to.deep.equal([])
  })

  it('installs from the tarball into a temp prefix without dev dependencies, and runs --version, init and gen haproxy', async () => {
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], ROOT)
    expect(packed.code, packed.stderr).to.equal(0)
    const tarball = join(dir, (await readdir(dir)).find((f) => f.endsWith('.tgz'))!)
    const prefix = join(dir, 'prefix')
    const installed = await run('npm', ['install', '--global', '--prefix', prefix, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir, 240_000)
    expect(installed.code, installed.stderr).to.equal(0)
    const modules = await readdir(join(prefix, 'lib/node_modules/jproxy/node_modules'))
    for (const dev of ['mocha', 'chai', 'typescript', 'tsx', 'oclif', 'ajv']) expect(modules, dev).to.not.include(dev)

    const jproxy = join(prefix, 'bin/jproxy')
    const version = await run(jproxy, ['--version'], dir)
    expect(version.code, version.stderr).to.equal(0)
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
    expect(version.stdout).to.match(new RegExp(`^jproxy/${pkg.version} `))

    const init = await run(jproxy, ['init', '--domain', 'meet.example.org', '--listen', '192.0.2.10', '--web', '10.0.0.2', '--prosody', '10.0.0.10', '--jvb', '10.0.0.21'], dir)
    expect(init.code, init.stderr).to.equal(0)
    const inventory = await readFile(join(dir, 'jproxy.yaml'), 'utf8')
    const schemaPath = join(prefix, 'lib/node_modules/jproxy/schema/inventory.schema.json')
    expect(inventory.split('\n')[0]).to.equal(`# yaml-language-server: $schema=${schemaPath}`)
    expect(JSON.parse(await readFile(schemaPath, 'utf8')).title).to.equal('jproxy inventory')

    const gen = await run(jproxy, ['gen', 'haproxy'], dir)
    expect(gen.code, gen.stderr).to.equal(0)
    expect(gen.stdout).to.include('backend be_web').and.include('server jvb1 10.0.0.21:9090')
  })

  it("runs the README's set-up line in a copy of the clone; jproxy still works after the copy is deleted", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
    const quickStart = readme.slice(readme.indexOf('## Quick start'))
    const setUp = /```sh\n([^\n]*?)\s+# set-up/.exec(quickStart)?.[1]
    expect(setUp, 'the Quick start block starts with the set-up line').to.be.a('string')
    const prefix = join(dir, 'readme-prefix')
    const clone = join(dir, 'clone')
    // What a clone holds: the tracked files and any not yet committed, never node_modules or dist.
    const listed = await run('sh', ['-c', `git ls-files -co --exclude-standard -z | tar --null -cf - -T - | (mkdir -p ${clone} && tar -xf - -C ${clone})`], ROOT)
    expect(listed.code, listed.stderr).to.equal(0)
    const line = setUp!.replaceAll('/usr/local', prefix)
    const installed = await new Promise<Run>((resolve) => {
      execFile('sh', ['-c', line], {cwd: clone, env: {...process.env, npm_config_prefer_offline: 'true'}, timeout: 280_000}, (error, stdout, stderr) => {
        resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr, stdout})
      })
    })
    expect(installed.code, installed.stderr).to.equal(0)
    expect((await lstat(join(prefix, 'lib/node_modules/jproxy'))).isSymbolicLink(), 'a link into the clone').to.equal(false)
    await rm(clone, {force: true, recursive: true})

    const jproxy = join(prefix, 'bin/jproxy')
    const version = await run(jproxy, ['--version'], dir)
    expect(version.code, version.stderr).to.equal(0)
    const example = join(prefix, 'lib/node_modules/jproxy/examples/two-shards.yaml')
    const gen = await run(jproxy, ['gen', 'haproxy', '-i', example], dir)
    expect(gen.code, gen.stderr).to.equal(0)
    expect(gen.stdout).to.include('backend be_web')
  })
})
