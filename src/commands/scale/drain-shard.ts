import {Args, Flags} from '@oclif/core'

import {defaultTarget, readCa} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {scaleFlags, waitDeadlineFlag, waitIntervalFlag} from '../../cli/scale-flags.js'
import {formatScaleReport} from '../../report/scale.js'
import type {ScaleReport} from '../../scale/scale.js'
import {drainShard} from '../../scale/shard-drain.js'
import {runCommand} from '../../system/command.js'

const {ca, inventory, target} = scaleFlags

export const shardNameArg = {shard: Args.string({description: "the shard's name (shards[].name)", required: true})}

export default class DrainShard extends JproxyCommand {
  static override args = shardNameArg

  static override description = `Stops new rooms reaching a shard while its live rooms stay: HAProxy
\`set server be_prosody/SHARD state drain\` (and be_jicofo) through the runtime API, no reload;
rooms in the stick table keep reaching the shard until they end. The inventory records
\`state: drain\` on the shard (comments kept) and the re-rendered haproxy.cfg (weight 0 for the
shard) is installed without a reload, so a later reload or re-render keeps the drain. relayd:
\`relayctl host disable\` on the shard's hosts (relayd cannot keep live rooms). With --wait, polls
the shard's jicofo (GET /stats) until it holds no conference and no participant (exit 0) or
--deadline passes (exit 11), showing the counts on a terminal. --off (or \`scale undrain-shard\`)
reverses it.

HAProxy: both servers are read back (\`show servers state\`) and a request through the proxy
verifies the change, trusting --ca, else proxy.tls.ca, else the system's CAs (a private CA needs
one of the two). A verification that fails undoes the change, reads it back and exits 12, saying
why; 13 only when the undo failed too.

More: docs/rooms-and-shards.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %> shard2 --wait --deadline 2h', '<%= config.bin %> <%= command.id %> shard2 --off']

  static override flags = {
    ca,
    deadline: waitDeadlineFlag,
    interval: waitIntervalFlag,
    inventory,
    off: Flags.boolean({description: 'undo a drain: the shard takes new rooms again'}),
    target,
    wait: Flags.boolean({description: 'wait until the shard has no conferences left'}),
  }

  static override summary = 'Drain a shard: no new rooms, live rooms stay; optionally wait until it is empty'

  async run(): Promise<ScaleReport> {
    const {args, flags} = await this.parse(DrainShard)
    return drainShardCommand(args.shard, flags, this.jsonEnabled())
  }
}

/** The body of `drain-shard` and `undrain-shard`: drain (or undo it), optionally wait with counts on a terminal, present. */
export async function drainShardCommand(
  name: string,
  flags: {ca?: string; deadline?: number; interval?: number; inventory: string; off?: boolean; target?: 'haproxy' | 'relayd'; wait?: boolean},
  json: boolean,
): Promise<ScaleReport> {
  const tty = process.stderr.isTTY && !json
  const report = await drainShard({
    file: flags.inventory,
    name,
    off: flags.off,
    requestTimeoutMs: 5000,
    run: runCommand,
    target: defaultTarget(flags.target),
    tlsCa: await readCa(flags.ca),
    wait:
      flags.wait && !flags.off
        ? {
            intervalMs: flags.interval ?? 10_000,
            onProgress: tty ? (load, ms) => process.stderr.write(`\r${name}: ${load.conferences} conferences, ${load.participants} participants after ${Math.round(ms / 1000)} s `) : undefined,
            timeoutMs: flags.deadline ?? 3_600_000,
          }
        : undefined,
  })
  if (tty && flags.wait) process.stderr.write('\r\u001B[K')
  process.exitCode = report.exitCode
  if (!json) (report.exitCode === 0 ? process.stdout : process.stderr).write(formatScaleReport(report))
  return report
}
