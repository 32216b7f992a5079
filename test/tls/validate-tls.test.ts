import {expect} from 'chai'
import {X509Certificate} from 'node:crypto'
import {chmod, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createSecureContext} from 'node:tls'

import {Inventory} from '../../src/inventory/schema.js'
import {coveringName} from '../../src/tls/certificate.js'
import {handshake} from '../../src/tls/live.js'
import type {TlsFinding} from '../../src/tls/model.js'
import {type TrustStore} from '../../src/tls/trust.js'
import {type TlsReport, validateTls} from '../../src/tls/validate.js'
import {smallInventory} from '../fixtures/inventories.js'
import {selfSignedPem} from '../support/certs.js'
import {writeRelaydKeypair} from '../support/fake-relayd-tls.js'
import {startHostile} from '../support/hostile-servers.js'
import {caDate, type Issued, openssl, TestPki} from '../support/pki.js'
import {startTlsServer} from '../support/tls-server.js'

const DOMAIN = 'meet.example.test'
const DAY = 86_400_000
const THRESHOLDS = {criticalDays: 10, warningDays: 20}

const worst = (report: TlsReport, severity: TlsFinding['severity']) => report.findings.filter((f) => f.severity === severity)
const messages = (report: TlsReport, severity: TlsFinding['severity']) => worst(report, severity).map((f) => `${f.source}: ${f.message}`)

describe('TLS: certificates made with openssl', function () {
  this.timeout(30_000)
  let dir: string
  let pki: TestPki
  let other: TestPki
  let trust: TrustStore
  const leaves: Record<string, Issued> = {}

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-tls-'))
    pki = await TestPki.create(join(dir, 'pki'))
    other = await TestPki.create(join(dir, 'other'), 'Untrusted Root')
    const now = Date.now()
    leaves.valid = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    leaves.expired = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`], end: '200201000000Z', start: '200101000000Z'})
    leaves.future = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`], end: caDate(new Date(now + 400 * DAY)), start: caDate(new Date(now + 30 * DAY))})
    leaves.soon = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`], end: caDate(new Date(now + 5 * DAY))})
    leaves.warn = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`], end: caDate(new Date(now + 15 * DAY))})
    leaves.wrongSan = await pki.leaf('other.example.test', {altNames: ['DNS:other.example.test', 'DNS:www.example.test']})
    leaves.cnOnly = await pki.leaf(DOMAIN, {altNames: []})
    leaves.wildcard = await pki.leaf('*.example.test', {altNames: ['DNS:*.example.test']})
    leaves.weak = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`], keyType: 'rsa:1024'})
    leaves.untrusted = await other.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    await selfSignedPem(dir, DOMAIN)
    leaves.selfSigned = {cert: join(dir, `${DOMAIN}.cert.pem`), key: join(dir, `${DOMAIN}.key.pem`), pem: await readFile(join(dir, `${DOMAIN}.cert.pem`), 'utf8')}
    trust = {certificates: [new X509Certificate(pki.root.pem)], pems: [pki.root.pem], source: 'the test root'}
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  const read = (path: string) => readFile(path, 'utf8')
  let fileCount = 0
  /** Writes the parts (PEM texts) into one file, as an admin would bundle them. */
  async function bundle(parts: string[], mode = 0o600): Promise<string> {
    const path = join(dir, `bundle${++fileCount}.pem`)
    await writeFile(path, parts.join(''))
    await chmod(path, mode)
    return path
  }

  function inventory(certificate: string, key = certificate, listen: Record<string, unknown> = {ipv4: '127.0.0.1'}) {
    const data = smallInventory()
    data.domain = DOMAIN
    data.proxy = {listen, tls: {certificate, key}}
    return Inventory.parse(data)
  }

  const checkFiles = (certificate: string, key = certificate, extra: Partial<Parameters<typeof validateTls>[0]> = {}) =>
    validateTls({files: true, inventory: inventory(certificate, key), live: false, now: new Date(), target: 'haproxy', thresholds: THRESHOLDS, timeoutMs: 2000, trust, ...extra})

  describe('files', () => {
    it('a valid chain and key in one file: every check passes and each certificate is listed', async () => {
      const leaf = leaves.valid
      const file = await bundle([leaf.pem, pki.intermediate.pem, await read(leaf.key)])
      const report = await checkFiles(file)
      expect(worst(report, 'critical').concat(worst(report, 'warning'))).to.deep.equal([])
      expect(messages(report, 'ok')).to.include.members([
        `${file}: covers ${DOMAIN}`,
        `${file}: chain ends at the trusted root "jproxy Test Root"`,
      ])
      expect(messages(report, 'ok').some((m) => m.startsWith(`${file}: the key (line `) && m.includes('belongs to the certificate'))).to.equal(true)
      expect(report.certificates.map((c) => [c.position, c.subject, c.issuer])).to.deep.equal([
        [1, DOMAIN, 'jproxy Test Intermediate'],
        [2, 'jproxy Test Intermediate', 'jproxy Test Root'],
      ])
      expect(report.certificates[0].notAfter).to.equal(new Date(new X509Certificate(leaf.pem).validTo).toISOString())
    })

    it('expired and not yet valid certificates are critical, with their dates', async () => {
      const expired = await checkFiles(await bundle([leaves.expired.pem, pki.intermediate.pem, await read(leaves.expired.key)]))
      expect(messages(expired, 'critical')).to.deep.equal([`${join(dir, `bundle${fileCount}.pem`)}: certificate #1 (${DOMAIN}) expired on 2020-02-01 00:00:00 UTC`])
      const future = await checkFiles(await bundle([leaves.future.pem, pki.intermediate.pem, await read(leaves.future.key)]))
      expect(messages(future, 'critical')).to.have.length(1)
      expect(messages(future, 'critical')[0]).to.match(/certificate #1 \(meet\.example\.test\) not valid until \d{4}-\d\d-\d\d/)
    })

    it('warning and critical days before the end, with thresholds of the caller', async () => {
      const soon = await checkFiles(await bundle([leaves.soon.pem, pki.intermediate.pem, await read(leaves.soon.key)]))
      expect(messages(soon, 'critical')).to.have.length(1)
      expect(messages(soon, 'critical')[0]).to.match(/expires in 4 day\(s\)/)
      const warn = await checkFiles(await bundle([leaves.warn.pem, pki.intermediate.pem, await read(leaves.warn.key)]))
      expect(messages(warn, 'critical')).to.deep.equal([])
      expect(messages(warn, 'warning')[0]).to.match(/expires in 14 day\(s\)/)
      const relaxed = await checkFiles(join(dir, `bundle${fileCount}.pem`), undefined, {thresholds: {criticalDays: 1, warningDays: 7}})
      expect(worst(relaxed, 'warning').concat(worst(relaxed, 'critical'))).to.deep.equal([])
    })

    it('a certificate whose names do not cover the public name, or that has only a CN, is critical', async () => {
      const wrong = await checkFiles(await bundle([leaves.wrongSan.pem, pki.intermediate.pem, await read(leaves.wrongSan.key)]))
      expect(messages(wrong, 'critical')).to.deep.equal([`${join(dir, `bundle${fileCount}.pem`)}: does not cover ${DOMAIN}: its names are other.example.test, www.example.test`])
      const cnOnly = await checkFiles(await bundle([leaves.cnOnly.pem, pki.intermediate.pem, await read(leaves.cnOnly.key)]))
      expect(messages(cnOnly, 'critical')[0]).to.include(`does not cover ${DOMAIN}: it has no subjectAltName (the CN "${DOMAIN}" is ignored by browsers)`)
    })

    it('RFC 6125 wildcards: one whole left-most label, never the bare parent or two labels', async () => {
      const file = await bundle([leaves.wildcard.pem, pki.intermediate.pem, await read(leaves.wildcard.key)])
      const report = await checkFiles(file, file, {names: ['turn.example.test', 'example.test', 'a.b.example.test']})
      expect(messages(report, 'ok')).to.include.members([`${file}: covers ${DOMAIN} (through *.example.test)`, `${file}: covers turn.example.test (through *.example.test)`])
      expect(messages(report, 'critical')).to.deep.equal([
        `${file}: does not cover example.test: its names are *.example.test`,
        `${file}: does not cover a.b.example.test: its names are *.example.test`,
      ])
      const cert = new X509Certificate(leaves.wildcard.pem)
      expect(coveringName(cert, 'MEET.Example.Test')).to.equal('*.example.test')
    })

    it('partial-label wildcards (m*.example.test) are not honoured', async () => {
      const partial = await pki.leaf('partial', {altNames: ['DNS:m*.example.test']})
      expect(coveringName(new X509Certificate(partial.pem), DOMAIN)).to.equal(undefined)
    })

    it('a key that belongs to another certificate is critical; the proxy would refuse to start', async () => {
      const file = await bundle([leaves.valid.pem, pki.intermediate.pem, await read(leaves.wrongSan.key)])
      const report = await checkFiles(file)
      expect(messages(report, 'critical')).to.have.length(1)
      expect(messages(report, 'critical')[0]).to.match(/the key \(line \d+\) does not belong to the certificate "meet\.example\.test"/)
      // What the finding claims: a TLS stack will not load this pair.
      const otherKey = await read(leaves.wrongSan.key)
      expect(() => createSecureContext({cert: leaves.valid.pem, key: otherKey})).to.throw(/key values mismatch/)
    })

    it('an incomplete chain (no intermediate) is critical and names the missing issuer', async () => {
      const file = await bundle([leaves.valid.pem, await read(leaves.valid.key)])
      const report = await checkFiles(file)
      expect(messages(report, 'critical')).to.deep.equal([
        `${file}: incomplete chain: nothing here issued "${DOMAIN}", and its issuer "jproxy Test Intermediate" is not a trusted root; clients that do not fetch missing intermediates (Android, curl, node) fail`,
      ])
    })

    it('chain order: the leaf must come first, each certificate followed by its issuer, nothing unrelated', async () => {
      const swapped = await bundle([pki.intermediate.pem, leaves.valid.pem, await read(leaves.valid.key)])
      const report = await checkFiles(swapped)
      expect(messages(report, 'critical').some((m) => m.includes('belongs to certificate #2') && m.includes("the server's own certificate must come first"))).to.equal(true)
      const withRoot = await bundle([leaves.valid.pem, pki.root.pem, pki.intermediate.pem, await read(leaves.valid.key)])
      expect(messages(await checkFiles(withRoot), 'warning')).to.deep.equal([
        `${withRoot}: out of order: send #1, #3, #2 (${DOMAIN} < jproxy Test Intermediate < jproxy Test Root), each certificate followed by its issuer; some clients give up otherwise`,
      ])
      const extra = await bundle([leaves.valid.pem, pki.intermediate.pem, other.intermediate.pem, await read(leaves.valid.key)])
      expect(messages(await checkFiles(extra), 'warning')).to.deep.equal([`${extra}: certificate #3 (jproxy Test Intermediate) is not part of the chain of #1: remove it`])
    })

    it('a chain to an untrusted root, and a self-signed certificate, are critical', async () => {
      const untrusted = await bundle([leaves.untrusted.pem, other.intermediate.pem, await read(leaves.untrusted.key)])
      expect(messages(await checkFiles(untrusted), 'critical')[0]).to.include('its issuer "Untrusted Root" is not a trusted root')
      const withRoot = await bundle([leaves.untrusted.pem, other.intermediate.pem, other.root.pem, await read(leaves.untrusted.key)])
      expect(messages(await checkFiles(withRoot), 'critical')).to.deep.equal([`${withRoot}: chain ends at the root "Untrusted Root", which is not trusted`])
      const selfSigned = await bundle([other.root.pem, await read(other.root.key)])
      expect(messages(await checkFiles(selfSigned), 'critical')).to.include(`${selfSigned}: self-signed ("Untrusted Root"): clients do not trust it`)
    })

    it('the key beside the certificate (<crt>.key), an encrypted key, a weak key, a key every user can read', async () => {
      const crt = await bundle([leaves.valid.pem, pki.intermediate.pem])
      await writeFile(`${crt}.key`, await read(leaves.valid.key), {mode: 0o600})
      expect(worst(await checkFiles(crt, `${crt}.key`), 'critical')).to.deep.equal([])
      const misnamed = await checkFiles(crt, join(dir, 'elsewhere.key'))
      expect(messages(misnamed, 'critical')).to.deep.equal([`${join(dir, 'elsewhere.key')}: HAProxy reads the key from ${crt} or ${crt}.key, not ${join(dir, 'elsewhere.key')}`])

      await openssl(['pkey', '-in', leaves.valid.key, '-out', `${crt}.key`, '-aes256', '-passout', 'pass:secret'])
      expect(messages(await checkFiles(crt, `${crt}.key`), 'critical')[0]).to.match(/line 1: the private key is encrypted/)

      const weak = await bundle([leaves.weak.pem, pki.intermediate.pem, await read(leaves.weak.key)])
      expect(messages(await checkFiles(weak), 'critical')[0]).to.include('RSA 1024 bits is too weak')

      const open = await bundle([leaves.valid.pem, pki.intermediate.pem, await read(leaves.valid.key)], 0o644)
      expect(messages(await checkFiles(open), 'warning')).to.deep.equal([`${open}: mode 0644: every user on the machine can read the private key (want 0600, or 0640 with the proxy's group)`])
      const group = await bundle([leaves.valid.pem, pki.intermediate.pem, await read(leaves.valid.key)], 0o640)
      expect(worst(await checkFiles(group), 'warning')).to.deep.equal([])
    })

    it('a missing file, a file without certificates and a broken PEM name the file and line', async () => {
      const missing = join(dir, 'missing.pem')
      expect(messages(await checkFiles(missing), 'critical')[0]).to.match(new RegExp(`^${missing}: cannot read: ENOENT`))
      const empty = await bundle(['just text\n'])
      expect(messages(await checkFiles(empty), 'critical')).to.deep.equal([`${empty}: no CERTIFICATE block`])
      const cut = await bundle([leaves.valid.pem, '-----BEGIN CERTIFICATE-----\nMIIB\n'])
      const lines = leaves.valid.pem.split('\n').length
      expect(messages(await checkFiles(cut), 'critical')).to.deep.equal([`${cut}: line ${lines}: BEGIN without a matching END`])
    })

    it('relayd: the keypair files relayd opens, NAME:PORT.crt before NAME.crt, with the key in the same form', async () => {
      const sslDir = join(dir, 'etc-ssl')
      const chain = leaves.valid.pem + pki.intermediate.pem
      await writeRelaydKeypair(sslDir, DOMAIN, {cert: chain, key: await read(leaves.valid.key)})
      const relayd = (extra = {}) => checkFiles('/nowhere/cert.pem', '/nowhere/cert.pem', {sslDir, target: 'relayd', ...extra})
      const plain = await relayd()
      expect(worst(plain, 'critical')).to.deep.equal([])
      expect(messages(plain, 'ok')[0]).to.equal(`${join(sslDir, `${DOMAIN}.crt`)}: relayd reads keypair "${DOMAIN}" from here (it tries ${join(sslDir, `${DOMAIN}:443.crt`)}, then ${join(sslDir, `${DOMAIN}.crt`)}) with the key ${join(sslDir, 'private', `${DOMAIN}.key`)}`)

      // With NAME:443.crt present relayd wants NAME:443.key, and does not fall back to NAME.key.
      await writeFile(join(sslDir, `${DOMAIN}:443.crt`), chain)
      const withPort = await relayd()
      expect(messages(withPort, 'critical')[0]).to.match(new RegExp(`^${join(sslDir, 'private', `${DOMAIN}:443.key`)}: cannot read: ENOENT`))
      await writeFile(join(sslDir, 'private', `${DOMAIN}:443.key`), await read(leaves.valid.key), {mode: 0o600})
      expect(worst(await relayd(), 'critical')).to.deep.equal([])
    })
  })

  describe('live handshakes with a TLS server on loopback', () => {
    const servers: Array<{close(): Promise<void>}> = []
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()))
    })

    async function serve(leaf: Issued, chain: string[] = [pki.intermediate.pem], extra = {}) {
      const server = await startTlsServer({cert: [leaf.pem, ...chain].join(''), key: await read(leaf.key), ...extra})
      servers.push(server)
      return server
    }

    /** An inventory whose proxy listens on `listen` (port, addresses) under `domain`. */
    const liveInventory = (listen: Record<string, unknown>, domain = DOMAIN) =>
      Inventory.parse({...smallInventory(), domain, proxy: {listen: {ipv4: '127.0.0.1', ...listen}, tls: {certificate: '/x.pem', key: '/x.pem'}}})

    const checkLive = (port: number, extra: Partial<Parameters<typeof validateTls>[0]> = {}) =>
      validateTls({
        files: false,
        inventory: liveInventory({httpsPort: port}),
        live: true,
        now: new Date(),
        target: 'haproxy',
        thresholds: THRESHOLDS,
        timeoutMs: 2000,
        trust,
        ...extra,
      })

    it('a valid chain: TLS 1.3, ALPN h2, verified, covering, with SNI = the public name and the presented chain reported', async () => {
      const server = await serve(leaves.valid)
      const report = await checkLive(server.port)
      const source = `127.0.0.1:${server.port}`
      expect(worst(report, 'critical').concat(worst(report, 'warning'))).to.deep.equal([])
      expect(messages(report, 'ok')).to.include.members([`${source}: chain verified against the test root`, `${source}: covers ${DOMAIN}`])
      expect(messages(report, 'ok').some((m) => /^127\.0\.0\.1:\d+: TLSv1\.3, TLS_\w+, ALPN h2$/.test(m))).to.equal(true)
      expect(server.servernames).to.deep.equal([DOMAIN])
      expect(report.handshakes).to.have.length(1)
      expect(report.handshakes[0]).to.deep.include({alpn: 'h2', outcome: 'ok', protocol: 'TLSv1.3', source})
      expect(report.handshakes[0].chain).to.deep.equal([
        {issuer: 'jproxy Test Intermediate', subject: DOMAIN},
        {issuer: 'jproxy Test Root', subject: 'jproxy Test Intermediate'},
        {issuer: 'jproxy Test Root', subject: 'jproxy Test Root'},
      ])
      // The root OpenSSL added from the trust store is not counted as presented.
      expect(report.certificates.map((c) => c.subject)).to.deep.equal([DOMAIN, 'jproxy Test Intermediate'])
    })

    it('SNI picks the certificate: a server whose default is wrong still passes when it serves the right one for the name', async () => {
      const server = await serve(leaves.wrongSan, [pki.intermediate.pem], {sni: {[DOMAIN]: {cert: leaves.valid.pem + pki.intermediate.pem, key: await read(leaves.valid.key)}}})
      const report = await checkLive(server.port)
      expect(worst(report, 'critical')).to.deep.equal([])
      const wrongName = await checkLive(server.port, {inventory: liveInventory({httpsPort: server.port}, 'other.example.test')})
      expect(worst(wrongName, 'critical')).to.deep.equal([])
      expect(server.servernames).to.deep.equal([DOMAIN, 'other.example.test'])
    })

    it('expired, not yet valid, wrong name, incomplete chain, self-signed: each verdict from the handshake', async () => {
      const cases: Array<[Issued, string[], RegExp[]]> = [
        [leaves.expired, [pki.intermediate.pem], [/chain not trusted \(the test root\): CERT_HAS_EXPIRED/, /expired on 2020-02-01/]],
        [leaves.future, [pki.intermediate.pem], [/CERT_NOT_YET_VALID/, /not valid until/]],
        [leaves.wrongSan, [pki.intermediate.pem], [/does not cover meet\.example\.test: its names are other\.example\.test, www\.example\.test/]],
        [leaves.valid, [], [/UNABLE_TO_VERIFY_LEAF_SIGNATURE, the server sends no intermediate/]],
        [leaves.selfSigned, [], [/DEPTH_ZERO_SELF_SIGNED_CERT, the certificate is self-signed/, /expires in 1 day\(s\)/]], // selfSignedPem makes 2-day certificates
        [leaves.untrusted, [other.intermediate.pem], [/UNABLE_TO_GET_ISSUER_CERT_LOCALLY/]],
      ]
      for (const [leaf, chain, expected] of cases) {
        const server = await serve(leaf, chain)
        const critical = messages(await checkLive(server.port), 'critical')
        expect(critical, critical.join("\n")).to.have.length(expected.length)
        for (const [i, pattern] of expected.entries()) expect(critical[i], critical.join("\n")).to.match(pattern)
      }
    })

    it('reports the protocol a TLS 1.2-only server negotiates', async () => {
      const server = await serve(leaves.valid, [pki.intermediate.pem], {maxVersion: 'TLSv1.2'})
      const report = await checkLive(server.port)
      expect(report.handshakes[0].protocol).to.equal('TLSv1.2')
      expect(messages(report, 'ok').some((m) => /: TLSv1\.2, TLS_ECDHE_\w+, ALPN h2$/.test(m))).to.equal(true)
      expect(worst(report, 'critical')).to.deep.equal([])
    })

    it('every listen address gets its own handshake and verdicts (IPv4 and IPv6)', async () => {
      const v4 = await serve(leaves.valid)
      const v6 = await serve(leaves.expired, [pki.intermediate.pem], {host: '::1', port: v4.port})
      const report = await checkLive(v4.port, {inventory: liveInventory({httpsPort: v4.port, ipv6: '::1'})})
      expect(report.handshakes.map((h) => h.source)).to.deep.equal([`127.0.0.1:${v4.port}`, `[::1]:${v4.port}`])
      expect(new Set(worst(report, 'critical').map((f) => f.source))).to.deep.equal(new Set([`[::1]:${v4.port}`]))
      expect(v6.servernames).to.deep.equal([DOMAIN])
    })

    it('a silent server times out within the timeout; a closed port fails at once; --connect replaces the listen addresses', async () => {
      const silent = await startHostile('silent')
      servers.push(silent)
      const started = performance.now()
      const result = await handshake({address: '127.0.0.1', ca: trust.pems, port: silent.port, servername: DOMAIN, timeoutMs: 300})
      expect(result).to.deep.include({outcome: 'timeout', reason: 'no handshake within 300 ms'})
      expect(performance.now() - started).to.be.within(250, 1500)

      const refused = await startHostile('refused')
      const valid = await serve(leaves.valid)
      const report = await checkLive(refused.port, {connect: [{address: '127.0.0.1', port: refused.port}, {address: '127.0.0.1', port: valid.port}]})
      expect(messages(report, 'critical')).to.have.length(1)
      expect(messages(report, 'critical')[0]).to.match(new RegExp(`^127\\.0\\.0\\.1:${refused.port}: TLS handshake with SNI ${DOMAIN} failed: .*ECONNREFUSED`))
      expect(report.handshakes.map((h) => h.outcome)).to.deep.equal(['failed', 'ok'])
    })
  })
})
