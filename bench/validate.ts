/**
 * validate dns / validate tls benchmark, the built CLI as cron runs it, everything on loopback:
 * - DNS: 1,000 videobridge hostnames on two real unbound resolvers (2,000 lookups, plus the
 *   public checks), at dns.concurrency 32 and one at a time; then with one internal resolver
 *   silent, which must cost one round of timeouts, not one per name.
 * - TLS: files plus a handshake with a loopback TLS server presenting an openssl-made chain,
 *   against `node -e 0`.
 * Prints wall time, lookups per second and peak RSS. Run: npm run build && node --import tsx bench/validate.ts
 */
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {freePorts} from '../test/support/loopback-backends.js'
import {TestPki} from '../test/support/pki.js'
import {startSilentUdp} from '../test/support/silent-udp.js'
import {startTlsServer} from '../test/support/tls-server.js'
import {startUnbound} from '../test/support/unbound-process.js'
import {BIN, type Measured, measureCli, measureNode, median} from './support/measure.js'

const JVBS = 1000
const RUNS = 9
const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-validate-'))
const inventory = (extra: Record<string, unknown>) => ({
  domain: 'meet.test',
  proxy: {listen: {ipv4: '127.0.0.10'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
  shards: Array.from({length: 10}, (_, s) => ({
    jvbs: Array.from({length: JVBS / 10}, (_, j) => ({address: `jvb${s * (JVBS / 10) + j}.meet.test`, id: `jvb${s * (JVBS / 10) + j}`})),
    name: `s${s}`,
    prosody: {address: `127.0.0.${20 + s}`},
  })),
  web: [{address: '127.0.0.2', name: 'web1'}],
  ...extra,
})

const stops: Array<() => Promise<void>> = []
try {
  // DNS: the same zone on two resolvers.
  const zone = ['local-zone: "meet.test." static', 'local-data: "meet.test. 300 IN A 127.0.0.10"', ...Array.from({length: JVBS}, (_, i) => `local-data: "jvb${i}.meet.test. 60 IN A 10.0.${Math.floor(i / 250)}.${(i % 250) + 1}"`)]
  const [a, b] = await freePorts(2)
  for (const [name, port] of [['one', a], ['two', b]] as const) stops.push((await startUnbound(dir, name, port, {server: zone})).stop)
  const dnsFile = async (name: string, dns: Record<string, unknown>) => {
    const file = join(dir, name)
    await writeFile(file, stringify(inventory({dns: {public: [`127.0.0.1:${a}`], retries: 2, timeout: '2s', ...dns}})))
    return file
  }

  const lookups = (m: Measured) => {
    const report = JSON.parse(m.stdout) as {error?: {message: string}; findings?: unknown[]}
    if (!report.findings) throw new Error(`validate dns exited ${m.code}: ${report.error?.message}`)
    return report.findings.length
  }
  const dnsRow = (label: string, m: Measured) => console.log(`${label.padEnd(44)} ${(m.wallMs / 1000).toFixed(2)} s (process)   ${lookups(m)} findings   ${((2 * JVBS) / (m.wallMs / 1000)).toFixed(0)} lookups/s with start-up   peak RSS ${m.maxRssMiB.toFixed(0)} MiB`)
  console.log(`validate dns: ${JVBS} bridge hostnames on 2 internal unbound resolvers (${2 * JVBS} lookups) + the public checks`)
  const both = [`127.0.0.1:${a}`, `127.0.0.1:${b}`]
  dnsRow('concurrency 32 (default)', await measureCli(['validate', 'dns', '-i', await dnsFile('dns32.yaml', {internal: both}), '--json']))
  dnsRow('concurrency 1', await measureCli(['validate', 'dns', '-i', await dnsFile('dns1.yaml', {concurrency: 1, internal: both}), '--json']))
  const silent = await startSilentUdp()
  stops.push(silent.close)
  const dead = await measureCli(['validate', 'dns', '-i', await dnsFile('dead.yaml', {internal: [`127.0.0.1:${a}`, `127.0.0.1:${silent.port}`]}), '--json'])
  const cut = (JSON.parse(dead.stdout) as {findings: Array<{message: string; record: string}>}).findings.filter((f) => f.record.endsWith(`@127.0.0.1:${silent.port}`) && f.message.includes('not asked')).length
  console.log(`${'one of the 2 internal resolvers silent'.padEnd(44)} ${(dead.wallMs / 1000).toFixed(2)} s   ${silent.received()} queries to the silent one, ${cut} lookups not sent   peak RSS ${dead.maxRssMiB.toFixed(0)} MiB`)

  // TLS: an openssl-made chain, in a file and on a loopback server.
  const pki = await TestPki.create(join(dir, 'pki'))
  const leaf = await pki.leaf('meet.test', {altNames: ['DNS:meet.test']})
  const key = await readFile(leaf.key, 'utf8')
  const pem = join(dir, 'meet.pem')
  await writeFile(pem, leaf.pem + pki.intermediate.pem + key, {mode: 0o600})
  const server = await startTlsServer({cert: leaf.pem + pki.intermediate.pem, key})
  stops.push(server.close)
  const tlsFile = join(dir, 'tls.yaml')
  await writeFile(tlsFile, stringify({...inventory({}), proxy: {listen: {httpsPort: server.port, ipv4: '127.0.0.1'}, tls: {certificate: pem, key: pem}}}))
  const time = async (args: string[], expected: number) => {
    const runs: Measured[] = []
    for (let i = 0; i <= RUNS; i++) {
      const m = await measureNode(args)
      if (m.code !== expected) throw new Error(`${args.join(' ')} exited ${m.code}: ${m.stdout}`)
      if (i > 0) runs.push(m) // the first run warms the disk cache
    }

    return `median ${median(runs.map((r) => r.wallMs)).toFixed(0)} ms, min ${Math.min(...runs.map((r) => r.wallMs)).toFixed(0)} ms, peak RSS ${Math.max(...runs.map((r) => r.maxRssMiB)).toFixed(0)} MiB`
  }

  console.log(`validate tls (${RUNS} runs each):`)
  console.log(`  node -e 0                                  ${await time(['-e', '0'], 0)}`)
  console.log(`  files and handshake (--ca, 1 address)      ${await time([BIN, 'validate', 'tls', '-i', tlsFile, '--ca', pki.root.cert, '--target', 'haproxy'], 0)}`)
  console.log(`  files only, system CA bundle               ${await time([BIN, 'validate', 'tls', '-i', tlsFile, '--no-live', '--target', 'haproxy'], 6)}`)
} finally {
  await Promise.all(stops.map((stop) => stop()))
  await rm(dir, {force: true, recursive: true})
}
