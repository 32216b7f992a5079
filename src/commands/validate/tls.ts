import {Flags} from '@oclif/core'

import {caFlag, certificateNameFlag, defaultTarget, duration, formatFlag, inventoryFlag, promFileFlag, sslDirFlag, targetFlag} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {ExitCode, JproxyError} from '../../errors.js'
import {parseIpPort} from '../../inventory/host-port.js'
import {loadCommandInventory} from '../../cli/inventory.js'
import {writeTextfile} from '../../report/prometheus.js'
import {formatTlsNagios, formatTlsPrometheus, formatTlsReport} from '../../report/tls.js'
import {proxyTrust} from '../../tls/trust.js'
import {type TlsReport, validateTls} from '../../tls/validate.js'

const DEFAULT_TIMEOUT_MS = 5000

const connectFlag = Flags.custom<{address: string; port?: number}>({
  helpValue: 'IP[:PORT]',
  async parse(input) {
    const parsed = parseIpPort(input)
    if (!parsed) throw new Error(`"${input}" must be an IP address, optionally with :port ([v6]:port)`)
    return parsed
  },
})

export default class ValidateTls extends JproxyCommand {
  static override description = `Files: reads the certificate chain and key the proxy loads (HAProxy: proxy.tls.certificate, with
the key in it or beside it as .key; relayd: the keypair named after the domain,
/etc/ssl/NAME:PORT.crt else /etc/ssl/NAME.crt, with its key in /etc/ssl/private) and checks that
the key belongs to the first certificate, the subjectAltNames cover the public name (RFC 6125: a
wildcard stands for exactly one left-most label; the CN is ignored), each certificate is
followed by its issuer and the chain reaches a trusted root, every certificate is within its
validity (warning and critical days before the end), and the key is not readable by every user.
Live: a TLS handshake with SNI = the public name on every listen address (or --connect),
reporting the protocol, cipher, ALPN and presented chain, verified against --ca, proxy.tls.ca or
the system CAs ($SSL_CERT_FILE when set), with the same name and expiry checks. Exit 6 when a check
is critical.

More: docs/tls.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml',
    '<%= config.bin %> <%= command.id %> --target relayd --no-live',
    '<%= config.bin %> <%= command.id %> --no-files --connect 203.0.113.10 --format nagios',
    '<%= config.bin %> <%= command.id %> --ca /etc/ssl/internal-ca.pem --name turn.meet.example.org --prom-file /var/lib/prometheus/node-exporter/jproxy_tls.prom',
  ]

  static override flags = {
    ca: caFlag,
    connect: connectFlag({description: 'handshake here instead of the listen addresses (repeatable; port defaults to proxy.listen.httpsPort)', multiple: true}),
    'crit-days': Flags.integer({default: 10, description: 'critical when a certificate ends within this many days', min: 0}),
    files: Flags.boolean({allowNo: true, default: true, description: 'check the certificate and key files the proxy loads'}),
    format: formatFlag,
    inventory: inventoryFlag,
    live: Flags.boolean({allowNo: true, default: true, description: 'handshake with the proxy'}),
    name: certificateNameFlag,
    'prom-file': promFileFlag,
    'ssl-dir': sslDirFlag,
    target: targetFlag,
    timeout: duration({description: 'per-handshake timeout (default: 5s)'}),
    'warn-days': Flags.integer({default: 20, description: 'warning when a certificate ends within this many days', min: 0}),
  }

  static override summary = 'Check the TLS certificate files and live handshakes'

  async run(): Promise<TlsReport> {
    const {flags} = await this.parse(ValidateTls)
    if (!flags.files && !flags.live) throw new JproxyError('usage', '--no-files and --no-live leave nothing to check')
    if (flags['crit-days'] > flags['warn-days']) throw new JproxyError('usage', `--crit-days ${flags['crit-days']} is more than --warn-days ${flags['warn-days']}`)
    const inventory = await loadCommandInventory(flags.inventory)
    const thresholds = {criticalDays: flags['crit-days'], warningDays: flags['warn-days']}
    const now = new Date()
    const report = await validateTls({
      connect: flags.connect?.map((c) => ({address: c.address, port: c.port ?? inventory.proxy.listen.httpsPort})),
      files: flags.files,
      inventory,
      live: flags.live,
      names: flags.name,
      now,
      sslDir: flags['ssl-dir'],
      target: defaultTarget(flags.target),
      thresholds,
      timeoutMs: flags.timeout ?? DEFAULT_TIMEOUT_MS,
      // SSL_CERT_FILE, as OpenSSL reads it: the bundle to trust when neither --ca nor proxy.tls.ca is given.
      trust: await proxyTrust(flags.ca, inventory, process.env.SSL_CERT_FILE),
    })
    if (flags['prom-file']) await writeTextfile(flags['prom-file'], formatTlsPrometheus(report, now))
    if (flags.format === 'nagios' && !this.jsonEnabled()) {
      const {exitCode, text} = formatTlsNagios(report, now, thresholds)
      process.stdout.write(text)
      process.exitCode = exitCode
      return report
    }

    if (report.findings.some((f) => f.severity === 'critical')) process.exitCode = ExitCode.checkFailed
    if (!this.jsonEnabled()) process.stdout.write(formatTlsReport(report))
    return report
  }
}
