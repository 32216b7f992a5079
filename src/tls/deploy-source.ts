import {join} from 'node:path'

import {JproxyError} from '../errors.js'

/** The renewed files to deploy, and which client handed them over. */
export interface DeploySource {
  certificate: string
  /** Issuer certificates in a file of their own (--chain, lego v5's issuer file). */
  chain?: string
  from: 'certbot' | 'flags' | 'lego'
  /** The private key's file; none: the key is in the certificate file. */
  key?: string
}

export interface SourceFlags {
  cert?: string
  chain?: string
  key?: string
}

/**
 * Where the new certificate is: `--cert/--key/--chain` when given; else certbot's deploy hook
 * (`RENEWED_LINEAGE` = live/<name>: fullchain.pem and privkey.pem, never cert.pem, which lacks
 * the chain); else lego's hook (v5 `LEGO_HOOK_CERT_PATH`, `LEGO_HOOK_CERT_KEY_PATH`,
 * `LEGO_HOOK_ISSUER_CERT_PATH`; 4.x `LEGO_CERT_PATH`, `LEGO_CERT_KEY_PATH`, whose certificate
 * file holds the issuer unless lego ran with --no-bundle).
 */
export function deploySource(flags: SourceFlags, env: NodeJS.ProcessEnv): DeploySource {
  if (flags.cert !== undefined) return {certificate: flags.cert, chain: flags.chain, from: 'flags', key: flags.key}
  if (flags.key !== undefined || flags.chain !== undefined) throw new JproxyError('usage', '--key and --chain need --cert')
  if (env.RENEWED_LINEAGE) return {certificate: join(env.RENEWED_LINEAGE, 'fullchain.pem'), from: 'certbot', key: join(env.RENEWED_LINEAGE, 'privkey.pem')}
  const legoCert = env.LEGO_HOOK_CERT_PATH || env.LEGO_CERT_PATH
  if (legoCert) {
    const key = env.LEGO_HOOK_CERT_KEY_PATH || env.LEGO_CERT_KEY_PATH
    if (!key) throw new JproxyError('usage', 'lego gave a certificate path but no key path (LEGO_HOOK_CERT_KEY_PATH / LEGO_CERT_KEY_PATH)')
    return {certificate: legoCert, chain: env.LEGO_HOOK_ISSUER_CERT_PATH || undefined, from: 'lego', key}
  }

  throw new JproxyError('usage', 'no certificate to deploy: give --cert FILE --key FILE [--chain FILE], or run as certbot\'s --deploy-hook (RENEWED_LINEAGE) or lego\'s --run-hook/--renew-hook (LEGO_CERT_PATH)')
}
