import {mkdir, readFile, rename, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {tempPath, writeSynced} from '../system/atomic-write.js'
import type {Inventory} from '../inventory/schema.js'
import type {Role} from './model.js'
import {defaultStateFile} from './state.js'
import {VERDICTS_MAGIC, verdictsFile} from './verdicts.js'

/** The roles relayd checks with a script: what `check http`/`check tcp` cannot express. */
export const RELAYD_CHECK_ROLES = ['prosody', 'jicofo', 'jvb'] as const satisfies readonly Role[]
export type RelaydCheckRole = (typeof RELAYD_CHECK_ROLES)[number]

/** One script per role: relayd passes only the table host, and prosody and jicofo often share one. */
export function relaydCheckScriptPath(dir: string, role: RelaydCheckRole): string {
  return join(dir, `relayd-check-${role}`)
}

/** Where the fallback finds jproxy: this installation's node and bin/run.js, and the inventory apply used. */
export interface CheckScriptRuntime {
  inventoryFile: string
  jproxy: string
  node: string
}

const quote = (value: string) => `'${value.replaceAll("'", String.raw`'\''`)}'`

/**
 * The check script for one role, POSIX sh (dash, mksh, OpenBSD's ksh): relayd runs it as
 * `_relayd` with the table host as its only argument and reads exit 1 as up and 0 (or being
 * killed at the table's timeout) as down (check_script.c). While the watcher's verdicts are
 * fresh it costs one `awk` (clock and lookup); when they are stale it asks jproxy's fast path
 * (`probe --host`), trusting only its `HOST up` line, since a Node that fails to start exits 1 too.
 */
export function relaydCheckScript(role: RelaydCheckRole, state: string, runtime: CheckScriptRuntime): string {
  return `#!/bin/sh
# relayd check script for jproxy's ${role} backends, written by \`jproxy apply\`: do not edit.
# relayd runs it as _relayd with the table host as the only argument: exit 1 = up, 0 = down.
# The verdict is what \`jproxy probe --watch\` keeps in the state file; when that is stale
# (older than three probe intervals: the watcher stopped), the host is probed directly.
# awk, one process, reads the clock (POSIX: srand() returns the previous seed, the time) and
# the verdict: exit 1 up, 0 down or unknown, 2 stale, missing or not a state file.
state=${quote(state)}
[ $# -eq 1 ] || exit 0
awk -v want="${role} $1 up" 'NR == 1 { srand(); if ($1 != "${VERDICTS_MAGIC}" || $2 != 1 || srand() > $4) exit 2; next }
tolower($0) == tolower(want) { exit 1 }
END { if (NR == 0) exit 2 }' "$state" 2>/dev/null
case $? in
1) exit 1 ;;
2) ;;
*) exit 0 ;;
esac
case $(${quote(runtime.node)} ${quote(runtime.jproxy)} probe --host "$1" --role ${role} --inventory ${quote(runtime.inventoryFile)}) in
"$1 up") exit 1 ;;
esac
exit 0
`
}

/**
 * Writes the three check scripts into probe.relaydCheckDir, each atomically and executable
 * (relayd never runs a half-written one); returns the paths that changed.
 */
export async function installRelaydCheckScripts(inventory: Inventory, runtime: CheckScriptRuntime): Promise<string[]> {
  const state = verdictsFile(inventory.probe.stateFile ?? defaultStateFile())
  const changed: string[] = []
  await mkdir(inventory.probe.relaydCheckDir, {mode: 0o755, recursive: true})
  for (const role of RELAYD_CHECK_ROLES) {
    const path = relaydCheckScriptPath(inventory.probe.relaydCheckDir, role)
    const text = relaydCheckScript(role, state, runtime)
    if ((await readFile(path, 'utf8').catch(() => undefined)) === text) continue
    const temp = tempPath(path)
    try {
      await writeSynced(temp, text, 0o755)
      await rename(temp, path)
    } catch (error) {
      await rm(temp, {force: true})
      throw error
    }

    changed.push(path)
  }

  return changed
}
