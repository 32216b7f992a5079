import {X509Certificate} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type CertificateSummary, type ExpiryThresholds, summarize} from './certificate.js'
import type {DeploySource} from './deploy-source.js'
import {checkKeypairFiles} from './files.js'
import type {TlsFinding} from './model.js'
import {pemBlocks} from './pem.js'

/** The new certificate as it will be installed: the chain (leaf first) and the key, as PEM text. */
export interface DeployMaterial {
  /** CERTIFICATE blocks, leaf first, each once. */
  chain: string
  key: string
  leaf: CertificateSummary
}

export interface MaterialCheck {
  findings: TlsFinding[]
  /** The new leaf, when it parsed (also when a check failed: reports name its serial). */
  leaf?: CertificateSummary
  material?: DeployMaterial
}

export interface MaterialOptions {
  names: string[]
  now: Date
  thresholds: ExpiryThresholds
  trust: X509Certificate[]
}

const KEY_LABELS = new Set(['EC PRIVATE KEY', 'PRIVATE KEY', 'RSA PRIVATE KEY'])

/**
 * Runs `validate tls`'s file checks on the NEW files (name, key match, complete chain,
 * validity, key mode) and, when nothing is critical, returns the chain and key to install.
 * A separate chain file is appended to the certificate file's own certificates (those already
 * there once), and the result is what gets checked.
 */
export async function checkNewFiles(source: DeploySource, options: MaterialOptions): Promise<MaterialCheck> {
  let certificate = source.certificate
  let scratch: string | undefined
  try {
    if (source.chain !== undefined) {
      const combined = await withChain(source.certificate, source.chain)
      if (typeof combined !== 'string') return {findings: [combined]}
      scratch = await mkdtemp(join(tmpdir(), 'jproxy-deploy-'))
      certificate = join(scratch, 'certificate-and-chain.pem')
      await writeFile(certificate, combined, {mode: 0o600})
    }

    const checked = await checkKeypairFiles({certificate, key: source.key, keyApart: source.key !== undefined}, options)
    const findings = checked.findings.map((f) => (scratch && f.source === certificate ? {...f, source: `${source.certificate} + ${source.chain}`} : f))
    const first = checked.certificates[0]
    const leaf = first && (({position, source, ...summary}) => summary)(first)
    if (findings.some((f) => f.severity === 'critical')) return {findings, leaf}
    const certificateText = await readFile(certificate, 'utf8')
    const keyText = source.key === undefined ? certificateText : await readFile(source.key, 'utf8')
    const blocks = pemBlocks(certificateText).filter((b) => b.label === 'CERTIFICATE')
    const key = pemBlocks(keyText).find((b) => KEY_LABELS.has(b.label))!
    return {findings, material: {chain: blocks.map((b) => b.text).join(''), key: key.text, leaf: summarize(new X509Certificate(blocks[0].text))}}
  } finally {
    if (scratch) await rm(scratch, {force: true, recursive: true})
  }
}

/** The certificate file's certificates followed by those of the chain file it lacks; or a finding why not. */
async function withChain(certificateFile: string, chainFile: string): Promise<string | TlsFinding> {
  let chainText: string
  let certificateText: string
  try {
    ;[certificateText, chainText] = await Promise.all([readFile(certificateFile, 'utf8'), readFile(chainFile, 'utf8')])
  } catch (error) {
    return {message: `cannot read: ${(error as Error).message}`, severity: 'critical', source: chainFile}
  }

  try {
    const have = new Set(pemBlocks(certificateText).filter((b) => b.label === 'CERTIFICATE').map((b) => new X509Certificate(b.text).fingerprint256))
    const extra = pemBlocks(chainText).filter((b) => b.label === 'CERTIFICATE' && !have.has(new X509Certificate(b.text).fingerprint256))
    return `${certificateText.replace(/\n*$/, '\n')}${extra.map((b) => b.text).join('')}`
  } catch (error) {
    return {message: (error as Error).message, severity: 'critical', source: chainFile}
  }
}
