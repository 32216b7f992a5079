import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parse, parseDocument} from 'yaml'

import {BIN} from '../support/cli.js'
import {unattendedCommands} from '../support/docs-values.js'
import {freePorts} from '../support/loopback-backends.js'
import {TestPki} from '../support/pki.js'
import {DOMAIN, type Stage, startStage} from '../support/haproxy-stage.js'
import {startUnbound, type UnboundProcess} from '../support/unbound-process.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const INSTALLED = '/usr/local/bin/jproxy'

/** The fenced block that follows `marker` in a Markdown text, as lines. */
function blockAfter(text: string, marker: string): string[] {
  const rest = text.slice(text.indexOf(marker) + marker.length)
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(rest)
  if (!match) throw new Error(`no code block after ${marker}`)
  return match[1].trim().split('\n')
}

function sh(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{code: number; output: string}> {
  return new Promise((resolve) => {
    execFile('sh', ['-ec', script], {cwd, env: {...process.env, JPROXY_INVENTORY: undefined, ...env}, timeout: 120_000}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}`})
    })
  })
}

/**
 * The README's five-minute walkthrough, its crontab line and the contrib units' commands, run as
 * written against a real HAProxy with backends on loopback. Only where things live differs: the
 * installed binary is this build, and /etc/jproxy, the node_exporter folder and /tmp are the
 * test's folders. After `init`, the test points the inventory at the loopback deployment, as the
 * walkthrough tells the admin to fill in real addresses.
 */
describe('README walkthrough and contrib/, run against loopback daemons', function () {
  this.timeout(600_000)
  let dir: string
  let stage: Stage
  let unbound: UnboundProcess
  let paths: Record<string, string>
  let resolvers: Record<string, string>
  let env: NodeJS.ProcessEnv

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-walkthrough-'))
    stage = await startStage(await mkdir(join(dir, 'stage'), {recursive: true}).then(() => join(dir, 'stage')))
    // A certificate from a private CA, valid 90 days, served once apply reloads HAProxy.
    const pki = await TestPki.create(join(dir, 'pki'))
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    await writeFile(stage.pem, leaf.pem + pki.intermediate.pem + (await readFile(leaf.key, 'utf8')))
    await chmod(stage.pem, 0o600)
    const [dnsPort] = await freePorts(1)
    unbound = await startUnbound(dir, 'resolver', dnsPort, {server: [`local-zone: "${DOMAIN}." static`, `local-data: "${DOMAIN}. 300 IN A 127.0.0.1"`]})
    paths = {'/etc/jproxy': join(dir, 'etc-jproxy'), '/tmp/haproxy.cfg': join(dir, 'gen-haproxy.cfg'), '/var/lib/prometheus/node-exporter': join(dir, 'node-exporter'), [INSTALLED]: BIN}
    await mkdir(paths['/var/lib/prometheus/node-exporter'])
    // The walkthrough's resolvers, internal and public, are the loopback unbound.
    resolvers = {'10.0.0.53': `127.0.0.1:${unbound.port}`, '9.9.9.9': `127.0.0.1:${unbound.port}`}
    // The private CA is trusted the way an admin would: OpenSSL's SSL_CERT_FILE and node's NODE_EXTRA_CA_CERTS.
    env = {NODE_EXTRA_CA_CERTS: pki.root.cert, SSL_CERT_FILE: pki.root.cert}
  })
  after(async () => {
    await unbound?.stop()
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  const place = (line: string) =>
    Object.entries({...paths, ...resolvers}).reduce((text, [from, to]) => text.replaceAll(from, to), line)

  /** What the admin does after init: the loopback deployment's addresses, ports and files (not the resolvers). */
  async function pointAtLoopback(file: string): Promise<void> {
    const document = parseDocument(await readFile(file, 'utf8'))
    const port = (name: string) => stage.backends.get(name)!.port
    const {data} = stage
    document.setIn(['proxy', 'listen'], data.proxy.listen)
    document.setIn(['proxy', 'tls'], data.proxy.tls)
    document.setIn(['web', 0, 'address'], '127.0.0.1')
    document.setIn(['web', 0, 'port'], port('web1'))
    document.setIn(['shards', 0, 'prosody'], {address: '127.0.0.1', port: port('prosody1')})
    document.setIn(['shards', 0, 'jicofo'], {port: port('jicofo1')})
    document.setIn(['shards', 0, 'jvbs', 0, 'address'], '127.0.0.1')
    document.setIn(['shards', 0, 'jvbs', 0, 'colibriPort'], port('jvb1-colibri'))
    document.setIn(['shards', 0, 'jvbs', 0, 'restPort'], port('jvb1-rest'))
    for (const key of ['apply', 'health', 'probe', 'targets']) document.set(key, data[key])
    await writeFile(file, document.toString())
  }

  it('runs every walkthrough command as written, and each succeeds', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
    const commands = blockAfter(readme, '<!-- walkthrough -->')
    const programs = commands.map((c) => c.split(' ')[0])
    expect(programs.filter((p) => p.endsWith('jproxy')).length).to.be.above(5)
    expect(programs.filter((p) => p.endsWith('jproxy')).every((p) => p === INSTALLED)).to.equal(true)
    expect(commands.some((c) => c.includes('npx'))).to.equal(false)
    // The resolvers go into the inventory before `validate dns` asks them.
    const addsDns = commands.findIndex((c) => /^printf 'dns:.*' >> jproxy\.yaml$/.test(c))
    expect(addsDns, 'a step adding dns resolvers').to.be.above(-1)
    expect(addsDns).to.be.below(commands.findIndex((c) => c.endsWith(' validate dns')))
    let cwd = dir
    for (const command of commands) {
      const run = await sh(place(command), cwd, env)
      expect(run.code, `${command}\n${run.output}`).to.equal(0)
      const cd = /\bcd (\S+)$/.exec(command)
      if (cd) cwd = place(cd[1])
      if (/ init /.test(command)) await pointAtLoopback(join(cwd, 'jproxy.yaml'))
    }

    const {dns} = parse(await readFile(join(cwd, 'jproxy.yaml'), 'utf8'))
    expect(dns).to.deep.equal({internal: [resolvers['10.0.0.53']], public: [resolvers['9.9.9.9']]})
    expect(await readFile(stage.live, 'utf8')).to.include('server jvb1 127.0.0.1:')
    expect(await readFile(paths['/tmp/haproxy.cfg'], 'utf8')).to.equal(await readFile(stage.live, 'utf8'))
  })

  it('runs the README crontab line: quiet when all is up, and it writes the metrics', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
    const cron = blockAfter(readme, 'A root crontab line').find((l) => !l.startsWith('#'))!
    const fields = cron.split(/\s+/)
    expect(fields.slice(0, 5).every((f) => /^[\d*/,-]+$/.test(f))).to.equal(true)
    const run = await sh(place(fields.slice(5).join(' ')), dir, env)
    expect(run, run.output).to.deep.equal({code: 0, output: ''})
    const metrics = await readFile(join(paths['/var/lib/prometheus/node-exporter'], 'jproxy.prom'), 'utf8')
    expect(metrics).to.match(/^jproxy_backend_up\{.*role="web".*\} 1$/m)
  })

  it('runs every other docs/ cron line calling the installed jproxy: each succeeds, silent while all is well', async () => {
    const pages = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)
    const lines: Array<{command: string; page: string}> = []
    // docs/fleet.md's lines need a fleet and its etcd: test/docs/fleet-doc.test.ts runs them.
    for (const page of pages.filter((p) => p !== 'docs/fleet.md')) {
      const text = await readFile(join(ROOT, page), 'utf8')
      for (const {command} of unattendedCommands(page, text)) {
        if (command.startsWith(`${INSTALLED} `)) lines.push({command, page})
      }
    }

    expect(lines.map((l) => l.page)).to.include.members(['docs/apply.md', 'docs/probing.md', 'docs/tls.md'])
    const metrics = paths['/var/lib/prometheus/node-exporter']
    await rm(metrics, {force: true, recursive: true})
    await mkdir(metrics)
    for (const {command, page} of lines) {
      const run = await sh(place(command), dir, env)
      expect(run, `${page}: ${command}\n${run.output}`).to.deep.equal({code: 0, output: ''})
    }

    expect((await readdir(metrics)).sort()).to.include.members(['jproxy.prom', 'jproxy_tls.prom'])
  })

  it('the systemd units pass systemd-analyze verify, and each ExecStart succeeds as written', async () => {
    const unitsDir = join(ROOT, 'contrib/systemd')
    const units = (await readdir(unitsDir)).filter((f) => /^jproxy-check-.*\.(service|timer)$/.test(f))
    expect(units).to.include.members(['jproxy-check-backends.service', 'jproxy-check-backends.timer', 'jproxy-check-tls.service', 'jproxy-check-tls.timer'])
    const copies = join(dir, 'units')
    await mkdir(copies)
    for (const unit of units) await writeFile(join(copies, unit), place(await readFile(join(unitsDir, unit), 'utf8')))
    const verify = await sh(`systemd-analyze verify ${units.map((u) => join(copies, u)).join(' ')}`, dir, {})
    expect(verify, verify.output).to.deep.equal({code: 0, output: ''})

    for (const unit of units.filter((u) => u.endsWith('.service'))) {
      const exec = /^ExecStart=(.*)$/m.exec(await readFile(join(copies, unit), 'utf8'))![1]
      const run = await sh(exec, dir, env)
      expect(run.code, `${unit}: ${exec}\n${run.output}`).to.equal(0)
    }

    expect((await stat(join(paths['/var/lib/prometheus/node-exporter'], 'jproxy_tls.prom'))).size).to.be.above(0)
  })

  it('the OpenBSD crontab has five schedule fields and the installed binary on every line', async () => {
    const lines = (await readFile(join(ROOT, 'contrib/openbsd/crontab'), 'utf8')).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))
    expect(lines).to.have.length.above(0)
    for (const line of lines) {
      const fields = line.split(/\s+/)
      expect(fields.slice(0, 5).every((f) => /^[\d*/,-]+$/.test(f)), line).to.equal(true)
      expect(fields[5], line).to.equal(INSTALLED)
    }
  })
})
