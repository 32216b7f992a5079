import {type Hook, toConfiguredId} from '@oclif/core'

import {ExitCode} from '../errors.js'
import {closest} from '../system/closest.js'

/**
 * An unknown command: say which one was meant when one is close (`jproxy valdate config` ->
 * `validate config`), also without a terminal, since cron and scripts read stderr too. Exits 2,
 * a usage error like a bad flag.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const ids = options.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const typed = toConfiguredId(options.id, options.config)
  const guess = closest(options.id, ids)
  const hint = guess === undefined ? '' : `; did you mean \`${toConfiguredId(guess, options.config)}\`?`
  // One plain line, as jproxy's other errors (oclif's error() would wrap it at the terminal width).
  process.stderr.write(`${options.config.bin}: \`${typed}\` is not a ${options.config.bin} command${hint} (see \`${options.config.bin} help\`)\n`)
  this.exit(ExitCode.usage)
}

export default hook
