import {rm, mkdtemp, writeFile} from 'node:fs/promises'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'

import {JproxyError} from '../errors.js'
import {type CheckMessage, runChecker} from '../haproxy/check.js'
import {effectiveInventory, type PlatformDefaults} from '../inventory/effective.js'
import {readInventoryReport} from '../inventory/load.js'
import type {Inventory} from '../inventory/schema.js'
import type {InventoryProblem} from '../inventory/problem.js'
import {proxyView} from '../inventory/proxy-view.js'
import {defaultStateFile} from '../probe/state.js'
import {type CommandRunner, runCommand} from '../system/command.js'
import {defaultApplyDir} from '../system/state-dir.js'
import {checkRendered} from './check-rendered.js'
import {configWarnings} from './config-warnings.js'
import {contextFor, hostPlatform, includedText, PRIVILEGE_DEFAULTS} from './context.js'
import {type InventorySource, placeInInventory} from './origins.js'
import {placeInSnippets} from './snippets.js'
import {renderTarget, TARGETS, type TargetName} from './targets.js'

/** The outcome of `jproxy validate config`. */
export interface ConfigReport {
  /** With `effective`: the inventory with every default filled in, as it would be written. */
  effective?: Record<string, unknown>
  file: string
  /** `haproxy -c` on the rendered haproxy.cfg (snippets included), when it ran. */
  haproxyCheck?: {command: string[]; messages: CheckMessage[]; ok: boolean}
  ok: boolean
  problems: InventoryProblem[]
  /** What is valid but will not work on this host (a missing file, a shard without bridges); errors with `strict`. */
  warnings?: InventoryProblem[]
  /** Counts of what the inventory describes, when it is valid. */
  summary?: {jvbs: number; shards: number; web: number}
  /** The file is not YAML jproxy reads (syntax, several documents, a size, depth or alias bound). */
  unreadable?: boolean
  /** Per target checked: null when it renders, else why it cannot. */
  targets?: Partial<Record<TargetName, null | string>>
}

export interface ValidateConfigOptions {
  /** Also return the inventory with every default filled in. */
  effective?: boolean
  /**
   * Run HAProxy's own checker on the rendered haproxy.cfg. Default: when the inventory lists
   * snippets (the lines jproxy cannot vouch for); it needs the certificate files in place.
   */
  haproxyCheck?: boolean
  /** This host's name, for the peers warning; default os.hostname(). */
  hostname?: string
  /** Check only these targets (a relayd-only site need not satisfy HAProxy's key rule); default all. */
  only?: TargetName[]
  /** Check this fleet proxy's view (proxyView) instead of the shared sections. */
  proxy?: string
  run?: CommandRunner
  /** Warnings are problems: the inventory is not valid while any remains. */
  strict?: boolean
}

/** Schema, cross-field rules, whether each target renders to a config that passes jproxy's linter, and `haproxy -c`. */
export async function validateConfig(file: string, options: ValidateConfigOptions = {}): Promise<ConfigReport> {
  const report = await readInventoryReport(file)
  const {problems} = report
  const inventory = report.inventory && options.proxy !== undefined ? proxyView(report.inventory, options.proxy) : report.inventory
  if (!inventory) return report.unreadable ? {file, ok: false, problems, unreadable: true} : {file, ok: false, problems}

  const targets: Partial<Record<TargetName, null | string>> = {}
  let haproxyText: string | undefined
  const checked = options.only && options.only.length > 0 ? options.only : (Object.keys(TARGETS) as TargetName[])
  for (const target of checked) {
    try {
      const context = await contextFor(inventory, target)
      const text = renderTarget(inventory, target, context)
      checkRendered(target, text, target, includedText(context))
      if (target === 'haproxy') haproxyText = text
      targets[target] = null
    } catch (error) {
      if (!(error instanceof JproxyError)) throw error
      targets[target] = error.message
    }
  }

  const found = await configWarnings(inventory, {hostname: options.hostname ?? hostname(), lineOf: report.lineOf ?? (() => undefined), targets: checked})
  const all = options.strict ? [...problems, ...found] : problems
  const warnings = options.strict ? [] : found
  const snippets = Object.values(inventory.targets.haproxy.snippets).some((files) => files.length > 0)
  const haproxyCheck = haproxyText !== undefined && (options.haproxyCheck ?? snippets) ? await checkHaproxy(inventory, haproxyText, options.run ?? runCommand, {file, lineOf: report.lineOf}) : undefined
  return {
    ...(options.effective ? {effective: effectiveInventory(inventory, platformDefaults())} : {}),
    file,
    haproxyCheck,
    ok: all.length === 0 && Object.values(targets).every((t) => t === null) && haproxyCheck?.ok !== false,
    problems: all,
    summary: {jvbs: inventory.shards.reduce((n, s) => n + s.jvbs.length, 0), shards: inventory.shards.length, web: inventory.web.length},
    targets,
    warnings,
  }
}

/** The target's checker (default `haproxy -c -f`) on the rendered text; messages inside a snippet point at the snippet's file. */
async function checkHaproxy(inventory: Inventory, text: string, run: CommandRunner, source: InventorySource): Promise<NonNullable<ConfigReport['haproxyCheck']>> {
  const dir = await mkdtemp(join(tmpdir(), 'jproxy-validate-'))
  const file = join(dir, 'haproxy.cfg')
  try {
    await writeFile(file, text, {mode: 0o600})
    const verdict = await runChecker(inventory.targets.haproxy.check ?? TARGETS.haproxy.defaultCheck, file, run)
    const messages = placeInSnippets(verdict.messages.filter((m) => m.level !== 'notice'), text, file)
    return {command: verdict.command, messages: placeInInventory(messages, text, file, inventory, source), ok: verdict.ok}
  } finally {
    await rm(dir, {force: true, recursive: true})
  }
}

/** This platform's values for what the inventory leaves to the platform: what an operator most often must change. */
function platformDefaults(platform: NodeJS.Platform = process.platform): PlatformDefaults {
  return {
    applyDir: defaultApplyDir(platform),
    haproxy: PRIVILEGE_DEFAULTS[hostPlatform(platform)],
    outputs: {haproxy: TARGETS.haproxy.defaultOutput, pf: TARGETS.pf.defaultOutput, relayd: TARGETS.relayd.defaultOutput},
    stateFile: defaultStateFile(platform),
  }
}
