import {createPrivateKey, X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'

/** What a PEM file must hold for the proxy: HAProxy's `crt` file holds both, relayd's are apart. */
export type PemPart = 'certificate' | 'key'

/** Why a PEM file cannot serve: `denied` says nothing of the file, only of who asks (a non-root run). */
export interface PemFileProblem {
  kind: 'denied' | 'invalid' | 'missing' | 'unreadable'
  message: string
}

const BLOCKS: Record<PemPart, RegExp> = {
  certificate: /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/,
  key: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/,
}

/**
 * Why `file` cannot serve as a PEM holding each of `parts` (each loaded as OpenSSL will load it),
 * or undefined when it does. One check for every caller, so `validate config` and `apply` agree.
 * Synchronous inside: node:fs/promises would cost `validate config`, a hot command, its start-up.
 */
export async function pemFileProblem(file: string, parts: readonly PemPart[]): Promise<PemFileProblem | undefined> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const {code, message} = error as NodeJS.ErrnoException
    if (code === 'ENOENT') return {kind: 'missing', message: `${file} does not exist`}
    if (code === 'EACCES') return {kind: 'denied', message: `${file} is not readable by this user`}
    return {kind: 'unreadable', message: `${file} cannot be read (${code ?? message})`}
  }

  for (const part of parts) {
    const block = BLOCKS[part].exec(text)?.[0]
    if (!block) return {kind: 'invalid', message: `${file} does not load: no ${part === 'key' ? 'private key' : part} in it`}
    try {
      if (part === 'certificate') new X509Certificate(block)
      else createPrivateKey(block)
    } catch (error) {
      return {kind: 'invalid', message: `${file} does not load: ${(error as Error).message}`}
    }
  }

  return undefined
}
