/**
 * Reload-gate benchmark: real HAProxy (master-worker) on loopback. For a room table of 10,000 and
 * 100,000 rooms: how long the gate's reads take before a reload (show peers + the table dump),
 * and how long after `reload` the new worker holds every room (reload to new worker, reload to
 * table complete). Then the built CLI's `jproxy apply haproxy` with a config change every run, on
 * an empty table (a single proxy's usual case) and on 10,000 rooms; with BASE_BIN=<a jproxy
 * bin/run.js built without the gate> the same runs of that one, for comparison.
 * Run: npm run build && node --import tsx bench/reload-gate.ts
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {reloadHaproxy} from '../src/apply/haproxy-reload.js'
import {awaitHandover, awaitReloadable, snapshotRooms} from '../src/apply/reload-gate.js'
import {Inventory} from '../src/inventory/schema.js'
import {runCommand} from '../src/system/command.js'
import {type Stage, startStage, withWeb2, writeInventory} from '../test/support/haproxy-stage.js'
import {fillRooms} from '../test/support/room-table.js'
import {BIN, measureNode, median} from './support/measure.js'

const RELOADS = 5
const APPLIES = 7
const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-reload-gate-'))
const stages: Stage[] = []
const ms = (values: number[]) => `median ${median(values).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`

try {
  console.log(`reload gate (HAProxy 2.6 master-worker, ${RELOADS} reloads per size, after the start-up resync):`)
  for (const rooms of [10_000, 100_000]) {
    const stage = await startStage(await mkdtemp(join(dir, `rooms-${rooms}-`)))
    stages.push(stage)
    const timeoutMs = Inventory.parse(stage.data).apply.reloadTimeout
    const filled = performance.now()
    await fillRooms(stage.socket, rooms, [1, 2, 3])
    const fillMs = performance.now() - filled
    const row = {dump: [] as number[], gate: [] as number[], held: [] as number[], lost: 0, toTable: [] as number[], toWorker: [] as number[]}
    for (let i = 0; i < RELOADS; i++) {
      // The first pass waits out HAProxy's start-up resync (5 s); the figures below are taken after it.
      const gateStarted = performance.now()
      const gate = await awaitReloadable(stage.socket, timeoutMs)
      if (!gate.ok) throw new Error(`gate: ${gate.problems.join('; ')}`)
      const gateMs = performance.now() - gateStarted
      const dumped = performance.now()
      const before = await snapshotRooms(stage.socket, timeoutMs)
      const dumpMs = performance.now() - dumped
      const reloaded = performance.now()
      const reload = await reloadHaproxy({masterSocket: stage.masterSocket, run: runCommand, statsSocket: stage.socket, timeoutMs})
      if (!reload.ok) throw new Error(reload.detail)
      const workerMs = performance.now() - reloaded
      const handover = await awaitHandover({before: before!, masterSocket: stage.masterSocket, statsSocket: stage.socket, timeoutMs, worker: reload.workerAfter})
      row.lost += handover.lost
      if (i === 0 && gate.waitedFor.length > 0) continue
      row.gate.push(gateMs)
      row.dump.push(dumpMs)
      row.toWorker.push(workerMs)
      row.toTable.push(performance.now() - reloaded)
      row.held.push(handover.held)
    }

    console.log(`  ${rooms.toLocaleString('en')} rooms (filled in ${fillMs.toFixed(0)} ms through the socket):`)
    console.log(`    gate reads before the reload (show peers + show table)  ${ms(row.gate)}`)
    console.log(`    table dump before the reload                            ${ms(row.dump)}`)
    console.log(`    reload to new worker (show proc)                        ${ms(row.toWorker)}`)
    console.log(`    reload to table complete in the new worker              ${ms(row.toTable)}; rooms lost: ${row.lost}`)
    await stage.haproxy.stop()
  }

  // The CLI, as an admin runs it: a config change (web2 in, web2 out) every run.
  const stage = await startStage(await mkdtemp(join(dir, 'apply-')))
  stages.push(stage)
  const files = [await writeInventory(stage, 'a', withWeb2(stage)), await writeInventory(stage, 'b', stage.data)]
  const bins: [string, string][] = [['this tree', BIN], ...(process.env.BASE_BIN ? [['BASE_BIN', process.env.BASE_BIN] as [string, string]] : [])]
  let applied = 0
  // The builds take turns, run by run, so that a busy spell on the machine falls on both.
  const measure = async (label: string) => {
    const runs = new Map(bins.map(([name]) => [name, [] as number[]]))
    for (let i = 0; i < APPLIES; i++) {
      for (const [name, bin] of bins) {
        const run = await measureNode([bin, 'apply', 'haproxy', '-i', files[applied++ % 2], '--ca', stage.pem])
        if (run.code !== 0) throw new Error(`${label} (${name}): exit ${run.code}: ${run.stdout}`)
        runs.get(name)!.push(run.wallMs)
      }
    }

    for (const [name, values] of runs) console.log(`  ${`${label}, ${name}`.padEnd(58)} ${ms(values)}`)
  }

  console.log(`apply, config changes every run (${APPLIES} runs each):`)
  // Past the start-up resync, so that neither build waits for it.
  await awaitReloadable(stage.socket, 30_000)
  await measure('empty room table')
  await fillRooms(stage.socket, 10_000, [1])
  await measure('10,000 rooms')
} finally {
  await Promise.all(stages.map(async (s) => {
    await s.haproxy.stop()
    await Promise.all([...s.backends.values()].map((b) => b.close()))
  }))
  await rm(dir, {force: true, recursive: true})
}
