/**
 * HAProxy 2.6's certificate transactions on the stats socket (`set ssl cert` + `commit ssl cert`):
 * in memory only, one transaction per process, and a pending one on another file would take
 * our payload instead ("Transaction updated for certificate A!"), so a stale one is aborted
 * first and every answer must name our file.
 */

/** Sends one CLI command, with an optional `<<` payload, and returns HAProxy's answer. */
export type HaproxyCli = (command: string, payload?: string) => Promise<string>

/** The files of pending transactions in `show ssl cert` (listed under `# transaction` with a `*`). */
export function pendingTransactions(showSslCert: string): string[] {
  const pending: string[] = []
  let section = ''
  for (const line of showSslCert.split('\n')) {
    if (line.startsWith('# ')) section = line.slice(2).trim()
    else if (section === 'transaction' && line.startsWith('*')) pending.push(line.slice(1).trim())
  }

  return pending
}

/** The PEM as a CLI payload: the first empty line would end it, so there is none. */
export function cliPayload(pem: string): string {
  return pem
    .replaceAll('\r', '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .join('\n')
}

const oneLine = (answer: string) =>
  answer
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' / ')

/** HAProxy refused a step of the swap; the transaction was aborted. */
export class CertificateSwapError extends Error {
  constructor(
    message: string,
    readonly step: 'commit' | 'set',
  ) {
    super(message)
    this.name = 'CertificateSwapError'
  }
}

/** What the swap did besides swapping: transactions it found pending and aborted. */
export interface SwapOutcome {
  abortedStale: string[]
}

/**
 * Replaces the certificate HAProxy loaded from `name` (exactly the `crt` path of the config)
 * with `pem` (chain and key) without a reload: aborts stale transactions, `set ssl cert`,
 * checks the answer names `name`, `commit ssl cert`, checks for `Success!`. A refusal aborts
 * the transaction (a failed commit leaves it pending) and throws CertificateSwapError.
 * Only new handshakes see the new certificate.
 */
export async function swapCertificate(cli: HaproxyCli, name: string, pem: string): Promise<SwapOutcome> {
  const abortedStale = pendingTransactions(await cli('show ssl cert'))
  for (const file of abortedStale) await cli(`abort ssl cert ${file}`)

  const set = await cli(`set ssl cert ${name}`, cliPayload(pem))
  if (!new RegExp(`^Transaction (created|updated) for certificate ${escapeRegExp(name)}!$`, 'm').test(set)) {
    await abortQuietly(cli, name)
    throw new CertificateSwapError(`HAProxy refused set ssl cert ${name}: ${oneLine(set)}`, 'set')
  }

  const commit = await cli(`commit ssl cert ${name}`)
  if (!/^Success!$/m.test(commit)) {
    await abortQuietly(cli, name)
    throw new CertificateSwapError(`HAProxy refused commit ssl cert ${name}: ${oneLine(commit)}`, 'commit')
  }

  return {abortedStale}
}

async function abortQuietly(cli: HaproxyCli, name: string): Promise<void> {
  await cli(`abort ssl cert ${name}`).catch(() => undefined)
}

const escapeRegExp = (text: string) => text.replaceAll(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`)
