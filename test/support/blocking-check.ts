import {chmod, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {runCommand} from '../../src/system/command.js'
import {waitFor} from './wait.js'

/*
 * A target's check command that says it runs (its pid, so the test can end it), then blocks reading a
 * FIFO no one writes, and after a release runs HAProxy's own check: the agent running it is mid-turn,
 * holding the lock, for exactly as long as the test wants, with no timing involved.
 */
const SCRIPT = `#!/bin/sh
d="$(dirname "$0")"
echo $$ > "$d/blocked.tmp" && mv "$d/blocked.tmp" "$d/blocked"
# The shell reads the FIFO itself (no child): killing $$ ends the wait, leaving no reader behind.
read -r _ < "$d/fifo"
exec haproxy -c -f "$1"
`

export interface BlockingCheck {
  /** The inventory's `targets.haproxy.check`. */
  command: string[]
  /** Resolves with the blocked check's pid once it runs (gives up with `gaveUp`, as waitFor does). */
  blocked: (options: {gaveUp?: () => string | undefined; timeoutMs: number}) => Promise<number>
  /** Lets the blocked check go on to `haproxy -c`, and arms the next run to block again. */
  release: () => Promise<void>
}

export async function blockingCheck(dir: string): Promise<BlockingCheck> {
  const script = join(dir, 'block.sh')
  await writeFile(script, SCRIPT)
  await chmod(script, 0o755)
  const fifo = join(dir, 'fifo')
  const made = await runCommand(['mkfifo', fifo], {timeoutMs: 5000})
  if (made.code !== 0) throw new Error(`mkfifo ${fifo}: ${made.stderr}`)
  const marker = join(dir, 'blocked')
  return {
    blocked: async (options) => Number(await waitFor('the check to run', () => readFile(marker, 'utf8'), Boolean, options)),
    command: [script, '$FILE'],
    async release() {
      await rm(marker, {force: true})
      // Opening the FIFO for writing waits for its reader (the blocked check); closing it ends the read.
      await writeFile(fifo, '')
    },
  }
}
