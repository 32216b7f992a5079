import {Flags} from '@oclif/core'

import {caFlag, certificateNameFlag, defaultTarget, duration, inventoryFlag, maxSessionsFlag, promFileFlag, sslDirFlag, targetFlag} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {loadCommandInventory} from '../../cli/inventory.js'
import {writeTextfile} from '../../report/prometheus.js'
import {deploySyslogLine, formatDeployPrometheus, formatDeployReport} from '../../report/tls-deploy.js'
import {runCommand} from '../../system/command.js'
import {type DeployReport, deployCertificate} from '../../tls/deploy.js'
import {deploySource} from '../../tls/deploy-source.js'
import {proxyTrust} from '../../tls/trust.js'

const DEFAULT_TIMEOUT_MS = 5000

export default class TlsDeploy extends JproxyCommand {
  static override description = `Installs a renewed certificate and proves it is served. Reads the new files from
--cert/--key/--chain, or as certbot's --deploy-hook from RENEWED_LINEAGE (fullchain.pem,
privkey.pem), or as lego's --run-hook/--renew-hook from LEGO_CERT_PATH/LEGO_CERT_KEY_PATH (v5:
LEGO_HOOK_CERT_PATH, LEGO_HOOK_CERT_KEY_PATH, LEGO_HOOK_ISSUER_CERT_PATH).

First runs validate tls's file checks on the NEW files (the domain and every proxy.turn name, key
match, complete chain, validity, key mode): if any is critical, nothing changes and the exit code
is 6. Then, holding apply's lock for the target, backs up and atomically replaces the files the
proxy reads (owner and mode kept): HAProxy's proxy.tls.certificate (or it and <crt>.key),
relayd's /etc/ssl/NAME[:PORT].crt and /etc/ssl/private/NAME[:PORT].key. HAProxy: swaps the
certificate in memory through the stats socket (set ssl cert + commit ssl cert; no reload, no
connection cut). relayd: relayctl reload, which cuts every open session (refused over
--max-sessions), or --defer to leave the files for the next planned reload.

Then a fresh TLS handshake on every listen address must show the new serial, else the previous
certificate is put back in the proxy and the files, and the exit code is 12 (13 if that failed
too). Every run appends a line to apply's history log; a failure also prints one syslog-style line
on stderr, since certbot ignores a hook's exit code.

More: docs/certificates.md (in the package and the repository).`

  static override examples = [
    "certbot renew --deploy-hook '<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml --prom-file /var/lib/prometheus/node-exporter/jproxy_tls_deploy.prom'",
    '<%= config.bin %> <%= command.id %> --cert /etc/ssl/new/fullchain.pem --key /etc/ssl/new/privkey.pem',
    'acme-client meet.example.org && <%= config.bin %> <%= command.id %> --target relayd --cert /etc/ssl/meet.example.org.fullchain.pem --key /etc/ssl/private/meet.example.org.key --defer',
  ]

  static override flags = {
    ca: caFlag,
    cert: Flags.string({description: 'the new certificate (leaf first; the chain may follow)', helpValue: 'FILE'}),
    chain: Flags.string({description: 'issuer certificates in a file of their own', helpValue: 'FILE'}),
    defer: Flags.boolean({description: 'relayd: install the files only; the next planned reload loads them'}),
    inventory: inventoryFlag,
    key: Flags.string({description: 'the new private key (default: in --cert)', helpValue: 'FILE'}),
    'max-sessions': maxSessionsFlag,
    name: certificateNameFlag,
    'prom-file': promFileFlag,
    'ssl-dir': sslDirFlag,
    target: targetFlag,
    timeout: duration({description: 'per handshake and HAProxy command, and how long the new serial may take to show (default: 5s)'}),
  }

  static override summary = 'Deploy a renewed TLS certificate (an ACME deploy hook) without dropping calls'

  async run(): Promise<DeployReport> {
    const {flags} = await this.parse(TlsDeploy)
    const source = deploySource(flags, process.env)
    const inventory = await loadCommandInventory(flags.inventory)
    const report = await deployCertificate({
      defer: flags.defer,
      inventory,
      maxSessions: flags['max-sessions'],
      names: flags.name,
      run: runCommand,
      source,
      sslDir: flags['ssl-dir'],
      target: defaultTarget(flags.target),
      timeoutMs: flags.timeout ?? DEFAULT_TIMEOUT_MS,
      trust: await proxyTrust(flags.ca, inventory),
    })
    if (flags['prom-file']) await writeTextfile(flags['prom-file'], formatDeployPrometheus(report))
    process.exitCode = report.exitCode
    if (report.exitCode !== 0) process.stderr.write(deploySyslogLine(report))
    if (!this.jsonEnabled()) (report.exitCode === 0 ? process.stdout : process.stderr).write(formatDeployReport(report))
    return report
  }
}
