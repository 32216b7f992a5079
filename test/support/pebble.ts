import {writeFile} from 'node:fs/promises'
import {request} from 'node:https'
import {join} from 'node:path'

import {type Daemon, exited, spawnDaemon} from './daemon.js'
import {freePorts} from './loopback-backends.js'
import type {TestPki} from './pki.js'
import {waitFor} from './wait.js'

/** Debian's pebble (an ACME CA for tests) and pebble-challtestsrv as its DNS, both on loopback. */
export interface Pebble {
  /** The ACME directory URL. */
  directory: string
  /** PEM of the root that signs what pebble issues (new on every start). */
  issuingRoot: string
  output: () => string
  stop: () => Promise<void>
}

export interface PebbleOptions {
  dir: string
  /** Where pebble's VA connects for HTTP-01: the proxy's http port. */
  httpPort: number
  /** Signs pebble's own HTTPS listener; clients trust its root (REQUESTS_CA_BUNDLE, LEGO_CA_CERTIFICATES). */
  pki: TestPki
  timeoutMs?: number
}

function get(url: string, ca: string, timeoutMs: number): Promise<{body: string; status: number}> {
  return new Promise((resolve, reject) => {
    const req = request(url, {agent: false, ca}, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({body, status: res.statusCode ?? 0}))
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${url}: timeout`)))
    req.on('error', reject)
    req.end()
  })
}

/**
 * Starts pebble-challtestsrv as a DNS server answering 127.0.0.1 for every name (no AAAA, so
 * the VA uses IPv4), and pebble resolving through it: the VA then validates HTTP-01 at
 * 127.0.0.1:`httpPort`, through the proxy. Validation is real (PEBBLE_VA_ALWAYS_VALID is not
 * set); the VA's random sleep is off and every nonce is accepted, so runs take seconds.
 */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const timeoutMs = options.timeoutMs ?? 20_000
  const [acme, management, dns, challManagement, tlsPort] = await freePorts(5)
  const listener = await options.pki.leaf('localhost', {altNames: ['DNS:localhost', 'IP:127.0.0.1']})
  // pebble sends the file as it is: leaf and intermediate, so clients trusting the root verify it.
  const chain = join(options.dir, 'pebble-listener-chain.pem')
  await writeFile(chain, listener.pem + options.pki.intermediate.pem)
  const config = join(options.dir, 'pebble-config.json')
  await writeFile(
    config,
    JSON.stringify({
      pebble: {
        certificate: chain,
        externalAccountBindingRequired: false,
        httpPort: options.httpPort,
        listenAddress: `127.0.0.1:${acme}`,
        managementListenAddress: `127.0.0.1:${management}`,
        ocspResponderURL: '',
        privateKey: listener.key,
        tlsPort,
      },
    }),
  )
  const daemons: Daemon[] = []
  const stop = async () => {
    await Promise.all(daemons.map((d) => d.stop()))
  }

  try {
    daemons.push(
      await spawnDaemon(
        'pebble-challtestsrv',
        ['-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challManagement}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
        'pebble',
      ),
    )
    // spawnDaemon passes our environment on: set pebble's switches for its start only.
    const saved = {nonce: process.env.PEBBLE_WFE_NONCEREJECT, sleep: process.env.PEBBLE_VA_NOSLEEP}
    process.env.PEBBLE_VA_NOSLEEP = '1'
    process.env.PEBBLE_WFE_NONCEREJECT = '0'
    try {
      daemons.push(await spawnDaemon('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dns}`], 'pebble'))
    } finally {
      for (const [name, value] of [['PEBBLE_VA_NOSLEEP', saved.sleep], ['PEBBLE_WFE_NONCEREJECT', saved.nonce]] as const) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    }
    const ca = options.pki.root.pem
    const directory = () => get(`https://127.0.0.1:${acme}/dir`, ca, 2000)
    const gaveUp = () => daemons.map((d) => exited(d.child)).find((reason) => reason !== undefined)
    const ready = (answer: {status: number}) => answer.status === 200
    await waitFor("pebble's ACME directory", directory, ready, {gaveUp, timeoutMs}).catch((error: Error) => {
      throw new Error(`${error.message}\n${daemons.map((d) => d.output()).join('\n')}`)
    })

    const root = await get(`https://127.0.0.1:${management}/roots/0`, ca, 5000)
    if (root.status !== 200 || !root.body.includes('BEGIN CERTIFICATE')) throw new Error(`pebble /roots/0 answered ${root.status}: ${root.body.slice(0, 200)}`)
    return {directory: `https://127.0.0.1:${acme}/dir`, issuingRoot: root.body, output: () => daemons.map((d) => d.output()).join('\n'), stop}
  } catch (error) {
    await stop()
    throw error
  }
}
