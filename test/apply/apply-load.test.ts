import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {applyTarget} from '../../src/apply/apply.js'
import {parseShowInfo} from '../../src/haproxy/runtime.js'
import {socketCommand} from '../../src/haproxy/socket.js'
import {Inventory} from '../../src/inventory/schema.js'
import {runCommand} from '../../src/system/command.js'
import {reloadToNewWorker, type Stage, startStage, withWeb2, workers} from '../support/haproxy-stage.js'
import {waitFor} from '../support/wait.js'

/**
 * Runs wrk (Debian package) against `url` for `seconds`; a missing wrk fails the test. Each
 * request gets its own connection: HAProxy 2.6 closes idle keep-alive connections when a reload
 * soft-stops the old worker (`idle-close-on-response` came later), and a client that sent a
 * request on one at that instant must retry it, which browsers do and wrk does not. A reload
 * must never fail a request on a connection of its own.
 */
function wrk(url: string, seconds: number, keepAlive = false): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t2', '-c16', `-d${seconds}s`, '--timeout', '5s', ...(keepAlive ? [] : ['-H', 'Connection: close']), url], {timeout: (seconds + 30) * 1000}, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return reject(new Error('wrk not found: install the Debian package wrk'))
      if (error) return reject(new Error(`wrk failed: ${stderr}${stdout}`))
      resolve(stdout)
    })
  })
}

/** Waits until HAProxy has answered `count` more requests than when called: wrk's load is flowing. */
async function loadFlowing(stage: Stage, count = 16): Promise<void> {
  const answered = async () => Number(parseShowInfo(await socketCommand(stage.socket, 'show info')).CumReq)
  const before = await answered()
  await waitFor(`${count} requests from wrk through HAProxy`, answered, (n) => n >= before + count, {timeoutMs: 30_000})
}

describe('apply under load: wrk through HAProxy while configs change', function () {
  this.timeout(180_000)
  let dir: string
  let stage: Stage

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-apply-load-'))
    stage = await startStage(dir)
  })
  after(async () => {
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  it('20 applies with real changes (20 reloads) lose no request', async () => {
    const ca = await readFile(stage.pem, 'utf8')
    const variants = [withWeb2(stage), stage.data]
    const before = await workers(stage)
    const load = wrk(`https://127.0.0.1:${stage.data.proxy.listen.httpsPort}/`, 12)
    await loadFlowing(stage)
    const outcomes: string[] = []
    for (let i = 0; i < 20; i++) {
      const report = await applyTarget({inventory: Inventory.parse(variants[i % 2]), run: runCommand, target: 'haproxy', tlsCa: ca})
      outcomes.push(report.outcome)
    }

    const output = await load
    expect(outcomes).to.deep.equal(Array.from({length: 20}, () => 'applied'))
    expect((await workers(stage)).reloads).to.equal(before.reloads + 20)
    const requests = Number(/(\d+) requests in/.exec(output)?.[1])
    // Several requests per reload prove the load was real; a fixed rate (once 1,000 in 12 s) fails on a busy machine.
    expect(requests, output).to.be.greaterThan(20 * 5)
    expect(output, 'no socket errors').to.not.include('Socket errors')
    expect(output, 'every answer 2xx or 3xx').to.not.include('Non-2xx or 3xx responses')
  })

  it('keep-alive clients across 6 master-CLI reloads: no reset, because the old worker answers before it closes (idle-close-on-response)', async () => {
    expect(await readFile(stage.live, 'utf8')).to.include('    option idle-close-on-response\n')
    const before = await workers(stage)
    const load = wrk(`https://127.0.0.1:${stage.data.proxy.listen.httpsPort}/`, 10, true)
    await loadFlowing(stage)
    // The next reload only once this one has a new worker (the master CLI is away while it re-executes).
    for (let i = 0; i < 6; i++) await reloadToNewWorker(stage, 10_000)

    const output = await load
    expect((await workers(stage)).reloads).to.equal(before.reloads + 6)
    expect(Number(/(\d+) requests in/.exec(output)?.[1]), output).to.be.greaterThan(1000)
    expect(output, 'no socket errors (resets) on keep-alive connections').to.not.include('Socket errors')
    expect(output, 'every answer 2xx or 3xx').to.not.include('Non-2xx or 3xx responses')
  })
})
