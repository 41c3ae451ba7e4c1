/**
 * Pod IP allocation on one node, as the CNI `host-local` IPAM plugin does it for a kind/kubeadm
 * node: addresses come from the node's pod CIDR (`.2` to `.254` of a /24: `.0` is the network,
 * `.1` the gateway, `.255` broadcast), handed out round-robin after the last one reserved, so a
 * freed address is not reused until the range wraps around. An address held by a pod is never
 * handed out again until released.
 */

/** Allocator of one /24. */
export class PodIpAllocator {
  private readonly prefix: string;
  private readonly held = new Map<number, string>();
  private last = 1;

  constructor(readonly cidr: string) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(cidr);
    if (!m || [m[1], m[2], m[3]].some((o) => Number(o) > 255)) {
      throw new Error(`podCIDR "${cidr}" must be an IPv4 /24 such as 10.244.1.0/24`);
    }
    this.prefix = `${m[1]}.${m[2]}.${m[3]}.`;
  }

  /** The range as host-local names it in its errors. */
  get rangeSet(): string {
    return `${this.prefix}1-${this.prefix}254`;
  }

  /** Reserves the next free address for `owner` (a pod UID), or undefined when the range is full. */
  allocate(owner: string): string | undefined {
    for (let step = 1; step <= 253; step++) {
      const host = ((this.last - 2 + step) % 253) + 2;
      if (this.held.has(host)) continue;
      this.held.set(host, owner);
      this.last = host;
      return this.prefix + host;
    }
    return undefined;
  }

  /** Frees an address. */
  release(ip: string): void {
    if (!ip.startsWith(this.prefix)) return;
    this.held.delete(Number(ip.slice(this.prefix.length)));
  }

  /** Addresses in use. */
  get used(): number {
    return this.held.size;
  }
}
