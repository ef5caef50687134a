import { expect } from 'chai';
import { platform } from '../support/platform.js';
import { declaredRoutes } from '../../server/platform/policy.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean>; stack: Array<{ handle: { name: string } }> };
  handle: { name: string; stack?: Layer[] };
}

function routesOf(stack: Layer[], out: Array<{ path: string; methods: string[]; first: string }> = []) {
  for (const layer of stack) {
    if (layer.route) out.push({ path: layer.route.path, methods: Object.keys(layer.route.methods), first: layer.route.stack[0]?.handle.name ?? '' });
    else if (layer.handle.stack) routesOf(layer.handle.stack, out);
  }
  return out;
}

describe('route policies', () => {
  it('every mounted route starts with its declared policy check', async () => {
    const { app } = await platform();
    const routes = routesOf((app as unknown as { router: { stack: Layer[] } }).router.stack);
    expect(routes.length).to.be.greaterThan(10);
    const unguarded = routes.filter((r) => r.first !== 'enforcePolicy').map((r) => `${r.methods.join(',')} ${r.path}`);
    expect(unguarded, `routes without a policy: ${unguarded.join('; ')}`).to.deep.equal([]);
  });

  it('every declared policy says in words who may use the route', () => {
    for (const r of declaredRoutes) expect(r.policy, `${r.method} ${r.path}`).to.be.a('string').with.length.greaterThan(5);
  });

  it('no GET route changes state: mutations are POST-only', () => {
    const suspicious = declaredRoutes.filter((r) => r.method === 'GET' && /\/(delete|remove|revoke|disable|enable|approve|reject|retry|logout|submit|confirm)(\/|$)/.test(r.path));
    expect(suspicious).to.deep.equal([]);
  });
});
