import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {resolveChain} from '../../src/dns/chain.js'
import {queryDns, type Resolver} from '../../src/dns/client.js'
import {validateDns} from '../../src/dns/validate.js'
import {ExitCode} from '../../src/errors.js'
import {Inventory} from '../../src/inventory/schema.js'
import {NAGIOS} from '../../src/report/nagios.js'
import {runCli} from '../support/cli.js'
import {freePorts} from '../support/loopback-backends.js'
import {startSilentUdp} from '../support/silent-udp.js'
import {startUnbound, type UnboundProcess} from '../support/unbound-process.js'

const SOA = (zone: string) => `local-data: "${zone}. 3600 IN SOA ns.${zone}. admin.${zone}. 1 3600 600 86400 120"`

/** What clients see: the public view of meet.test. */
const PUBLIC_ZONE = [
  'local-zone: "meet.test." static',
  SOA('meet.test'),
  'local-data: "meet.test. 300 IN A 127.0.0.10"',
  'local-data: "two.meet.test. 60 IN A 127.0.0.11"',
  'local-data: "two.meet.test. 60 IN A 127.0.0.12"',
  'local-data: "v6.meet.test. 60 IN AAAA ::1"',
  'local-data: "txt.meet.test. 60 IN TXT \\"no address here\\""',
  'local-data: "c1.meet.test. 30 IN CNAME c2.meet.test."',
  'local-data: "c2.meet.test. 40 IN CNAME c3.meet.test."',
  'local-data: "c3.meet.test. 50 IN A 127.0.0.13"',
  'local-data: "l1.meet.test. 60 IN CNAME l2.meet.test."',
  'local-data: "l2.meet.test. 60 IN CNAME l1.meet.test."',
  'local-data: "d1.meet.test. 60 IN CNAME gone.meet.test."',
  'local-data: "conference.meet.test. 60 IN A 127.0.0.10"',
  // 60 A records: more than a 512-byte UDP answer holds, so it comes back truncated.
  ...Array.from({length: 60}, (_, i) => `local-data: "big.meet.test. 60 IN A 127.0.1.${i + 1}"`),
  'local-zone: "refused.test." always_refuse',
]

/** What the proxy and the bridges see: the internal view, with a different answer for one name. */
const INTERNAL_ZONE = [
  'local-zone: "meet.test." static',
  SOA('meet.test'),
  'local-data: "meet.test. 300 IN A 10.0.0.10"',
  'local-data: "prosody.meet.test. 60 IN A 127.0.0.20"',
  'local-data: "jvb1.meet.test. 60 IN A 127.0.0.21"',
  'local-data: "jvb9.meet.test. 60 IN A 127.0.0.29"',
  'local-data: "_jvb._tcp.meet.test. 60 IN SRV 0 0 8080 jvb1.meet.test."',
  'local-data: "_jvb._tcp.meet.test. 60 IN SRV 0 0 8080 jvb9.meet.test."',
]

describe('DNS: real unbound on loopback', function () {
  this.timeout(30_000)
  let dir: string
  let publicDns: UnboundProcess
  let internalDns: UnboundProcess
  let otherInternal: UnboundProcess
  let pub: Resolver
  let internal: Resolver
  let closedPort: number

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-dns-'))
    const [a, b, c, closed] = await freePorts(4)
    closedPort = closed
    publicDns = await startUnbound(dir, 'public', a, {server: PUBLIC_ZONE, stubs: [{addr: `127.0.0.1@${closedPort}`, name: 'broken.lan.'}]})
    internalDns = await startUnbound(dir, 'internal', b, {server: INTERNAL_ZONE})
    // A second internal resolver that has prosody elsewhere: a split the report must show.
    otherInternal = await startUnbound(dir, 'internal2', c, {server: INTERNAL_ZONE.map((l) => l.replace('127.0.0.20', '127.0.0.99'))})
    pub = {address: '127.0.0.1', port: a}
    internal = {address: '127.0.0.1', port: b}
  })
  after(async () => {
    await Promise.all([publicDns?.stop(), internalDns?.stop(), otherInternal?.stop()])
    await rm(dir, {force: true, recursive: true})
  })

  const ask = (name: string, type: 'A' | 'AAAA' | 'SRV', resolver = pub) => queryDns(resolver, name, type, {retries: 1, timeoutMs: 2000})

  describe('lookups are classified by rcode', () => {
    it('answer, with records and TTLs', async () => {
      const one = await ask('meet.test', 'A')
      expect(one).to.deep.include({outcome: 'answer', rcode: 'NOERROR', transport: 'udp'})
      expect(one.records).to.deep.equal([{data: '127.0.0.10', name: 'meet.test', ttl: 300, type: 'A'}])
      expect((await ask('two.meet.test', 'A')).records.map((r) => r.data).sort()).to.deep.equal(['127.0.0.11', '127.0.0.12'])
      expect((await ask('v6.meet.test', 'AAAA')).records[0].data).to.equal('::1')
    })

    it('NODATA and NXDOMAIN, with the negative-caching TTL from the SOA', async () => {
      expect(await ask('txt.meet.test', 'A')).to.deep.include({negativeTtl: 120, outcome: 'nodata'})
      expect(await ask('nothing.meet.test', 'A')).to.deep.include({negativeTtl: 120, outcome: 'nxdomain', rcode: 'NXDOMAIN'})
    })

    it('REFUSED and SERVFAIL (a delegation to a server that is not there)', async () => {
      expect((await ask('x.refused.test', 'A')).outcome).to.equal('refused')
      expect((await ask('x.broken.lan', 'A')).outcome).to.equal('servfail')
    })

    it('timeout after the retries, when the resolver never answers', async () => {
      const silent = await startSilentUdp()
      try {
        const started = performance.now()
        const lookup = await queryDns({address: '127.0.0.1', port: silent.port}, 'meet.test', 'A', {retries: 2, timeoutMs: 200})
        expect(lookup).to.deep.include({attempts: 3, outcome: 'timeout', reason: 'no answer within 200 ms'})
        expect(silent.received()).to.equal(3)
        expect(performance.now() - started).to.be.within(550, 1500)
      } finally {
        await silent.close()
      }
    })

    it('retries over TCP when the UDP answer is truncated', async () => {
      const big = await ask('big.meet.test', 'A')
      expect(big).to.deep.include({attempts: 2, outcome: 'answer', transport: 'tcp'})
      expect(big.records).to.have.length(60)
    })
  })

  describe('CNAME chains', () => {
    const chase = (name: string) => resolveChain((n, t) => queryDns(pub, n, t, {retries: 0, timeoutMs: 2000}), name, 'A')

    it('are followed to the address, with every hop and the shortest TTL', async () => {
      const resolved = await chase('c1.meet.test')
      expect(resolved).to.deep.include({addresses: ['127.0.0.13'], chain: ['c1.meet.test', 'c2.meet.test', 'c3.meet.test'], outcome: 'answer', ttl: 30})
    })

    it('report loops and dangling targets', async () => {
      expect(await chase('l1.meet.test')).to.deep.include({chain: ['l1.meet.test', 'l2.meet.test', 'l1.meet.test'], problem: 'loop'})
      expect(await chase('d1.meet.test')).to.deep.include({chain: ['d1.meet.test', 'gone.meet.test'], outcome: 'nxdomain', problem: 'dangling'})
    })
  })

  describe('validateDns', () => {
    function inventory(domain: string, prosody: string) {
      return Inventory.parse({
        dns: {internal: [`127.0.0.1:${internal.port}`], public: [`127.0.0.1:${pub.port}`], retries: 0, timeout: '1s'},
        domain,
        proxy: {listen: {ipv4: '127.0.0.10'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
        shards: [{jvbs: [{address: 'jvb1.meet.test', id: 'jvb1'}, {address: '127.0.0.22', id: 'jvb2'}], name: 's1', prosody: {address: prosody}}],
        web: [{address: '127.0.0.2', name: 'web1'}],
      })
    }

    const by = (report: Awaited<ReturnType<typeof validateDns>>, severity: string) => report.findings.filter((f) => f.severity === severity).map((f) => `${f.record}: ${f.message}`)

    it('passes a public name with one A equal to the listen address, and resolvable backends', async () => {
      const report = await validateDns({inventory: inventory('meet.test', 'prosody.meet.test')})
      expect(by(report, 'critical')).to.deep.equal([])
      expect(by(report, 'ok')).to.include(`meet.test A @127.0.0.1:${pub.port}: 127.0.0.10, the proxy's address, TTL 300 s`)
      expect(by(report, 'ok')).to.include(`prosody.meet.test A @127.0.0.1:${internal.port}: resolves to 127.0.0.20, TTL 60 s`)
      // conference.meet.test is published in the public view: a leak, named.
      expect(by(report, 'warning')).to.deep.equal([`conference.meet.test A @127.0.0.1:${pub.port}: internal-only name is in public DNS (127.0.0.10): it tells the world the XMPP layout`])
    })

    it('fails a public name with two A records, and a backend name that does not resolve', async () => {
      const report = await validateDns({inventory: inventory('two.meet.test', 'gone.meet.test')})
      const critical = by(report, 'critical')
      expect(critical).to.include(`two.meet.test A @127.0.0.1:${pub.port}: 2 A records (127.0.0.11, 127.0.0.12): clients pick one at random, so only 127.0.0.10 should be published`)
      expect(critical).to.include(`gone.meet.test A @127.0.0.1:${internal.port}: does not resolve: NXDOMAIN, cached 120 s`)
    })

    it('shows a split between internal resolvers side by side', async () => {
      const report = await validateDns({internal: [internal, {address: '127.0.0.1', port: otherInternal.port}], inventory: inventory('meet.test', 'prosody.meet.test')})
      const view = report.views.find((v) => v.name === 'prosody.meet.test')!
      expect(Object.values(view.answers)).to.deep.equal(['127.0.0.20', '127.0.0.99'])
      expect(by(report, 'warning').some((w) => w.startsWith('prosody.meet.test A: internal resolvers disagree'))).to.equal(true)
    })

    it('says which checks it skipped for want of resolvers', async () => {
      const report = await validateDns({inventory: inventory('meet.test', 'prosody.meet.test'), public: []})
      expect(by(report, 'warning')).to.deep.equal(['meet.test: no public resolvers (dns.public, --public): the public name and leaks of internal names were not checked'])
      expect(report.findings.some((f) => f.record.includes(`@127.0.0.1:${pub.port}`))).to.equal(false)
    })

    describe('bounded when an internal resolver never answers', () => {
      let silent: Awaited<ReturnType<typeof startSilentUdp>>
      beforeEach(async () => {
        silent = await startSilentUdp()
      })
      afterEach(async () => {
        await silent.close()
      })

      const deadInventory = (dns: Record<string, unknown>) =>
        Inventory.parse({
          dns: {concurrency: 8, internal: [`127.0.0.1:${silent.port}`, `127.0.0.1:${internal.port}`], public: [], retries: 0, timeout: '300ms', ...dns},
          domain: 'meet.test',
          proxy: {listen: {ipv4: '127.0.0.10'}, tls: {certificate: '/a.pem', key: '/a.pem'}},
          shards: [{jvbs: Array.from({length: 40}, (_, i) => ({address: `jvb${i + 1}.meet.test`, id: `jvb${i + 1}`})), name: 's1', prosody: {address: 'prosody.meet.test'}}],
          web: [{address: '127.0.0.2', name: 'web1'}],
        })

      it('stops asking a resolver that never answered at its first timeout, says so first, and still reports the other resolver', async () => {
        const started = performance.now()
        const report = await validateDns({inventory: deadInventory({})})
        // 8 in flight time out together (300 ms); a resolver that never answered is given up on at
        // its first timeout: 8 queries and 300 ms, not 41 x 300 ms.
        expect(performance.now() - started).to.be.within(250, 900)
        expect(silent.received()).to.equal(8)
        expect(report.findings[0]).to.deep.equal({message: 'not answering: lookups timed out, so 33 more were not sent', record: `@127.0.0.1:${silent.port}`, severity: 'critical'})
        const onSilent = report.findings.filter((f) => f.record.endsWith(`A @127.0.0.1:${silent.port}`))
        expect(onSilent).to.have.length(41)
        expect(onSilent.filter((f) => f.message.includes(`not asked: 127.0.0.1:${silent.port} stopped answering`))).to.have.length(33)
        // The live resolver's answers are all there.
        expect(report.findings.filter((f) => f.record === `prosody.meet.test A @127.0.0.1:${internal.port}`).map((f) => f.message)).to.deep.equal(['resolves to 127.0.0.20, TTL 60 s'])
        expect(report.findings.filter((f) => f.record === `jvb1.meet.test A @127.0.0.1:${internal.port}`).map((f) => f.severity)).to.deep.equal(['ok'])
      })

      it('ends every lookup in flight at the run deadline, before its own timeout', async () => {
        const started = performance.now()
        const report = await validateDns({deadlineMs: 200, inventory: deadInventory({timeout: '2s'})})
        expect(performance.now() - started).to.be.within(150, 800)
        const cut = report.findings.filter((f) => f.record.endsWith(`A @127.0.0.1:${silent.port}`) && f.message.includes('run deadline reached'))
        expect(cut.length).to.be.greaterThan(0)
        // Lookups not yet sent at the deadline are not sent at all.
        expect(silent.received()).to.equal(8)
      })
    })

    it('lists the videobridges published under an SRV name against the inventory', async () => {
      const report = await validateDns({inventory: inventory('meet.test', 'prosody.meet.test'), srv: '_jvb._tcp.meet.test'})
      const srv = report.findings.filter((f) => f.record.startsWith('_jvb._tcp.meet.test SRV')).map((f) => `${f.severity} ${f.message}`)
      expect(srv).to.deep.equal(['ok jvb1.meet.test is jvb1', 'warning jvb9.meet.test (127.0.0.29) is published but not in the inventory', 'warning jvb2 (127.0.0.22) is in the inventory but not published'])
    })
  })

  describe('jproxy validate dns', () => {
    async function writeInventory(domain: string): Promise<string> {
      const file = join(dir, `${domain}.yaml`)
      await writeFile(
        file,
        stringify({
          dns: {internal: [`127.0.0.1:${internal.port}`], public: [`127.0.0.1:${pub.port}`], retries: 0, timeout: '1s'},
          domain,
          proxy: {listen: {ipv4: '127.0.0.10'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
          shards: [{jvbs: [{address: 'jvb1.meet.test', id: 'jvb1'}], name: 's1', prosody: {address: 'prosody.meet.test'}}],
          web: [{address: '127.0.0.2', name: 'web1'}],
        }),
      )
      return file
    }

    it('exits 0 with warnings only, and checkFailed with a critical finding, worst first', async () => {
      const good = await runCli(['validate', 'dns', '-i', await writeInventory('meet.test')])
      expect(good.code).to.equal(ExitCode.ok)
      expect(good.stdout.split('\n')[0]).to.match(/^WARNING {2}conference\.meet\.test A @/)
      const bad = await runCli(['validate', 'dns', '-i', await writeInventory('two.meet.test')])
      expect(bad.code).to.equal(ExitCode.checkFailed)
      expect(bad.stdout.split('\n')[0]).to.match(/^CRITICAL two\.meet\.test A @127\.0\.0\.1:\d+: 2 A records/)
    })

    it('speaks --json and --format nagios', async () => {
      const file = await writeInventory('two.meet.test')
      const json = await runCli(['validate', 'dns', '-i', file, '--json'])
      expect(json.code).to.equal(ExitCode.checkFailed)
      expect(JSON.parse(json.stdout).findings.some((f: {severity: string}) => f.severity === 'critical')).to.equal(true)
      const nagios = await runCli(['validate', 'dns', '-i', file, '--format', 'nagios'])
      expect(nagios.code).to.equal(NAGIOS.CRITICAL)
      expect(nagios.stdout).to.match(/^JPROXY DNS CRITICAL - two\.meet\.test A @127\.0\.0\.1:\d+: 2 A records .* \| 'critical'=1;;;0 'warning'=0;;;0\n$/)
    })

    it('--prom-file writes the worst verdict per record and the run time for node_exporter', async () => {
      const prom = join(dir, 'dns.prom')
      const before = Math.floor(Date.now() / 1000)
      const run = await runCli(['validate', 'dns', '-i', await writeInventory('two.meet.test'), '--prom-file', prom, '--json'])
      expect(run.code).to.equal(ExitCode.checkFailed)
      const {findings} = JSON.parse(run.stdout) as {findings: Array<{record: string; severity: string}>}
      const text = await readFile(prom, 'utf8')
      expect(text).to.include('# TYPE jproxy_dns_check_status gauge\n')
      // One series per record, valued by its worst finding.
      for (const record of new Set(findings.map((f) => f.record))) {
        const worst = Math.max(...findings.filter((f) => f.record === record).map((f) => ({critical: 2, ok: 0, warning: 1})[f.severity]!))
        expect(text).to.include(`jproxy_dns_check_status{record="${record}"} ${worst}\n`)
      }

      expect(text).to.match(/jproxy_dns_check_status\{record="two\.meet\.test A @127\.0\.0\.1:\d+"\} 2\n/)
      const stamp = Number(/jproxy_dns_last_run_timestamp_seconds (\d+)/.exec(text)![1])
      expect(stamp).to.be.within(before, Math.ceil(Date.now() / 1000))
    })

    it('refuses to guess resolvers: none listed is a usage error', async () => {
      const file = join(dir, 'no-dns.yaml')
      await writeFile(file, stringify({domain: 'meet.test', proxy: {listen: {ipv4: '127.0.0.10'}, tls: {certificate: '/a', key: '/a'}}, shards: [{jvbs: [], name: 's1', prosody: {address: '127.0.0.20'}}], web: [{address: '127.0.0.2', name: 'web1'}]}))
      const run = await runCli(['validate', 'dns', '-i', file])
      expect(run.code).to.equal(ExitCode.usage)
      expect(run.stderr).to.include('the system resolver is never used')
    })
  })
})
