import {GenCommand} from '../../cli/gen-command.js'

export default class GenPf extends GenCommand {
  static override description = `Renders a pf anchor for the paper's OpenBSD layout: the VMM host redirects http/https to the
proxy and each videobridge's public media address and port (shards[].jvbs[].media) to that
bridge, and passes only what each role needs: the proxy to web, prosody, jicofo and the bridges'
colibri websockets, web to prosody, jicofo and the bridges to prosody's XMPP port 5222, and the
proxy host's probes to jicofo and the bridges' REST ports. Include it with \`anchor "jproxy"\`
and \`load anchor "jproxy" from FILE\` in pf.conf; where pfctl exists, the output is checked
with \`pfctl -nf\`. The output is deterministic: the same inventory gives the same bytes.

More: docs/pf.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %> -i examples/single-host-vmm.yaml', '<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml --out /etc/pf.jproxy.conf']

  static override summary = 'Render pf rules (an anchor) from the inventory'

  protected readonly target = 'pf'
}
