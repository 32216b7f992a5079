import {createPrivateKey, type KeyObject, X509Certificate} from 'node:crypto'

/** One `-----BEGIN LABEL-----` … `-----END LABEL-----` block and the line it starts on. */
export interface PemBlock {
  label: string
  line: number
  text: string
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END ([A-Z0-9 ]+)-----/g

/** The PEM blocks of a file, in order. A BEGIN without its END is an error naming the line. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = []
  const lineAt = (index: number) => text.slice(0, index).split('\n').length
  let covered = 0
  for (const match of text.matchAll(BLOCK)) {
    const line = lineAt(match.index)
    if (match[1] !== match[2]) throw new Error(`line ${line}: BEGIN ${match[1]} ends with END ${match[2]}`)
    const stray = text.slice(covered, match.index).indexOf('-----BEGIN')
    if (stray !== -1) throw new Error(`line ${lineAt(covered + stray)}: BEGIN without a matching END`)
    blocks.push({label: match[1], line, text: match[0] + '\n'})
    covered = match.index + match[0].length
  }

  const stray = text.slice(covered).indexOf('-----BEGIN')
  if (stray !== -1) throw new Error(`line ${lineAt(covered + stray)}: BEGIN without a matching END`)
  return blocks
}

export interface PemContents {
  certificates: Array<{certificate: X509Certificate; line: number}>
  keys: Array<{key: KeyObject; line: number}>
  /** Blocks that are keys or certificates but cannot be used, with why (e.g. an encrypted key). */
  problems: string[]
}

const KEY_LABELS = new Set(['EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'PRIVATE KEY', 'RSA PRIVATE KEY'])

/** Certificates and private keys of a PEM file; other blocks (parameters, OCSP) are left alone. */
export function readPem(text: string): PemContents {
  const contents: PemContents = {certificates: [], keys: [], problems: []}
  for (const block of pemBlocks(text)) {
    try {
      if (block.label === 'CERTIFICATE') contents.certificates.push({certificate: new X509Certificate(block.text), line: block.line})
      else if (block.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(block.text)) {
        contents.problems.push(`line ${block.line}: the private key is encrypted; the proxy cannot read it without a passphrase at start`)
      } else if (KEY_LABELS.has(block.label)) contents.keys.push({key: createPrivateKey(block.text), line: block.line})
    } catch (error) {
      contents.problems.push(`line ${block.line}: ${block.label} block does not parse (${(error as Error).message})`)
    }
  }

  return contents
}
