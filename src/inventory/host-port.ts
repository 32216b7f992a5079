/** `address:port`, with IPv6 literals in brackets (`[2001:db8::1]:443`), as HAProxy and humans write it. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
}
