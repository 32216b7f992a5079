import {expect} from 'chai'
import {X509Certificate} from 'node:crypto'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {NAGIOS} from '../../src/report/nagios.js'
import {CLI_TIMEOUT_MS, runCli} from '../support/cli.js'
import {type Issued, TestPki} from '../support/pki.js'
import {startTlsServer, type TlsServer} from '../support/tls-server.js'

const DOMAIN = 'meet.example.test'

describe('jproxy validate tls', function () {
  this.timeout(4 * CLI_TIMEOUT_MS)
  let dir: string
  let pki: TestPki
  let valid: Issued
  let expired: Issued
  let server: TlsServer
  let goodFile: string
  let expiredFile: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-tls-cli-'))
    pki = await TestPki.create(join(dir, 'pki'))
    valid = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    expired = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`], end: '200201000000Z', start: '200101000000Z'})
    const key = await readFile(valid.key, 'utf8')
    goodFile = join(dir, 'good.pem')
    await writeFile(goodFile, valid.pem + pki.intermediate.pem + key, {mode: 0o600})
    expiredFile = join(dir, 'expired.pem')
    await writeFile(expiredFile, expired.pem + pki.intermediate.pem + (await readFile(expired.key, 'utf8')), {mode: 0o600})
    server = await startTlsServer({cert: valid.pem + pki.intermediate.pem, key})
  })
  after(async () => {
    await server?.close()
    await rm(dir, {force: true, recursive: true})
  })

  async function writeInventory(name: string, certificate: string): Promise<string> {
    const file = join(dir, `${name}.yaml`)
    await writeFile(
      file,
      stringify({
        domain: DOMAIN,
        proxy: {listen: {httpsPort: server.port, ipv4: '127.0.0.1'}, tls: {certificate, key: certificate}},
        shards: [{name: 's1', prosody: {address: '127.0.0.20'}}],
        web: [{address: '127.0.0.2', name: 'web1'}],
      }),
    )
    return file
  }

  const run = async (name: string, certificate: string, ...args: string[]) =>
    runCli(['validate', 'tls', '-i', await writeInventory(name, certificate), '--ca', pki.root.cert, ...(args.includes('--target') ? [] : ['--target', 'haproxy']), ...args])

  it('files and a live handshake: exit 0, findings worst first, then certificates and handshakes', async () => {
    const {code, stdout} = await run('good', goodFile)
    expect(code).to.equal(ExitCode.ok)
    expect(stdout).to.not.match(/^(CRITICAL|WARNING)/m)
    expect(stdout).to.include(`OK       ${goodFile}: covers ${DOMAIN}\n`)
    expect(stdout).to.include(`OK       127.0.0.1:${server.port}: chain verified against ${pki.root.cert}\n`)
    expect(stdout).to.include(`\nCertificates:\n  ${goodFile} #1 ${DOMAIN} (issuer jproxy Test Intermediate) `)
    expect(stdout).to.match(new RegExp(`\\nHandshakes \\(trusting ${pki.root.cert}\\):\\n  127\\.0\\.0\\.1:${server.port} TLSv1\\.3 TLS_\\w+ h2: ${DOMAIN.replaceAll('.', '\\.')} < jproxy Test Intermediate < jproxy Test Root\\n`))
  })

  it('a critical finding exits checkFailed; --json carries findings, certificates and handshakes', async () => {
    const human = await run('expired', expiredFile, '--no-live')
    expect(human.code).to.equal(ExitCode.checkFailed)
    expect(human.stdout.split('\n')[0]).to.equal(`CRITICAL ${expiredFile}: certificate #1 (${DOMAIN}) expired on 2020-02-01 00:00:00 UTC`)
    const json = await run('expired', expiredFile, '--json')
    expect(json.code).to.equal(ExitCode.checkFailed)
    const report = JSON.parse(json.stdout)
    expect(report.trust).to.equal(pki.root.cert)
    expect(report.findings.filter((f: {severity: string}) => f.severity === 'critical').map((f: {source: string}) => f.source)).to.deep.equal([expiredFile])
    expect(report.certificates.map((c: {position: number; source: string}) => `${c.source}#${c.position}`)).to.deep.equal([`${expiredFile}#1`, `${expiredFile}#2`, `127.0.0.1:${server.port}#1`, `127.0.0.1:${server.port}#2`])
    expect(report.handshakes[0]).to.deep.include({alpn: 'h2', outcome: 'ok', protocol: 'TLSv1.3', source: `127.0.0.1:${server.port}`})
  })

  it('--format nagios: OK with days_left perfdata, CRITICAL (2), and UNKNOWN (3) when the check cannot run', async () => {
    const ok = await run('good', goodFile, '--format', 'nagios')
    expect(ok.code).to.equal(NAGIOS.OK)
    const daysLeft = (Date.parse(new X509Certificate(valid.pem).validTo) - Date.now()) / 86_400_000
    const match = /^JPROXY TLS OK - \d+ checks passed \| 'critical'=0;;;0 'warning'=0;;;0 'days_left'=([\d.]+);20;10;;\n$/.exec(ok.stdout)
    expect(match, ok.stdout).to.not.equal(null)
    expect(Number(match![1])).to.be.closeTo(daysLeft, 0.1)

    const bad = await run('expired', expiredFile, '--format', 'nagios', '--no-live')
    expect(bad.code).to.equal(NAGIOS.CRITICAL)
    expect(bad.stdout).to.match(new RegExp(`^JPROXY TLS CRITICAL - ${expiredFile}: certificate #1 \\(meet\\.example\\.test\\) expired on 2020-02-01 00:00:00 UTC \\| 'critical'=1;;;0 'warning'=0;;;0 'days_left'=-\\d+\\.\\d;20;10;;\\n$`))

    const unknown = await runCli(['validate', 'tls', '-i', join(dir, 'missing.yaml'), '--format=nagios'])
    expect(unknown.code).to.equal(NAGIOS.UNKNOWN)
    expect(unknown.stdout).to.match(/^JPROXY UNKNOWN - .*missing\.yaml/)
  })

  it('--prom-file: each certificate\'s end of validity, the worst verdict per source, and the run time', async () => {
    const prom = join(dir, 'tls.prom')
    const {code} = await run('good', goodFile, '--prom-file', prom)
    expect(code).to.equal(ExitCode.ok)
    const text = await readFile(prom, 'utf8')
    const leaf = new X509Certificate(valid.pem)
    const notAfter = Math.round(Date.parse(leaf.validTo) / 1000)
    expect(text).to.include('# TYPE jproxy_tls_cert_not_after_seconds gauge\n')
    expect(text).to.include(`jproxy_tls_cert_not_after_seconds{position="1",serial="${leaf.serialNumber}",source="${goodFile}",subject="${DOMAIN}"} ${notAfter}\n`)
    expect(text).to.include(`jproxy_tls_cert_not_after_seconds{position="1",serial="${leaf.serialNumber}",source="127.0.0.1:${server.port}",subject="${DOMAIN}"} ${notAfter}\n`)
    expect(text).to.include(`jproxy_tls_check_status{source="${goodFile}"} 0\n`)
    expect(text).to.include(`jproxy_tls_check_status{source="127.0.0.1:${server.port}"} 0\n`)
    expect(text).to.match(/\njproxy_tls_last_run_timestamp_seconds \d{10}\n$/)
  })

  it('--target relayd checks the keypair files under --ssl-dir', async () => {
    const sslDir = join(dir, 'ssl')
    await mkdir(join(sslDir, 'private'), {recursive: true})
    await writeFile(join(sslDir, `${DOMAIN}.crt`), valid.pem + pki.intermediate.pem)
    const missingKey = await run('relayd', '/etc/unused.pem', '--target', 'relayd', '--ssl-dir', sslDir, '--no-live')
    expect(missingKey.code).to.equal(ExitCode.checkFailed)
    expect(missingKey.stdout.split('\n')[0]).to.match(new RegExp(`^CRITICAL ${join(sslDir, 'private', `${DOMAIN}.key`)}: cannot read: ENOENT`))
    await writeFile(join(sslDir, 'private', `${DOMAIN}.key`), await readFile(valid.key, 'utf8'), {mode: 0o600})
    const ok = await run('relayd', '/etc/unused.pem', '--target', 'relayd', '--ssl-dir', sslDir, '--no-live')
    expect(ok.code, ok.stdout).to.equal(ExitCode.ok)
    expect(ok.stdout).to.include(`OK       ${join(sslDir, `${DOMAIN}.crt`)}: relayd reads keypair "${DOMAIN}" from here`)
  })

  it('bad flags are usage errors and a missing --ca file is unreadable input, each named', async () => {
    const inventory = await writeInventory('good', goodFile)
    const nothing = await runCli(['validate', 'tls', '-i', inventory, '--no-files', '--no-live'])
    expect(nothing).to.deep.include({code: ExitCode.usage})
    expect(nothing.stderr).to.include('--no-files and --no-live leave nothing to check')
    const days = await runCli(['validate', 'tls', '-i', inventory, '--crit-days', '30'])
    expect(days.code).to.equal(ExitCode.usage)
    expect(days.stderr).to.include('--crit-days 30 is more than --warn-days 20')
    const connect = await runCli(['validate', 'tls', '-i', inventory, '--connect', 'proxy.example.test'])
    expect(connect.code).to.equal(ExitCode.usage)
    expect(connect.stderr).to.include('"proxy.example.test" must be an IP address')
    const json = await runCli(['validate', 'tls', '-i', inventory, '--connect', '10.0.0.1:99999', '--json'])
    expect(json.code, 'a flag parser\'s failure keeps its code under --json').to.equal(ExitCode.usage)
    const ca = await runCli(['validate', 'tls', '-i', inventory, '--ca', join(dir, 'no-ca.pem')])
    expect(ca.code).to.equal(ExitCode.inputUnreadable)
    expect(ca.stderr).to.include(`CA file ${join(dir, 'no-ca.pem')}: ENOENT`)
  })
})
