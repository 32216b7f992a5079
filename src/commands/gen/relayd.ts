import {GenCommand} from '../../cli/gen-command.js'

export default class GenRelayd extends GenCommand {
  static override description = `Renders relayd.conf for OpenBSD 7.4 or later: macros and globals, one table per pool (web,
prosody, jicofo) and per videobridge, an http protocol with websockets, X-Forwarded-For and path
routes, room stickiness through \`match request query hash "room"\` with a fixed \`mode hash\`
key, and the relays. The output is deterministic: the same inventory gives the same bytes.

More: docs/configs.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -i examples/single-host-vmm.yaml',
    '<%= config.bin %> <%= command.id %> --out /tmp/relayd.conf && relayd -n -f /tmp/relayd.conf',
  ]

  static override summary = 'Render relayd.conf from the inventory'

  protected readonly target = 'relayd'
}
