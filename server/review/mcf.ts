/**
 * Minimum-cost flow with supplies, pure and self-contained (used by the reviewer assignment in assignment.ts).
 *
 * Method: successive shortest paths with node potentials, one supply node at a time (as the Jonker–Volgenant
 * assignment algorithm does): for each unit a supply node must send, Dijkstra on reduced costs (binary heap) from
 * that node, stopped as soon as the sink is settled; the settled nodes' potentials move by (d(v) − d(sink)), which
 * keeps every reduced cost non-negative; then one augmentation along the path found. Every pseudo-flow on the way
 * is of minimum cost for what has been sent, so the order in which supply nodes are served does not matter, and a
 * search touches only the part of the network near its supply node — which is what makes 6,000 units over
 * 150,000 arcs take well under a second.
 *
 * Capacities and costs must be integers (costs are held in doubles, exact below 2^53) and costs non-negative, so
 * that zero potentials are valid at the start. The final potentials certify optimality (every residual arc has
 * reduced cost ≥ 0), which lets a caller price arcs it left out of the network.
 */

export class MinCostFlow {
  private nodeCount = 0;
  // Arcs while building: forward arc i is stored at 2i, its residual twin at 2i+1.
  private readonly tail: number[] = [];
  private readonly head: number[] = [];
  private readonly capacity: number[] = [];
  private readonly unitCost: number[] = [];
  // Frozen form (compressed adjacency), built on the first send().
  private to = new Int32Array(0);
  private cap = new Int32Array(0);
  private cost = new Float64Array(0);
  private first = new Int32Array(0);
  private adj = new Int32Array(0);
  private potential = new Float64Array(0);
  private dist = new Float64Array(0);
  private viaArc = new Int32Array(0);
  private settled = new Uint8Array(0);
  private heap = new BinaryHeap(0);
  private frozen = false;
  /** Dijkstra runs so far. */
  searches = 0;
  /** Total cost of the flow sent so far. */
  totalCost = 0;

  addNode(): number {
    if (this.frozen) throw new Error('network already in use');
    return this.nodeCount++;
  }

  get nodes(): number {
    return this.nodeCount;
  }

  /** Adds an arc and returns its id (for flowOn). */
  addArc(from: number, to: number, capacity: number, cost: number): number {
    if (this.frozen) throw new Error('network already in use');
    if (!Number.isInteger(capacity) || capacity < 0) throw new Error(`capacity must be a non-negative integer, got ${capacity}`);
    if (!Number.isInteger(cost) || cost < 0) throw new Error(`cost must be a non-negative integer, got ${cost}`);
    if (from < 0 || from >= this.nodeCount || to < 0 || to >= this.nodeCount) throw new Error('arc to an unknown node');
    this.tail.push(from);
    this.head.push(to);
    this.capacity.push(capacity);
    this.unitCost.push(cost);
    return this.tail.length - 1;
  }

  /** Units of flow on arc `id`. */
  flowOn(id: number): number {
    return this.frozen ? this.cap[2 * id + 1]! : 0;
  }

  /** Node potential: reduced cost c(u,v) + π(u) − π(v) ≥ 0 on every arc with residual capacity. */
  pi(node: number): number {
    return this.frozen ? this.potential[node]! : 0;
  }

  private freeze(): void {
    const n = this.nodeCount;
    const m = this.tail.length;
    this.to = new Int32Array(2 * m);
    this.cap = new Int32Array(2 * m);
    this.cost = new Float64Array(2 * m);
    const degree = new Int32Array(n + 1);
    for (let i = 0; i < m; i++) {
      const u = this.tail[i]!;
      const v = this.head[i]!;
      this.to[2 * i] = v;
      this.to[2 * i + 1] = u;
      this.cap[2 * i] = this.capacity[i]!;
      this.cost[2 * i] = this.unitCost[i]!;
      this.cost[2 * i + 1] = -this.unitCost[i]!;
      degree[u]!++;
      degree[v]!++;
    }
    this.first = new Int32Array(n + 1);
    for (let v = 0; v < n; v++) this.first[v + 1] = this.first[v]! + degree[v]!;
    const fill = this.first.slice(0, n);
    this.adj = new Int32Array(2 * m);
    for (let i = 0; i < m; i++) {
      this.adj[fill[this.tail[i]!]!++] = 2 * i;
      this.adj[fill[this.head[i]!]!++] = 2 * i + 1;
    }
    this.tail.length = this.head.length = this.capacity.length = this.unitCost.length = 0;
    this.potential = new Float64Array(n);
    this.dist = new Float64Array(n).fill(Infinity);
    this.viaArc = new Int32Array(n).fill(-1);
    this.settled = new Uint8Array(n);
    this.heap = new BinaryHeap(2 * m + n + 1);
    this.frozen = true;
  }

  /**
   * Sends up to `units` from `source` to `sink`, each along a cheapest path in the residual network.
   * Returns the units sent (fewer only when the sink becomes unreachable from the source).
   */
  send(source: number, sink: number, units: number): number {
    if (!this.frozen) this.freeze();
    const { to, cap, cost, first, adj, potential: pi, dist, viaArc, settled, heap } = this;
    const touched: number[] = [];
    const settledList: number[] = [];
    let sent = 0;
    while (sent < units) {
      this.searches++;
      heap.clear();
      dist[source] = 0;
      touched.push(source);
      heap.push(0, source);
      let reached = false;
      while (heap.size > 0) {
        const d = heap.topKey();
        const u = heap.pop();
        if (settled[u] || d > dist[u]!) continue;
        settled[u] = 1;
        settledList.push(u);
        if (u === sink) {
          reached = true;
          break;
        }
        const pu = pi[u]!;
        for (let a = first[u]!, end = first[u + 1]!; a < end; a++) {
          const e = adj[a]!;
          if (cap[e]! <= 0) continue;
          const v = to[e]!;
          if (settled[v]) continue;
          const nd = d + cost[e]! + pu - pi[v]!;
          if (nd < dist[v]!) {
            if (dist[v] === Infinity) touched.push(v);
            dist[v] = nd;
            viaArc[v] = e;
            heap.push(nd, v);
          }
        }
      }
      if (reached) {
        // π(v) += d(v) − d(sink) on settled nodes: the same reduced costs as adding min(d(v), d(sink)) everywhere.
        const dt = dist[sink]!;
        for (const v of settledList) pi[v] = pi[v]! + dist[v]! - dt;
        let push = units - sent;
        for (let v = sink; v !== source; v = to[viaArc[v]! ^ 1]!) push = Math.min(push, cap[viaArc[v]!]!);
        for (let v = sink; v !== source; v = to[viaArc[v]! ^ 1]!) {
          const e = viaArc[v]!;
          cap[e] = cap[e]! - push;
          cap[e ^ 1] = cap[e ^ 1]! + push;
          this.totalCost += push * cost[e]!;
        }
        sent += push;
      }
      for (const v of touched) {
        dist[v] = Infinity;
        viaArc[v] = -1;
      }
      for (const v of settledList) settled[v] = 0;
      touched.length = 0;
      settledList.length = 0;
      if (!reached) break;
    }
    return sent;
  }
}

/** A binary min-heap of (key, node) pairs with lazy deletion (stale entries are skipped by the caller). */
class BinaryHeap {
  private readonly keys: Float64Array;
  private readonly vals: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Float64Array(capacity);
    this.vals = new Int32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  topKey(): number {
    return this.keys[0]!;
  }

  push(key: number, val: number): void {
    const { keys, vals } = this;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      vals[i] = vals[parent]!;
      i = parent;
    }
    keys[i] = key;
    vals[i] = val;
  }

  pop(): number {
    const { keys, vals } = this;
    const top = vals[0]!;
    const n = --this.size;
    if (n > 0) {
      const key = keys[n]!;
      const val = vals[n]!;
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && keys[child + 1]! < keys[child]!) child++;
        if (keys[child]! >= key) break;
        keys[i] = keys[child]!;
        vals[i] = vals[child]!;
        i = child;
      }
      keys[i] = key;
      vals[i] = val;
    }
    return top;
  }
}
