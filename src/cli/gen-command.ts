import {Flags} from '@oclif/core'

import {cacheProbePlan} from '../probe/plan-cache-hook.js'
import {formatDiagnostic} from '../relayd/lint.js'
import {type Generated, generate} from '../render/generate.js'
import type {TargetName} from '../render/targets.js'
import {inventoryFlag, proxyFlag} from './flags.js'
import {JproxyCommand} from './jproxy-command.js'

/** The shared body of `gen haproxy` and `gen relayd`: only the target differs. */
export abstract class GenCommand extends JproxyCommand {
  static override flags = {
    inventory: inventoryFlag,
    out: Flags.string({char: 'o', description: 'write to FILE (atomically); `-` or none: stdout', helpValue: 'FILE'}),
    proxy: proxyFlag,
  }

  protected abstract readonly target: TargetName

  async run(): Promise<Generated> {
    const {flags} = await this.parse(this.constructor as typeof GenCommand)
    const out = flags.out === '-' ? undefined : flags.out
    const result = await generate({inventory: flags.inventory, onLoad: cacheProbePlan, out, proxy: flags.proxy, target: this.target})
    if (!this.jsonEnabled()) {
      for (const finding of result.findings) this.logToStderr(formatDiagnostic(finding))
      if (result.config === undefined) this.logToStderr(`wrote ${result.out} (${result.bytes} bytes)`)
      else process.stdout.write(result.config)
    }

    return result
  }
}
