import {readFile, rm} from 'node:fs/promises'
import {hostname, tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {createTwoFilesPatch} from 'diff'

import type {ExitCodeName} from '../errors.js'
import {bindKey, configBinds} from '../haproxy/binds.js'
import {type CheckMessage, runChecker} from '../haproxy/check.js'
import {checkCommandFor, localPeerProblem} from '../haproxy/local-peer.js'
import type {Inventory} from '../inventory/schema.js'
import {probeInventory} from '../probe/probe.js'
import {type CheckScriptRuntime, installRelaydCheckScripts} from '../probe/relayd-check-script.js'
import {defaultStateFile} from '../probe/state.js'
import {relaydNativeCheck} from '../relayd/native-check.js'
import {checkRendered} from '../render/check-rendered.js'
import {contextFor, includedText, type RenderContext} from '../render/context.js'
import {type InventorySource, placeInInventory} from '../render/origins.js'
import {placeInSnippets} from '../render/snippets.js'
import {renderTarget, TARGETS, type TargetName} from '../render/targets.js'
import {type CommandRunner, findOnPath} from '../system/command.js'
import {tryBind} from '../system/port.js'
import {LockBusyError, withFileLock} from '../system/file-lock.js'
import {atomicWrite, promote, writeSynced} from '../system/atomic-write.js'
import {ensurePrivateDir, writePrivate} from '../system/private-files.js'
import {sha256} from '../system/sha256.js'
import {backUp} from './backups.js'
import {type GateVerdict, healthGate} from './health-gate.js'
import {certificateProblems, type Preflight, reloadPreflight} from './haproxy-preflight.js'
import {reloadHaproxy, type ReloadOutcome} from './haproxy-reload.js'
import {missingFromProxy, saveServerState} from './haproxy-verify.js'
import {awaitHandover, awaitReloadable, handoverDetail, type ReloadGate, snapshotRooms, type TableHandover} from './reload-gate.js'
import {type Finish, type Finished, finisher, type Rollback} from './outcome.js'
import {type ApplyPaths, applyPaths} from './paths.js'
import {appendHistory, type Counters, updateCounters} from './record.js'
import {reloadRelayd, runningSessions} from './relayd-reload.js'

/** The pipeline's steps, in order; `onStage` hears each as it starts (tests kill the run there). */
export const STAGES = ['lock', 'render', 'check', 'gate', 'diff', 'backup', 'install', 'reload', 'verify', 'rollback'] as const
export type Stage = (typeof STAGES)[number]

export type ApplyOutcome = 'applied' | 'busy' | 'check-failed' | 'dry-run' | 'no-rollback' | 'refused' | 'rollback-failed' | 'rolled-back' | 'runtime-failed' | 'unchanged'

const EXIT: Record<ApplyOutcome, ExitCodeName> = {
  applied: 'ok',
  busy: 'busy',
  'check-failed': 'checkFailed',
  'dry-run': 'ok',
  'no-rollback': 'noRollback',
  refused: 'refused',
  'rollback-failed': 'rollbackFailed',
  'rolled-back': 'rolledBack',
  'runtime-failed': 'runtimeFailed',
  unchanged: 'ok',
}

export interface ApplyReport extends Finished<ApplyOutcome> {
  backup?: string
  changed: boolean
  check?: {command: string[]; messages: CheckMessage[]; ok: boolean}
  counters?: Counters
  diff?: string
  gate?: GateVerdict
  live: string
  /** HAProxy: whether the reload would be possible (master CLI or reload command, ports, certificate). */
  preflight?: Preflight
  reload?: ReloadOutcome
  rollback?: Rollback & {reload?: ReloadOutcome}
  /** HAProxy: the room table across the reload (src/apply/reload-gate.ts): the gate before it, the new worker's table after it. */
  roomTable?: {gate: ReloadGate; handover?: TableHandover}
  /** relayd: sessions a reload cuts. */
  sessions?: number
  sha256: string
  target: TargetName
  verify?: {problems: string[]}
  warnings: string[]
}

export interface ApplyOptions {
  /** relayd with probe.relaydChecks: how the installed check scripts reach jproxy when the watcher's state is stale. */
  checkScripts?: CheckScriptRuntime
  /** Platform and snippet texts; read from the inventory's snippet files when not given. */
  context?: RenderContext
  dryRun?: boolean
  /** This host's name (default os.hostname()): HAProxy's local peer name unless targets.haproxy.localPeer sets one. */
  hostname?: string
  /**
   * Install although the health gate, the session guard or the room-table gate refuses, and keep
   * a config whose reload lost rooms, each with a loud warning.
   */
  force?: boolean
  inventory: Inventory
  /** The inventory's file and lines, so that a checker's alert can name the field's line rather than the staged file's. */
  inventorySource?: InventorySource
  /** relayd: refuse when a reload would cut more sessions than this. */
  maxSessions?: number
  now?: () => Date
  onStage?: (stage: Stage) => Promise<void> | void
  run: CommandRunner
  /**
   * A change the proxy's runtime API makes instead of a reload (HAProxy `add server`, …): `apply`
   * runs before the file is installed, returns what it did, and leaves nothing half done when it
   * throws; `undo` reverses a change that went in, if verifying it fails, and throws when it
   * could not (each reads its change back where the runtime API can show it).
   */
  runtime?: {apply(): Promise<string>; undo(): Promise<void>}
  target: TargetName
  /** Extra CA for the end-to-end request through the proxy (a private CA). */
  tlsCa?: string
}

const readText = (path: string) => readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)))

/**
 * `jproxy apply`: render → check the staged file → health gate → diff → back up → install
 * atomically → reload → verify, and on any failure after the install, restore the
 * last-known-good config, reload and verify that. One run per target at a time (the lock is
 * taken first, so two runs never stage over each other). Every run ends in one history line.
 */
export async function applyTarget(options: ApplyOptions): Promise<ApplyReport> {
  const started = performance.now()
  const now = options.now ?? (() => new Date())
  const paths = applyPaths(options.inventory, options.target)
  const context = options.context ?? (await contextFor(options.inventory, options.target))
  const config = renderTarget(options.inventory, options.target, context)
  const base = {changed: false, live: paths.live, sha256: sha256(config), target: options.target, warnings: [] as string[]}
  const finish = finisher<ApplyOutcome, ApplyReport>(EXIT, base, started)

  let report: ApplyReport
  if (options.dryRun) {
    report = await pipeline({...options, context}, paths, config, finish, base.warnings)
  } else {
    await ensurePrivateDir(dirname(paths.lock))
    await options.onStage?.('lock')
    try {
      report = await withFileLock(paths.lock, {waitMs: options.inventory.apply.lockWait}, () => pipeline({...options, context}, paths, config, finish, base.warnings))
    } catch (error) {
      if (!(error instanceof LockBusyError)) throw error
      report = finish('busy', `another apply of ${options.target} is running (${error.holder || 'holder unknown'}); waited ${options.inventory.apply.lockWait} ms`)
    }
  }

  if (!options.dryRun && report.outcome !== 'busy') {
    const reloads = (report.reload && report.reload.method !== 'runtime API' ? 1 : 0) + (report.rollback?.reload ? 1 : 0)
    const at = now()
    report.counters = await updateCounters(paths.counters, {at, reloads, success: report.exitCode === 0})
    await appendHistory(paths.history, {at: at.toISOString(), changed: report.changed, durationMs: report.durationMs, exitCode: report.exitCode, message: report.message, outcome: report.outcome, reloads, sha256: report.sha256, target: report.target})
  }

  return report
}

type ApplyFinish = Finish<ApplyOutcome, ApplyReport>

async function pipeline(options: ApplyOptions, paths: ApplyPaths, config: string, finish: ApplyFinish, warnings: string[]): Promise<ApplyReport> {
  const {inventory, target} = options
  const stage = async (name: Stage) => options.onStage?.(name)

  // 1. Render into a staged file beside the live one (a dry run stages in the temp folder: it may run unprivileged).
  await stage('render')
  const lintFindings = checkRendered(target, config, paths.live, options.context && includedText(options.context))
  warnings.push(...lintFindings.map((d) => `${d.file}:${d.line}: ${d.message}`))
  if (target === 'haproxy') {
    const problem = localPeerProblem(inventory, options.hostname ?? hostname())
    if (problem) return finish('refused', `${problem}; the live file is untouched`)
    // Named by the inventory's field here, rather than by a staged file's line in haproxy -c's alert.
    const certificates = await certificateProblems(inventory)
    warnings.push(...certificates.warnings)
    if (certificates.problems.length > 0) return finish('refused', `${certificates.problems.join('; ')}; the live file is untouched`, {preflight: certificates})
  }

  const staged = options.dryRun ? join(tmpdir(), `jproxy-dry-run-${process.pid}-${basename(paths.live)}`) : paths.staged
  await writeSynced(staged, config)
  try {
    // 2. The daemon's own checker, on the staged file.
    await stage('check')
    const check = await nativeCheck(options, staged, config)
    if (!check.ok) return finish('check-failed', `the ${target} checker refused the new config; the live file is untouched`, {check})

    // 3. Health gate, on the probes' damped states.
    await stage('gate')
    const probes = await probeInventory({filter: {roles: ['web', 'prosody', 'jicofo', 'jvb']}, inventory, stateFile: inventory.probe.stateFile ?? defaultStateFile()})
    const gate = healthGate(inventory, probes)
    warnings.push(...probes.warnings, ...gate.warnings)
    const refusal = `the health gate refused the config (${gate.problems.length} required pool(s) without a member up)`
    // A dry run goes on to the diff: the admin sees what would change and that the gate would refuse it.
    if (!gate.ok && !options.force && !options.dryRun) return finish('refused', `${refusal}; the live file is untouched (--force installs anyway)`, {check, gate})
    if (!gate.ok && options.force) warnings.push(`FORCED past the health gate: ${gate.problems.join('; ')}`)

    // The check scripts the config names go in first (idempotent: unchanged ones are left alone).
    if (target === 'relayd' && inventory.probe.relaydChecks && options.checkScripts && !options.dryRun) {
      const installed = await installRelaydCheckScripts(inventory, options.checkScripts)
      if (installed.length > 0) warnings.push(`installed relayd check script(s): ${installed.join(', ')}`)
    }

    // 4. Diff against the live file. A run that died after installing left `pending`: prove that config now.
    await stage('diff')
    const live = await readText(paths.live)
    const pending = await readText(paths.pending)
    const changed = live !== config
    const diff = changed ? createTwoFilesPatch(paths.live, `${paths.live} (new)`, live ?? '', config, undefined, undefined, {context: 3}) : ''
    const saved = await readText(paths.lkg)
    // A reload is coming (unless the runtime API makes the change): prove it can happen before anything is installed.
    if (target === 'haproxy' && !options.runtime && (changed || pending !== undefined)) {
      const preflight = await reloadPreflight(inventory, paths.live, config, [live, saved], localPeerName(options))
      warnings.push(...preflight.warnings)
      if (preflight.problems.length > 0) {
        return finish('refused', `the reload would fail: ${preflight.problems.join('; ')}; nothing was installed${options.dryRun ? ' (--dry-run)' : ''}`, {changed, check, diff, gate, preflight})
      }
    }

    if (options.dryRun && !gate.ok && !options.force) {
      return finish('refused', `${refusal}, so applying would stop here; ${changed ? `the new config differs from ${paths.live}` : `${paths.live} is up to date`} (--dry-run)`, {changed, check, diff, gate})
    }

    if (options.dryRun) return finish('dry-run', changed ? `${target}: the new config differs from ${paths.live}; nothing was installed (--dry-run)` : `${target}: ${paths.live} is up to date`, {changed, check, diff, gate})
    if (!changed && pending === undefined) return finish('unchanged', `${paths.live} is up to date; no reload`, {check, gate})

    let sessions: number | undefined
    if (target === 'relayd') {
      sessions = await runningSessions(options.run)
      warnings.push(`a relayd reload cuts every open session: ${sessions} now`)
      if (options.maxSessions !== undefined && sessions > options.maxSessions && !options.force) {
        return finish('refused', `relayd has ${sessions} sessions open, over --max-sessions ${options.maxSessions}; a reload would cut them all`, {changed, check, diff, gate, sessions})
      }
    }

    // A reload now must not lose the room table: wait for HAProxy's resyncs and the remote peers, then refuse.
    const roomTable = target === 'haproxy' && !options.runtime ? await roomTableGate(options, warnings) : undefined
    if (roomTable && !roomTable.gate.ok) {
      const why = `${roomTable.gate.problems.join('; ')}; waited ${roomTable.gate.waitedMs} ms (apply.reloadTimeout)`
      if (!options.force) return finish('refused', `a reload now would lose rooms: ${why}; nothing was installed (--force reloads anyway; a peer gone for good is removed from proxy.peers)`, {changed, check, diff, gate, roomTable})
      warnings.push(`FORCED past the room-table gate: ${why}`)
    }

    // 5-6. (Locked since the start.) Back up what is live now.
    await stage('backup')
    const backup = await backUp(paths.live, live, paths.backups, inventory.apply.backups, options.now?.() ?? new Date())
    const fallback = saved === undefined ? {name: 'the previous live config', text: live} : {name: paths.lkg, text: saved}

    // A change the runtime API can make goes in before the file, so a refusal leaves both as they were.
    let runtime: ReloadOutcome | undefined
    if (options.runtime) {
      try {
        runtime = {detail: await options.runtime.apply(), method: 'runtime API', ok: true}
      } catch (error) {
        return finish('runtime-failed', `the runtime API refused the change (${(error as Error).message}); the live file is untouched`, {changed, check, diff, gate})
      }
    }

    // 7. Install: the checked staged file itself is renamed over the live one.
    await stage('install')
    await writePrivate(paths.pending, `${sha256(config)}\n`)
    await promote(staged, paths.live)

    // 8-9. Reload (unless the runtime API made the change) and verify.
    await stage('reload')
    // The old worker's rooms, just before it hands them over.
    const rooms = roomTable && !roomTable.gate.skipped ? await snapshotRooms(inventory.targets.haproxy.socket, inventory.apply.reloadTimeout) : undefined
    const reload = runtime ?? (await reloadTarget(options, config, warnings))
    if (!reload.ok && target === 'haproxy' && !reload.reasons?.length) reload.reasons = await bindTrouble(config, live, localPeerName(options))
    // HAProxy's own reason goes first, in plain words; jproxy's account of the run follows.
    const said = reload.reasons?.length ? `${reload.reasons.join('; ')}: ` : ''
    await stage('verify')
    let lostRooms: string | undefined
    if (roomTable && rooms && rooms.used > 0 && reload.ok) {
      const {masterSocket, socket} = inventory.targets.haproxy
      roomTable.handover = await awaitHandover({before: rooms, masterSocket: reload.method === 'master CLI' ? masterSocket : undefined, statsSocket: socket, timeoutMs: inventory.apply.reloadTimeout, worker: reload.workerAfter})
      if (!roomTable.handover.ok && options.force) warnings.push(`FORCED: ${handoverDetail(roomTable.handover)}; the new config stays`)
      else if (!roomTable.handover.ok) lostRooms = handoverDetail(roomTable.handover)
    } else if (roomTable && !roomTable.gate.skipped && !rooms && reload.ok) warnings.push('the room table could not be read before the reload: its handover to the new worker is not checked')

    const verified = reload.ok ? await verifyTarget(options, config, options.inventory, reload.workerAfter) : {problems: [`reload failed: ${reload.detail}`], untrusted: []}
    const verify = {problems: lostRooms ? [lostRooms, ...verified.problems] : verified.problems}
    const extra = {backup, changed: true, check, diff, gate, reload, roomTable, sessions, verify}
    // A reload that only lost rooms did not fail for its config: the message says what failed.
    const whatFailed = lostRooms && verified.problems.length === 0 ? 'the reload' : 'the new config'
    if (verify.problems.length === 0) {
      await writePrivate(paths.lkg, config)
      await rm(paths.pending, {force: true})
      return finish('applied', `${paths.live} installed; ${reload.detail}; verified`, extra)
    }

    // 10. Roll back. A runtime change is undone and the file it replaced (which the running proxy
    // then matches again) put back; otherwise the last-known-good config (or, before the first
    // success, what was live) is restored and reloaded.
    await stage('rollback')
    if (options.runtime && live !== undefined) {
      await atomicWrite(paths.live, live)
      const failed = `the change went in at run time but did not verify (${verify.problems.join('; ')})`
      const undone = await options.runtime.undo().then(
        () => undefined,
        (error: Error) => error.message,
      )
      const check = undone === undefined ? await verifyTarget(options, live, servingInventory(inventory, live)) : undefined
      // The runtime API changes no certificate: a request the change's check could not make for
      // want of the proxy's CA fails the same way after the undo, which says nothing about the undo.
      const untrusted = verified.untrusted.length > 0 ? (check?.untrusted ?? []) : []
      const problems = check ? check.problems.filter((p) => !untrusted.includes(p)) : [`undo: ${undone}`]
      const rollback = {problems, restored: 'the previous live config', verified: problems.length === 0}
      const notBack = check ? `the undo did not verify (${problems.join('; ')})` : `undoing it failed (${undone})`
      if (problems.length > 0) return finish('rollback-failed', `${failed}, and ${notBack}`, {...extra, rollback})
      await rm(paths.pending, {force: true})
      const proof =
        untrusted.length > 0 ? 'verified through the runtime API (a request through the proxy cannot check the undo either without its CA)' : 'verified'
      return finish('rolled-back', `${failed}; it was undone at run time and the previous live config restored, ${proof}`, {...extra, rollback})
    }

    if (fallback.text === undefined) return finish('no-rollback', `${said}${whatFailed} failed (${verify.problems.join('; ')}) and there is nothing to roll back to: no earlier config was live; it stays installed, unverified`, extra)
    await atomicWrite(paths.live, fallback.text)
    const again = await reloadTarget(options, fallback.text, warnings)
    // The restored config is proven on the addresses and ports it binds itself, not the rejected inventory's.
    const problems = again.ok ? (await verifyTarget(options, fallback.text, servingInventory(inventory, fallback.text), again.workerAfter)).problems : [`reload failed: ${again.detail}`]
    const rollback = {problems, reload: again, restored: fallback.name, verified: problems.length === 0}
    if (problems.length > 0) return finish('rollback-failed', `${said}${whatFailed} failed (${verify.problems.join('; ')}), and so did the rollback (${problems.join('; ')})`, {...extra, rollback})
    await rm(paths.pending, {force: true})
    return finish('rolled-back', `${said}${whatFailed} failed (${verify.problems.join('; ')}); ${rollback.restored} restored, reloaded and verified`, {...extra, rollback})
  } finally {
    await rm(staged, {force: true})
  }
}

async function nativeCheck(options: ApplyOptions, staged: string, config: string): Promise<{command: string[]; messages: CheckMessage[]; ok: boolean}> {
  const {check} = options.inventory.targets[options.target]
  if (options.target === 'relayd' && check === undefined) {
    // relayd exists only on OpenBSD; jproxy's own linter (run on render) stands in elsewhere.
    const binary = findOnPath('relayd')
    if (!binary) return {command: [], messages: [{level: 'warning', message: 'relayd is not installed here: only jproxy\'s linter checked the file'}], ok: true}
    const verdict = await relaydNativeCheck(binary, staged, options.run)
    return {command: verdict.command, messages: verdict.findings.map((f) => ({file: f.file, level: f.severity === 'error' ? 'alert' : 'warning', line: f.line, message: f.message})), ok: verdict.ok}
  }

  const argv = check ?? TARGETS[options.target].defaultCheck
  const verdict = await runChecker(options.target === 'haproxy' ? checkCommandFor(argv, options.inventory, options.hostname ?? hostname()) : argv, staged, options.run)
  const messages = placeInSnippets(verdict.messages.filter((m) => m.level !== 'notice'), config, staged)
  return {command: verdict.command, messages: placeInInventory(messages, config, staged, options.inventory, options.inventorySource), ok: verdict.ok}
}

async function reloadTarget(options: ApplyOptions, config: string, warnings: string[]): Promise<ReloadOutcome> {
  const {apply, targets} = options.inventory
  if (options.target === 'relayd') return reloadRelayd(config, {reload: targets.relayd.reload, run: options.run, timeoutMs: apply.reloadTimeout})
  const haproxy = targets.haproxy
  // The new worker reads servers' health and admin states (drain, maint) back from this file.
  await saveServerState(haproxy.socket, haproxy.stateFile).catch((error: Error) => warnings.push(`server states not saved before the reload (${error.message}): servers start as the new config says`))
  return reloadHaproxy({masterSocket: haproxy.masterSocket, reload: haproxy.reload, run: options.run, statsSocket: haproxy.socket, timeoutMs: apply.reloadTimeout})
}

/**
 * Before a HAProxy reload: the room-table gate (reload-gate.ts), within apply.reloadTimeout. A
 * stats socket that does not answer skips it with a warning, as before the gate existed.
 */
async function roomTableGate(options: ApplyOptions, warnings: string[]): Promise<{gate: ReloadGate; handover?: TableHandover}> {
  const gate = await awaitReloadable(options.inventory.targets.haproxy.socket, options.inventory.apply.reloadTimeout)
  if (gate.skipped) warnings.push(`room-table gate skipped: ${gate.skipped}`)
  return {gate}
}

/** The name HAProxy binds its local peer under: targets.haproxy.localPeer, else `-L` with this host's name. */
const localPeerName = (options: ApplyOptions) => options.inventory.targets.haproxy.localPeer ?? options.hostname ?? hostname()

/**
 * HAProxy 2.6's master CLI counts a failed reload but keeps its start-up messages to itself, so
 * the usual cause is found again the way HAProxy met it: binding the new config's ports that the
 * running config (`live`) did not hold. Worded as HAProxy words it, after the plain words.
 */
async function bindTrouble(config: string, live: string | undefined, localPeer: string): Promise<string[]> {
  const own = new Set(live === undefined ? [] : configBinds(live, localPeer).map(bindKey))
  const reasons: string[] = []
  for (const bind of configBinds(config, localPeer).filter((b) => !own.has(bindKey(b)))) {
    if ((await tryBind(bind.address, bind.port)) !== 'in-use') continue
    reasons.push(`port ${bind.port} on ${bind.address} is in use by another process (HAProxy: cannot bind socket (Address already in use) for [${bindKey(bind)}])`)
  }

  return reasons
}

/**
 * The inventory as a restored config serves it: its own TLS listeners' addresses and port (the
 * rejected inventory may have moved them), everything else as given.
 */
function servingInventory(inventory: Inventory, config: string): Inventory {
  const tls = configBinds(config).filter((b) => b.ssl)
  if (tls.length === 0) return inventory
  const ipv4 = tls.find((b) => !b.address.includes(':'))?.address
  const ipv6 = tls.find((b) => b.address.includes(':'))?.address
  return {...inventory, proxy: {...inventory.proxy, listen: {...inventory.proxy.listen, httpsPort: tls[0].port, ipv4: ipv4 ?? inventory.proxy.listen.ipv4, ipv6}}}
}

/** What a check of the running proxy found wrong or could not prove. */
interface Verification {
  problems: string[]
  /** Those of `problems` that are requests through the proxy failing only because this run does not trust its CA. */
  untrusted: string[]
}

/**
 * After a reload or a runtime change: the proxy's own view holds every backend and server, and a
 * request through it succeeds, trusting `--ca`, else proxy.tls.ca, else the system's CAs (the one
 * rule of proxyCaPem, applied by probeInventory).
 */
async function verifyTarget(options: ApplyOptions, config: string, inventory: Inventory = options.inventory, worker?: number): Promise<Verification> {
  const problems: string[] = []
  const untrusted: string[] = []
  if (options.target === 'haproxy') {
    const missing = await missingFromProxy(inventory.targets.haproxy.socket, config, worker, inventory.apply.reloadTimeout).catch((error: Error) => [`stats socket: ${error.message}`])
    if (missing.length > 0) problems.push(`HAProxy lacks ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? `, … (${missing.length})` : ''}`)
  }

  const through = await probeInventory({filter: {roles: ['proxy']}, inventory: {...inventory, probe: {...inventory.probe, proxy: true}}, stateFile: null, tlsCa: options.tlsCa})
  for (const b of through.backends.filter((b) => b.health !== 'up')) {
    const problem = `request through the proxy at ${b.address} failed: ${b.reason}`
    problems.push(problem)
    if (b.checks.length > 0 && b.checks.every((c) => c.ok || c.untrustedCa)) untrusted.push(problem)
  }

  return {problems, untrusted}
}
