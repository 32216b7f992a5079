/**
 * Start-up benchmark: each hot command of the built CLI (bin/run.js, as `npm link` installs it)
 * against `node -e 0`, interleaved round by round on every Node the benches compare (the running
 * one and Node 24, see support/nodes.ts). Before every round the inventories are edited (the
 * domain changes, and the output must show it), so no cache of an inventory or of an output can
 * meet the goals. Prints per command the median wall time, the median and range of the per-round
 * ratio to `node -e 0` and the median peak RSS (from /usr/bin/time) with its ratio.
 * Goals: gen haproxy, gen relayd, validate config, lint relayd at most 2.5x; --version and --help
 * at most 2x; probe --host (relayd's fallback check, issue 15) at most 1.5x; peak RSS at most 1.5x.
 * Run: npm run build && node --import tsx bench/start.ts   (BENCH_ROUNDS=N, BENCH_NODES=path,path, BENCH_BIN=...)
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {BIN, median} from './support/measure.js'
import {benchNodes} from './support/nodes.js'

/** Another build's bin/run.js (BENCH_BIN) to measure it with the same rounds, e.g. the code before a change. */
const BIN_UNDER_TEST = process.env.BENCH_BIN ?? BIN
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const TIME = '/usr/bin/time'
const EXAMPLES = new URL('../examples/', import.meta.url)

interface Command {
  args: (round: number) => string[]
  /** What the output must contain (the round's edit, for commands that read the inventory). */
  expect?: (round: number) => string
  goal?: number
  label: string
}

const dir = mkdtempSync(join(tmpdir(), 'jproxy-bench-start-'))
const twoShards = join(dir, 'two-shards.yaml')
const singleHost = join(dir, 'single-host-vmm.yaml')
const relaydConf = join(dir, 'relayd.conf')
const domain = (round: number) => `meet-r${round}.example.org`

/** The shipped examples with this round's domain, and a relayd.conf rendered from it to lint. */
function editInventories(round: number): void {
  for (const [name, file] of [['two-shards.yaml', twoShards], ['single-host-vmm.yaml', singleHost]]) {
    const text = readFileSync(new URL(name, EXAMPLES), 'utf8')
    writeFileSync(file, text.replace(/^domain: .*$/m, `domain: ${domain(round)}`) + `# bench round ${round}\n`)
  }

  const rendered = spawnSync(process.execPath, [BIN, 'gen', 'relayd', '-i', singleHost], {encoding: 'utf8', env: {...process.env, JPROXY_CACHE_DIR: dir}})
  if (rendered.status !== 0) throw new Error(`gen relayd exited ${rendered.status}: ${rendered.stderr}`)
  writeFileSync(relaydConf, rendered.stdout)
}

const COMMANDS: Command[] = [
  {args: () => ['-e', '0'], label: 'node -e 0'},
  {args: () => [BIN_UNDER_TEST, '--version'], expect: () => 'jproxy/', goal: 2, label: 'jproxy --version'},
  {args: () => [BIN_UNDER_TEST, '--help'], expect: () => 'USAGE', goal: 2, label: 'jproxy --help'},
  {args: () => [BIN_UNDER_TEST, 'gen', 'haproxy', '-i', twoShards], expect: domain, goal: 2.5, label: 'jproxy gen haproxy'},
  {args: () => [BIN_UNDER_TEST, 'gen', 'relayd', '-i', singleHost], expect: domain, goal: 2.5, label: 'jproxy gen relayd'},
  {args: () => [BIN_UNDER_TEST, 'validate', 'config', '-i', twoShards], expect: () => 'valid', goal: 2.5, label: 'jproxy validate config'},
  {args: () => [BIN_UNDER_TEST, 'lint', 'relayd', relaydConf], expect: () => '0 error(s)', goal: 2.5, label: 'jproxy lint relayd'},
  // relayd's fallback check (issue 15's goal, 1.5x): a plan-cache hit, since gen above loaded the same inventory.
  {args: () => [BIN_UNDER_TEST, 'probe', '--host', '192.0.2.99', '-i', twoShards], expect: () => 'no backend at 192.0.2.99', goal: 1.5, label: 'jproxy probe --host'},
]

interface Sample {
  /** User plus system CPU time: steadier than wall time on a shared machine. */
  cpuMs: number
  ms: number
  rssMiB: number
}

/** One process under /usr/bin/time: wall time from spawn to exit, CPU time and peak RSS. */
function run(node: string, command: Command, round: number): Sample {
  const rssFile = join(dir, 'rss')
  const started = performance.now()
  const child = spawnSync(TIME, ['-f', '%M %U %S', '-o', rssFile, node, ...command.args(round)], {encoding: 'utf8', env: {...process.env, JPROXY_CACHE_DIR: dir}})
  const ms = performance.now() - started
  if (child.error) throw child.error
  const output = child.stdout + child.stderr
  if (child.status !== 0 || (command.expect && !output.includes(command.expect(round)))) {
    throw new Error(`${command.label} (${node}) exited ${child.status} without the expected output: ${output.slice(0, 2000)}`)
  }

  const [maxRssKiB, user, system] = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
  return {cpuMs: (user + system) * 1000, ms, rssMiB: maxRssKiB / 1024}
}

const nodes = benchNodes()
const samples = nodes.map(() => COMMANDS.map((): Sample[] => []))
try {
  // Round 0 warms the disk and compile caches and is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    editInventories(round)
    for (const [n, node] of nodes.entries()) {
      for (const [c, command] of COMMANDS.entries()) {
        const sample = run(node.path, command, round)
        if (round > 0) samples[n][c].push(sample)
      }
    }
  }
} finally {
  rmSync(dir, {force: true, recursive: true})
}

const fixed = (value: number, digits = 1) => value.toFixed(digits)
console.log(`start-up of ${BIN_UNDER_TEST}: ${ROUNDS} interleaved rounds (inventories edited before each), ratios to node -e 0 in the same round`)
console.log('ratio: median of the per-round wall-time ratios; CPU x: median user+sys time over node -e 0\'s (10 ms steps)')
for (const [n, node] of nodes.entries()) {
  const [baseline] = samples[n]
  const baseRss = median(baseline.map((s) => s.rssMiB))
  console.log(`\n${node.label}`)
  console.log(`${'command'.padEnd(24)} ${'median ms'.padStart(9)}  ${'ratio'.padStart(5)}  ${'range'.padEnd(11)}  ${'CPU x'.padStart(5)}  ${'RSS MiB'.padStart(7)}  ${'RSS x'.padStart(5)}  goal`)
  for (const [c, command] of COMMANDS.entries()) {
    const own = samples[n][c]
    const ratios = own.map((s, i) => s.ms / baseline[i].ms)
    const ratio = median(ratios)
    const rss = median(own.map((s) => s.rssMiB))
    const cpu = median(own.map((s) => s.cpuMs)) / median(baseline.map((s) => s.cpuMs))
    const goal = command.goal === undefined ? '' : `<= ${command.goal}x, RSS <= 1.5x: ${ratio <= command.goal && rss / baseRss <= 1.5 ? 'met' : 'missed'}`
    const range = `${fixed(Math.min(...ratios), 2)}-${fixed(Math.max(...ratios), 2)}`
    console.log(`${command.label.padEnd(24)} ${fixed(median(own.map((s) => s.ms))).padStart(9)}  ${fixed(ratio, 2).padStart(5)}  ${range.padEnd(11)}  ${fixed(cpu, 2).padStart(5)}  ${fixed(rss).padStart(7)}  ${fixed(rss / baseRss, 2).padStart(5)}  ${goal}`)
  }
}
