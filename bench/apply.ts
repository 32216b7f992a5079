/**
 * apply benchmark: the built CLI against real HAProxy (master-worker) on loopback, as an admin
 * or cron runs it. Prints wall time and peak RSS of `jproxy apply haproxy` when nothing changed
 * (render, haproxy -c, health probes, diff) and when every run changes the config (plus backup,
 * install, reload through the master CLI and verification), of `jproxy status`, of `scale
 * add-jvb` + `remove-jvb` and of `scale drain-shard` + `undrain-shard` at run time (no reload), and of the comment-keeping inventory edit on
 * an inventory of 1,000 bridges.
 * Run: npm run build && node --import tsx bench/apply.ts
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {readFile, writeFile} from 'node:fs/promises'
import {stringify} from 'yaml'

import {addJvb, removeJvb} from '../src/inventory/edit.js'
import {startStage, withWeb2, writeInventory} from '../test/support/haproxy-stage.js'
import {startFakeJitsi} from '../test/support/fake-jitsi.js'
import {startBackend} from '../test/support/loopback-backends.js'
import {measureCli, median} from './support/measure.js'

const RUNS = 7
const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-apply-'))
const stage = await startStage(dir)
try {
  const files = [await writeInventory(stage, 'a', withWeb2(stage)), await writeInventory(stage, 'b', stage.data)]
  const measure = async (label: string, args: (i: number) => string[]) => {
    const runs = []
    for (let i = 0; i < RUNS; i++) {
      const run = await measureCli(args(i))
      if (run.code !== 0) throw new Error(`${label}: exit ${run.code}`)
      runs.push(run)
    }

    console.log(`${label.padEnd(56)} median ${median(runs.map((r) => r.wallMs)).toFixed(0)} ms, max ${Math.max(...runs.map((r) => r.wallMs)).toFixed(0)} ms, peak RSS ${Math.max(...runs.map((r) => r.maxRssMiB)).toFixed(0)} MiB`)
  }

  console.log(`apply (${RUNS} runs each, HAProxy 2.6 master-worker, 6 loopback backends):`)
  await measure('apply, config changes every run (reload)', (i) => ['apply', 'haproxy', '-i', files[i % 2], '--ca', stage.pem])
  await measure('apply, nothing changed (no reload)', () => ['apply', 'haproxy', '-i', files[0], '--ca', stage.pem])
  await measure('status', () => ['status', 'haproxy', '-i', files[0]])

  // Runtime scale: add then remove the same bridge, alternately, through the CLI.
  const rest = await startFakeJitsi()
  const colibri = await startBackend('jvb4-colibri', [])
  const scaleFile = await writeInventory(stage, 'scale', withWeb2(stage))
  await measureCli(['apply', 'haproxy', '-i', scaleFile, '--ca', stage.pem])
  await measure('scale add-jvb / remove-jvb, alternately (no reload)', (i) =>
    i % 2 === 0
      ? ['scale', 'add-jvb', 'jvb4', '--address', '127.0.0.1', '--rest-port', String(rest.port), '--colibri-port', String(colibri.port), '--target', 'haproxy', '-i', scaleFile, '--ca', stage.pem]
      : ['scale', 'remove-jvb', 'jvb4', '--target', 'haproxy', '-i', scaleFile, '--ca', stage.pem],
  )
  await Promise.all([rest.close(), colibri.close()])

  // Shard drain at run time: a second shard, then drain-shard / undrain-shard alternately (no reload).
  const prosody2 = await startBackend('prosody2', [])
  const jicofo2 = await startFakeJitsi()
  const shardData = withWeb2(stage)
  shardData.shards.push({jicofo: {address: '127.0.0.1', port: jicofo2.port}, name: 's2', prosody: {address: '127.0.0.1', port: prosody2.port}})
  const shardFile = await writeInventory(stage, 'shards', shardData)
  await measureCli(['apply', 'haproxy', '-i', shardFile, '--ca', stage.pem])
  await measure('scale drain-shard / undrain-shard, alternately', (i) =>
    i % 2 === 0 ? ['scale', 'drain-shard', 's2', '--target', 'haproxy', '-i', shardFile, '--ca', stage.pem] : ['scale', 'undrain-shard', 's2', '--target', 'haproxy', '-i', shardFile, '--ca', stage.pem],
  )
  await measure('scale drain-shard --wait (jicofo empty) / undrain', (i) =>
    i % 2 === 0 ? ['scale', 'drain-shard', 's2', '--wait', '--interval', '1s', '--target', 'haproxy', '-i', shardFile, '--ca', stage.pem] : ['scale', 'undrain-shard', 's2', '--target', 'haproxy', '-i', shardFile, '--ca', stage.pem],
  )
  await Promise.all([prosody2.close(), jicofo2.close()])

  // The inventory edit alone, on a big inventory with a comment on every bridge.
  const big = stringify({
    domain: 'meet.example.org',
    proxy: {listen: {ipv4: '192.0.2.10'}, tls: {certificate: '/etc/ssl/a.pem', key: '/etc/ssl/a.pem'}},
    shards: Array.from({length: 10}, (_, s) => ({jvbs: Array.from({length: 100}, (_, j) => ({address: `10.${s}.${Math.floor(j / 250)}.${(j % 250) + 1}`, id: `s${s}-jvb${j}`})), name: `s${s}`, prosody: {address: `10.${s}.255.1`}})),
    web: [{address: '10.255.0.2', name: 'web1'}],
  }).replaceAll(/^(\s+- id: \S+)$/gm, '$1   # a comment the edit must keep')
  const bigFile = `${dir}/big.yaml`
  await writeFile(bigFile, big)
  const text = await readFile(bigFile, 'utf8')
  const started = performance.now()
  const heap = process.memoryUsage().heapUsed
  const added = addJvb(text, {address: '10.9.9.9', id: 'new-jvb'}, 's4')
  const back = removeJvb(added.text, 'new-jvb')
  const editMs = performance.now() - started
  if (back.text !== text) throw new Error('add then remove did not give the file back')
  console.log(`${'inventory edit, 1,000 bridges: add + remove (validated)'.padEnd(56)} ${editMs.toFixed(0)} ms, heap +${((process.memoryUsage().heapUsed - heap) / 1048576).toFixed(0)} MiB, ${text.length} bytes, round trip exact`)
} finally {
  await stage.haproxy.stop()
  await Promise.all([...stage.backends.values()].map((b) => b.close()))
  await rm(dir, {force: true, recursive: true})
}
