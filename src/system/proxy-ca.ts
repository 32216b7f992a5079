import {readFile} from 'node:fs/promises'

import {JproxyError} from '../errors.js'

/** The CA file a run trusts for requests through the proxy, and the name an error gives it. */
export interface ProxyCaFile {
  file: string
  /** `--ca` or `proxy.tls.ca`: what the operator changes when the file is wrong. */
  source: '--ca' | 'proxy.tls.ca'
}

/**
 * Which CA file requests through the proxy trust: `--ca` when given, else the inventory's
 * `proxy.tls.ca`, else none (the system's roots). One rule, so every command agrees.
 */
export function proxyCaFile(flag: string | undefined, inventoryCa: string | undefined): ProxyCaFile | undefined {
  if (flag !== undefined) return {file: flag, source: '--ca'}
  return inventoryCa === undefined ? undefined : {file: inventoryCa, source: 'proxy.tls.ca'}
}

/**
 * The CA PEM for requests through the proxy: `given` (the text of `--ca`, already read) wins,
 * else the file `proxy.tls.ca` names. An unreadable file is an error naming the field.
 */
export async function proxyCaPem(given: string | undefined, inventoryCa: string | undefined): Promise<string | undefined> {
  if (given !== undefined) return given
  const source = proxyCaFile(undefined, inventoryCa)
  if (!source) return undefined
  return readFile(source.file, 'utf8').catch((error: Error) => {
    throw new JproxyError('inputUnreadable', `${source.source} ${source.file}: ${error.message}`)
  })
}

/** OpenSSL's verdicts that trusting the right CA would turn into success. */
const CA_WOULD_FIX: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate from a CA that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate from a CA that is not trusted',
}

/** What fixes a verdict of CA_WOULD_FIX. */
export const CA_FIX = 'set proxy.tls.ca or pass --ca'

/** True for a TLS verification code that trusting the right CA would fix. */
export const caWouldFix = (code: string | undefined): boolean => code !== undefined && Object.hasOwn(CA_WOULD_FIX, code)

/** For a TLS verification code a private CA would fix, what it means and what to do; else undefined. */
export function caHint(code: string | undefined): string | undefined {
  return caWouldFix(code) ? `${CA_WOULD_FIX[code!]}: ${CA_FIX}` : undefined
}
