import {createHash, X509Certificate} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {type Finish, type Finished, finisher, type ProxyChange, type Rollback} from '../apply/outcome.js'
import {applyPaths, defaultApplyDir} from '../apply/paths.js'
import {appendHistory} from '../apply/record.js'
import {reloadRelayd, runningSessions} from '../apply/relayd-reload.js'
import {type ExitCodeName, JproxyError} from '../errors.js'
import {type HaproxyCli, swapCertificate} from '../haproxy/ssl-cert.js'
import {socketCommand} from '../haproxy/socket.js'
import type {Inventory} from '../inventory/schema.js'
import {renderTarget, targetOutputPath} from '../render/targets.js'
import type {CommandRunner} from '../system/command.js'
import {LockBusyError, withFileLock} from '../system/file-lock.js'
import {ensurePrivateDir} from '../system/private-files.js'
import type {CertificateSummary} from './certificate.js'
import {checkNewFiles, type DeployMaterial} from './deploy-material.js'
import type {DeploySource} from './deploy-source.js'
import {type DeployState, recordDeployState} from './deploy-state.js'
import {backUpFiles, backupFolder, filesNotBack, type InstalledFile, installFiles, restoreFiles, targetFiles} from './deploy-files.js'
import {type ServedCheck, waitForSerial} from './deploy-verify.js'
import type {Handshake, HandshakeOptions} from './live.js'
import type {TlsFinding} from './model.js'
import type {TrustStore} from './trust.js'

export type DeployOutcome = 'busy' | 'check-failed' | 'deferred' | 'deployed' | 'failed' | 'install-failed' | 'refused' | 'rollback-failed' | 'rolled-back' | 'unchanged'

const EXIT: Record<DeployOutcome, ExitCodeName> = {
  busy: 'busy',
  'check-failed': 'checkFailed',
  deferred: 'ok',
  deployed: 'ok',
  failed: 'failure',
  'install-failed': 'writeFailed',
  refused: 'refused',
  'rollback-failed': 'rollbackFailed',
  'rolled-back': 'rolledBack',
  unchanged: 'ok',
}

export interface DeployReport extends Finished<DeployOutcome> {
  backups: string[]
  /** The new certificate's leaf, once its files parsed. */
  certificate?: CertificateSummary
  domain: string
  findings: TlsFinding[]
  /** Files written (and kept, unless rolled back). */
  installed: string[]
  /** How the proxy took the new certificate: HAProxy's runtime API, relayctl reload, or not yet (--defer). */
  swap?: ProxyChange<'deferred' | 'relayctl reload' | 'runtime API'>
  rollback?: Rollback
  /** relayd: open sessions the reload cut. */
  sessions?: number
  source: DeploySource
  /** The state the Prometheus metrics are written from. */
  state?: DeployState
  target: 'haproxy' | 'relayd'
  /** The handshakes that proved (or failed to prove) the new serial, per listen address. */
  verify: ServedCheck[]
}

export interface DeployOptions {
  /** HAProxy's CLI (default: the inventory's stats socket); tests wrap it. */
  cli?: HaproxyCli
  /** relayd: install the files and leave the reload to the next planned one. */
  defer?: boolean
  handshake?: (options: HandshakeOptions) => Promise<Handshake>
  inventory: Inventory
  /** relayd: refuse (changing nothing) when a reload would cut more open sessions than this. */
  maxSessions?: number
  /** Names the certificate must cover besides the domain (a TURN name sharing 443). */
  names?: string[]
  now?: () => Date
  run: CommandRunner
  source: DeploySource
  sslDir?: string
  target: 'haproxy' | 'relayd'
  /** Per handshake and per CLI command; also how long the new serial may take to show. */
  timeoutMs: number
  trust: TrustStore
}

/** New certificates must not be expired; one ending soon is worth a warning (short-lived certificates exist). */
const THRESHOLDS = {criticalDays: 0, warningDays: 7}

/**
 * `jproxy tls deploy`: checks the new files (nothing changes if they fail), then under apply's
 * lock for the target (a reload never sees half of a two-file swap) backs up and installs the
 * pair the proxy reads, swaps it in (HAProxy: runtime API, no reload; relayd: `relayctl reload`
 * behind the session guard, or --defer) and proves by fresh handshakes on every listen address
 * that the new serial is served, else restores runtime and files. Every run leaves a history
 * line and the state behind the metrics, failures included: certbot ignores the hook's exit code.
 */
export async function deployCertificate(options: DeployOptions): Promise<DeployReport> {
  const started = performance.now()
  const now = options.now ?? (() => new Date())
  const {inventory, target} = options
  // The TURN name too: one ACME lineage usually serves the proxy and coturn behind proxy.turn.
  const turnNames = inventory.proxy.turn ? [inventory.proxy.turn.sni] : []
  const names = [...new Set([inventory.domain, ...turnNames, ...(options.names ?? [])])]
  const base = {backups: [] as string[], domain: inventory.domain, findings: [] as TlsFinding[], installed: [] as string[], source: options.source, target, verify: [] as ServedCheck[]}
  const finish = finisher<DeployOutcome, DeployReport>(EXIT, base, started)

  const checked = await checkNewFiles(options.source, {names, now: now(), thresholds: THRESHOLDS, trust: options.trust.certificates})
  base.findings = checked.findings
  let report: DeployReport
  if (checked.material === undefined) {
    const critical = checked.findings.filter((f) => f.severity === 'critical')
    report = finish('check-failed', `the new certificate failed its checks (${critical.map((f) => f.message).join('; ')}); nothing was changed`, {certificate: checked.leaf})
  } else {
    const paths = applyPaths(inventory, target)
    const material = checked.material
    await ensurePrivateDir(dirname(paths.lock))
    try {
      report = await withFileLock(paths.lock, {waitMs: inventory.apply.lockWait}, () => deployLocked(options, material, finish))
    } catch (error) {
      // Even an unforeseen failure leaves its history line, metric and stderr line.
      if (!(error instanceof LockBusyError)) {
        report = finish('failed', `tls deploy failed: ${(error as Error).message}`, {certificate: material.leaf})
        if (error instanceof JproxyError) report.exitCode = error.exitCode
      } else report = finish('busy', `an apply or deploy of ${target} is running (${error.holder || 'holder unknown'}); waited ${inventory.apply.lockWait} ms; nothing was changed`, {certificate: material.leaf})
    }
  }

  const at = now()
  const applyDir = inventory.apply.dir ?? defaultApplyDir()
  const state = await recordDeployState(join(applyDir, `tls-deploy-${target}.json`), {at, certificate: report.certificate, success: report.exitCode === 0})
  await appendHistory(applyPaths(inventory, target).history, {
    at: at.toISOString(),
    changed: report.installed.length > 0 && report.outcome !== 'rolled-back',
    command: 'tls deploy',
    durationMs: report.durationMs,
    exitCode: report.exitCode,
    message: report.message,
    outcome: report.outcome,
    reloads: report.swap?.method === 'relayctl reload' ? 1 + (report.rollback ? 1 : 0) : 0,
    serial: checked.leaf?.serial ?? checked.material?.leaf.serial,
    sha256: checked.material ? createHash('sha256').update(checked.material.chain).digest('hex') : '',
    target,
  })
  return {...report, state}
}

type DeployFinish = Finish<DeployOutcome, DeployReport>

/**
 * HAProxy 2.6 reads the end of a `set ssl cert` name as the part of a certificate to update
 * (`.crt`, `.key`, `.issuer`, `.ocsp`, `.sctl`), so a `crt` file named like that cannot be
 * swapped by its own name ("not referenced by the configuration", seen with `.crt`).
 */
const UNSWAPPABLE_NAME = /\.(crt|issuer|key|ocsp|sctl)$/

async function deployLocked(options: DeployOptions, material: DeployMaterial, finish: DeployFinish): Promise<DeployReport> {
  const {inventory, target} = options
  const name = inventory.proxy.tls.certificate
  if (target === 'haproxy' && UNSWAPPABLE_NAME.test(name)) {
    return finish('refused', `HAProxy cannot swap ${name} at run time: its name ends in ${UNSWAPPABLE_NAME.exec(name)![0]}, which set ssl cert takes for the part of a certificate to update; name the file .pem (proxy.tls.certificate) and run jproxy apply; nothing was changed`, {certificate: material.leaf})
  }

  const files = await targetFiles(inventory, target, material, options.sslDir)
  const certificate = material.leaf
  const sameFiles = files.every((f) => f.old === f.new)
  const verifyNew = () => waitForSerial(options, certificate)

  if (sameFiles && !(target === 'relayd' && options.defer)) {
    // Run twice (certbot retries, cron): nothing to install; if the proxy already serves it, done.
    const served = await verifyNew()
    if (served.every((s) => s.ok)) return finish('unchanged', `${certificate.serial} is installed and served on ${served.map((s) => s.source).join(', ')}; nothing to do`, {certificate, verify: served})
  }

  let sessions: number | undefined
  if (target === 'relayd' && !options.defer) {
    sessions = await runningSessions(options.run)
    if (options.maxSessions !== undefined && sessions > options.maxSessions) {
      return finish('refused', `relayd has ${sessions} sessions open, over --max-sessions ${options.maxSessions}; a reload would cut them all; nothing was changed (--defer installs the files for the next planned reload)`, {certificate, sessions})
    }
  }

  const backups = sameFiles ? [] : await backUpFiles(files, backupFolder(inventory.apply.dir ?? defaultApplyDir()), inventory.apply.backups, options.now?.() ?? new Date())
  if (!sameFiles) {
    try {
      await installFiles(files)
    } catch (error) {
      // A pair half installed must not wait for the next reload: put back what was there.
      const why = `installing the new files failed (${(error as Error).message})`
      return rolledBack(finish, why, await rollBack(options, files), {backups, certificate}, 'install-failed')
    }
  }

  const installed = sameFiles ? [] : files.map((f) => f.path)
  const extra = {backups, certificate, installed, sessions}

  if (target === 'relayd') {
    if (options.defer) return finish('deferred', `installed ${installed.join(' and ')}; relayd serves the old certificate until its next reload (relayctl reload, which cuts every open session)`, {...extra, swap: {detail: 'left for the next reload', method: 'deferred', ok: true}})
    const config = await relaydConfig(inventory)
    const reload = await reloadRelayd(config, {reload: inventory.targets.relayd.reload, run: options.run, timeoutMs: inventory.apply.reloadTimeout})
    const swap = {detail: `${reload.detail}; ${sessions} session(s) cut`, method: 'relayctl reload' as const, ok: reload.ok}
    const served = reload.ok ? await verifyNew() : []
    if (reload.ok && served.every((s) => s.ok)) return finish('deployed', `${certificate.serial} installed; relayd reloaded (${sessions} session(s) cut); served on ${served.map((s) => s.source).join(', ')}`, {...extra, swap, verify: served})
    const why = reload.ok ? notServed(served) : reload.detail
    const reloadAgain = async () => {
      const again = await reloadRelayd(config, {reload: inventory.targets.relayd.reload, run: options.run, timeoutMs: inventory.apply.reloadTimeout})
      return again.ok ? undefined : `reload failed: ${again.detail}`
    }

    const rollback = await rollBack(options, files, reloadAgain)
    return rolledBack(finish, notServedBecause(why), rollback, {...extra, swap, verify: served})
  }

  // HAProxy: the certificate is swapped in memory; the files are for the next reload.
  const cli = options.cli ?? ((command: string, payload?: string) => socketCommand(inventory.targets.haproxy.socket, command, options.timeoutMs, payload))
  let swapped
  try {
    swapped = await swapCertificate(cli, name, material.chain + material.key)
  } catch (error) {
    // HAProxy refused (the transaction was aborted) or its socket did not answer: memory holds
    // the old certificate (a transaction left open is aborted by the next run); put the files back.
    const swap = {detail: (error as Error).message, method: 'runtime API' as const, ok: false}
    // Nothing to swap back; the handshakes prove memory holds the previous certificate.
    const rollback = await rollBack(options, files, async () => undefined)
    return rolledBack(finish, notServedBecause((error as Error).message), rollback, {...extra, swap})
  }

  const swap = {detail: `set ssl cert + commit ssl cert ${name}${swapped.abortedStale.length > 0 ? ` (aborted a stale transaction on ${swapped.abortedStale.join(', ')})` : ''}`, method: 'runtime API' as const, ok: true}
  const served = await verifyNew()
  if (served.every((s) => s.ok)) return finish('deployed', `${certificate.serial} installed and swapped in without a reload; served on ${served.map((s) => s.source).join(', ')}`, {...extra, swap, verify: served})
  const why = notServedBecause(notServed(served))
  const oldPem = previousPem(files)
  if (oldPem === undefined) {
    // Without the whole previous pair HAProxy's memory cannot be put back: the new files stay, as in memory.
    const rollback = {problems: ['no previous certificate to put back'], restored: 'the previous certificate', verified: false}
    return rolledBack(finish, why, {proof: '', rollback}, {...extra, swap, verify: served})
  }

  const swapBack = () => swapCertificate(cli, name, oldPem).then(() => undefined, (error: Error) => error.message)
  return rolledBack(finish, why, await rollBack(options, files, swapBack), {...extra, swap, verify: served})
}

/** A rollback's verdict and, when something is back, what proves it (for the message). */
interface RollbackResult {
  proof: string
  rollback: Rollback
}

/**
 * The end of a failed deploy: `ok` (rolled-back, install-failed) only when the rollback is
 * verified, else rollback-failed; the message says what is back and what is not.
 */
function rolledBack(
  finish: DeployFinish,
  failure: string,
  {proof, rollback}: RollbackResult,
  extra: Partial<DeployReport>,
  ok: DeployOutcome = 'rolled-back',
): DeployReport {
  if (rollback.verified) return finish(ok, `${failure}; ${rollback.restored} is back (${proof})`, {...extra, rollback})
  const back = proof ? `; back as before: ${proof}` : ''
  const notBack = rollback.problems.join('; ')
  return finish('rollback-failed', `${failure}, and putting ${rollback.restored} back failed too (${notBack})${back}`, {...extra, rollback})
}

const notServedBecause = (why: string) => `the new certificate was not served (${why})`

/**
 * Puts the previous files back, then the proxy (`putBack`: swap back or reload; returns a problem,
 * if any; not given when the proxy never saw the new files), and proves it: a fresh handshake
 * gets the previous certificate, and every file holds its backed-up bytes, read back last so that
 * a change made meanwhile shows.
 */
async function rollBack(
  options: DeployOptions,
  files: InstalledFile[],
  putBack?: () => Promise<string | undefined>,
): Promise<RollbackResult> {
  const failed = await restoreFiles(files)
  const previous = previousLeaf(files)
  const problems: string[] = []
  const proofs: string[] = []
  const problem = await putBack?.()
  if (problem) problems.push(problem)
  else if (putBack && previous) {
    const served = await waitForSerial(options, {fingerprint256: previous.fingerprint256, serial: previous.serialNumber})
    const where = served.map((s) => s.source).join(', ')
    if (served.every((s) => s.ok)) proofs.push(`${previous.serialNumber} served again on ${where}`)
    else problems.push(notServed(served))
  } else if (putBack) problems.push('no previous certificate to put back')

  const notBack = await filesNotBack(files, failed)
  if (notBack.length === 0) proofs.unshift(`${files.map((f) => f.path).join(', ')}: same sha256 as before the install`)
  problems.push(...notBack)
  const restored = previous ? `the previous certificate ${previous.serialNumber}` : 'the previous certificate'
  return {proof: proofs.join('; '), rollback: {problems, restored, verified: problems.length === 0}}
}

/** HAProxy's previous certificate and key as one PEM (from the combined file, or `crt` + `.key`). */
function previousPem(files: InstalledFile[]): string | undefined {
  if (files.some((f) => f.old === undefined)) return undefined
  return files
    .map((f) => f.old!)
    .reverse()
    .map((text) => text.replace(/\n*$/, '\n'))
    .join('')
}

/** The leaf of the certificate the files held before the install, if they held one. */
function previousLeaf(files: InstalledFile[]): X509Certificate | undefined {
  const text = files.map((f) => f.old ?? '').join('')
  const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text)
  return first ? new X509Certificate(first[0]) : undefined
}

const notServed = (served: ServedCheck[]) =>
  served
    .filter((s) => !s.ok)
    .map((s) => `${s.source}: ${s.detail}`)
    .join('; ')

async function relaydConfig(inventory: Inventory): Promise<string> {
  return readFile(targetOutputPath(inventory, 'relayd'), 'utf8').catch(() => renderTarget(inventory, 'relayd'))
}
