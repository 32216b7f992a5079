import {Command} from '@oclif/core'

import {JproxyError} from '../errors.js'
import {nagiosUnknown} from '../report/nagios.js'
import {errorJson} from './error-json.js'

/**
 * Base of every jproxy command: `--json` on, and jproxy's own errors printed as one plain
 * `jproxy: message` on stderr with their code from the exit-code table. (Left to oclif, they
 * would exit 1 outside `--json`, with a stack-style banner.) A command asked for
 * `--format nagios` reports any failure as UNKNOWN (exit 3), as the plugin API wants. Under
 * `--json` every failure, flag errors included, is one small object on stdout (cli/error-json.ts).
 */
export abstract class JproxyCommand extends Command {
  static override enableJsonFlag = true

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // A flag's own parser failing carries its code (package.json exitCodes) where --json cannot see it.
    if (error.exitCode === undefined && typeof error.oclif?.exit === 'number') error.exitCode = error.oclif.exit
    if (this.nagiosRequested() && !this.jsonEnabled()) {
      const {exitCode, text} = nagiosUnknown(error.message)
      process.exitCode = exitCode
      process.stdout.write(text)
      return
    }

    if (this.jsonEnabled()) {
      const json = errorJson(error)
      process.exitCode = json.error.exitCode
      this.logJson(json)
      return
    }

    if (error instanceof JproxyError) {
      process.exitCode = error.exitCode
      this.logToStderr(`jproxy: ${error.message}`)
      return
    }

    return super.catch(error)
  }

  /**
   * Into a pipe (cron, scripts) a report is written as JSON.stringify writes it, the bytes oclif
   * writes there: oclif's logJson first tokenizes it to colour it, a second copy of the report in
   * small objects (about 10 MiB for a 1,000-backend probe) for colours a pipe never shows. A
   * terminal still gets oclif's, with the user's theme.
   */
  override logJson(json: unknown): void {
    if (process.stdout.isTTY) {
      super.logJson(json)
      return
    }

    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  /** Read from argv, since flags may not have parsed; only commands that offer the format count. */
  private nagiosRequested(): boolean {
    const {flags} = this.constructor as typeof Command
    const offered = flags?.format !== undefined && 'options' in flags.format && (flags.format.options as string[] | undefined)?.includes('nagios')
    return Boolean(offered) && this.argv.some((a, i) => a === '--format=nagios' || (a === 'nagios' && this.argv[i - 1] === '--format'))
  }
}
