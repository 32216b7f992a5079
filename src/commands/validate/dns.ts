import {Flags} from '@oclif/core'

import {duration, formatFlag, inventoryFlag, promFileFlag} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import type {Resolver} from '../../dns/client.js'
import {type DnsReport, validateDns} from '../../dns/validate.js'
import {ExitCode, JproxyError} from '../../errors.js'
import {loadCommandInventory} from '../../cli/inventory.js'
import {resolverAddress} from '../../inventory/schema.js'
import {formatDnsNagios, formatDnsPrometheus, formatDnsReport} from '../../report/dns.js'
import {writeTextfile} from '../../report/prometheus.js'

const resolverFlag = Flags.custom<Resolver>({
  helpValue: 'ADDRESS[:PORT]',
  async parse(input) {
    const parsed = resolverAddress.safeParse(input)
    if (!parsed.success) throw new Error(`"${input}" ${parsed.error.issues[0].message}`)
    return parsed.data
  },
})

export default class ValidateDns extends JproxyCommand {
  static override description = `Asks the inventory's resolvers (dns.internal, dns.public; the system resolver is never used)
over UDP, retrying on silence and over TCP when an answer is truncated, and classifies every
lookup: answer, NODATA, NXDOMAIN, SERVFAIL, REFUSED or timeout, following CNAME chains (loops,
dangling targets and chains over 8 hops reported) with their TTLs. Checks: the public name has
exactly one A record, equal to proxy.listen.ipv4, and at most one AAAA, equal to
proxy.listen.ipv6, on every public resolver; every backend hostname resolves on every internal
resolver, the same on each; auth., internal.auth. and conference.<domain> are not in public DNS;
with --srv, the videobridges published under that SRV name match the inventory. Split-horizon
answers are listed side by side. Lookups are bounded: dns.concurrency names at once, the whole
run by dns.deadline, and a resolver that stops answering is not asked again. Exit 6 when a check
is critical.

More: docs/dns.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml',
    '<%= config.bin %> <%= command.id %> --public 203.0.113.53 --internal 10.0.0.53',
    '<%= config.bin %> <%= command.id %> --srv _jvb._tcp.meet.example.org --json',
    '<%= config.bin %> <%= command.id %> --format nagios',
  ]

  static override flags = {
    deadline: duration({description: 'end the whole run by then (default: dns.deadline)'}),
    format: formatFlag,
    internal: resolverFlag({description: 'internal resolver (repeatable; replaces dns.internal)', multiple: true}),
    inventory: inventoryFlag,
    'prom-file': promFileFlag,
    public: resolverFlag({description: 'public resolver (repeatable; replaces dns.public)', multiple: true}),
    srv: Flags.string({description: 'list the videobridges published under this SRV name and compare them with the inventory', helpValue: 'NAME'}),
  }

  static override summary = 'Check the public and internal DNS names'

  async run(): Promise<DnsReport> {
    const {flags} = await this.parse(ValidateDns)
    const inventory = await loadCommandInventory(flags.inventory)
    const internal = flags.internal ?? inventory.dns.internal
    const publicResolvers = flags.public ?? inventory.dns.public
    if (internal.length === 0 && publicResolvers.length === 0) {
      throw new JproxyError('usage', 'no resolvers to ask: list them in the inventory (dns.internal, dns.public) or pass --internal/--public; the system resolver is never used silently')
    }

    const report = await validateDns({deadlineMs: flags.deadline, internal, inventory, public: publicResolvers, srv: flags.srv})
    if (flags['prom-file']) await writeTextfile(flags['prom-file'], formatDnsPrometheus(report, new Date()))
    const critical = report.findings.some((f) => f.severity === 'critical')
    if (flags.format === 'nagios' && !this.jsonEnabled()) {
      const {exitCode, text} = formatDnsNagios(report)
      process.stdout.write(text)
      process.exitCode = exitCode
      return report
    }

    if (critical) process.exitCode = ExitCode.checkFailed
    if (!this.jsonEnabled()) process.stdout.write(formatDnsReport(report))
    return report
  }
}
