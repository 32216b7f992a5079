import {expect} from 'chai'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Inventory} from '../../src/inventory/schema.js'
import {formatVerdicts} from '../../src/probe/verdicts.js'
import {formatStatus} from '../../src/report/status.js'
import {proxyStatus} from '../../src/status/status.js'
import {smallInventory} from '../fixtures/inventories.js'

/** `relayctl show hosts` as relayd prints it (relayd.md §4.2), with the check scripts' verdicts. */
const SHOW_HOSTS = [
  'Id  \tType    \tName                    \tAvlblty\tStatus',
  '1   \ttable   \tweb:80                  \t       \tactive (1 hosts)',
  '1   \thost    \t10.0.0.2                \t100.00%\tup',
  '2   \ttable   \tprosody:5280            \t       \tactive (1 hosts)',
  '2   \thost    \t10.0.0.10               \t100.00%\tup',
  '3   \ttable   \tjicofo:8888             \t       \tactive (1 hosts)',
  '3   \thost    \t10.0.0.10               \t100.00%\tup',
  '4   \ttable   \tcolibri-jvb1:9090       \t       \tempty',
  '4   \thost    \t10.0.0.21               \t0.00%  \tdown',
  '    \t        \t                        \ttotal: 0/12 checks, error: script failed',
  '',
].join('\n')

describe('status relayd: the watcher and relayd side by side', () => {
  let dir: string
  let stateFile: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-status-watcher-'))
    stateFile = join(dir, 'probe-state.json')
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  const status = async (now: Date) => {
    const data = smallInventory()
    data.probe = {relaydChecks: true, stateFile}
    const relayctl = async (argv: readonly string[]) => ({code: 0, stderr: '', stdout: argv.join(' ') === 'relayctl show hosts' ? SHOW_HOSTS : ''})
    return proxyStatus({inventory: Inventory.parse(data), now: () => now, run: relayctl, target: 'relayd'})
  }

  it("shows the watcher's age, and each host where relayd and the state file disagree", async () => {
    const written = new Date('2026-11-28T10:00:00Z')
    const at = (key: string, state: 'down' | 'up') => ({changed: written.toISOString(), failures: state === 'up' ? 0 : 3, state, successes: state === 'up' ? 2 : 0})
    await writeFile(stateFile, JSON.stringify({backends: {'jicofo/shard1': at('jicofo/shard1', 'down'), 'jvb/shard1/jvb1': at('jvb/shard1/jvb1', 'up'), 'prosody/shard1': at('prosody/shard1', 'up'), 'web/web1': at('web/web1', 'up')}, version: 1}))
    await writeFile(join(dir, 'probe-state.txt'), formatVerdicts({expires: new Date(written.getTime() + 15_000), hosts: [], written}))

    const fresh = await status(new Date(written.getTime() + 4000))
    expect(fresh.watcher).to.deep.equal({ageMs: 4000, file: join(dir, 'probe-state.txt'), stale: false, writtenAt: written.toISOString()})
    const row = (key: string) => fresh.rows.find((r) => r.key === key)!
    expect(row('jicofo/shard1')).to.deep.include({agree: false, note: 'the proxy sends traffic, the probe finds it down', probe: 'down', proxy: 'up'})
    expect(row('jvb/shard1/jvb1')).to.deep.include({agree: false, note: 'the probe finds it up, the proxy keeps traffic away', probe: 'up', proxy: 'down (script failed)'})
    expect(row('prosody/shard1')).to.deep.include({agree: true})
    expect(formatStatus(fresh)).to.include('watcher: running, last round 4s ago')

    const stale = await status(new Date(written.getTime() + 60_000))
    expect(stale.watcher).to.deep.include({ageMs: 60_000, stale: true})
    expect(formatStatus(stale)).to.include("watcher: NOT RUNNING (last round 60s ago, stale): relayd's check scripts probe by themselves")
  })

  it('no verdicts file: the watcher never ran with this state file', async () => {
    const report = await status(new Date())
    expect(report.watcher).to.equal(null)
    expect(formatStatus(report)).to.include('watcher: no verdicts yet')
  })
})
