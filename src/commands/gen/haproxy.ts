import {GenCommand} from '../../cli/gen-command.js'

export default class GenHaproxy extends GenCommand {
  static override description = `Renders haproxy.cfg for HAProxy 2.6 or later: TLS on the https port and a redirect on the http
port, web pool, one prosody and one jicofo backend with a server per shard (consistent hashing
on the room with fixed server ids and weights, a room stick table kept across reloads and shared
with proxy peers when listed, one health verdict per shard), and an allow-listed colibri
websocket backend with one server per videobridge. The output is deterministic: the same
inventory gives the same bytes.

More: docs/configs.md and docs/rooms-and-shards.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -i examples/two-shards.yaml',
    '<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml --out /tmp/haproxy.cfg && haproxy -c -f /tmp/haproxy.cfg',
  ]

  static override summary = 'Render haproxy.cfg from the inventory'

  protected readonly target = 'haproxy'
}
