import {Command} from '@oclif/core'

import {JproxyError} from '../errors.js'

/**
 * Base of every jproxy command: `--json` on, and jproxy's own errors printed as one plain
 * `jproxy: message` on stderr with their code from the exit-code table. (Left to oclif, they
 * would exit 1 outside `--json`, with a stack-style banner.)
 */
export abstract class JproxyCommand extends Command {
  static override enableJsonFlag = true

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof JproxyError && !this.jsonEnabled()) {
      process.exitCode = error.exitCode
      this.logToStderr(`jproxy: ${error.message}`)
      return
    }

    return super.catch(error)
  }
}
