import type { ReadinessRegistry, RouteRegistry } from '../feature.js';

/**
 * Kubernetes-style probes (issue 19), open without a token so a kubelet or load balancer can ask:
 * `GET /healthz` answers 200 while the process serves requests; `GET /readyz` answers 200 once
 * every readiness check passes (the core started, sign-in done, MQTT subscribed…) and 503 with
 * the reasons otherwise.
 */
export function registerHealthRoutes(routes: RouteRegistry, readiness: ReadinessRegistry): void {
  routes.add('GET', '/healthz', () => ({ status: 200, body: { status: 'ok' } }), { access: 'open' });
  routes.add(
    'GET',
    '/readyz',
    () => {
      const status = readiness.status();
      if (status.ready) return { status: 200, body: { status: 'ready' } };
      const reasons = status.waiting.map((w) => `${w.name}: ${w.reason}`).join('; ');
      return { status: 503, headers: { 'retry-after': '5' }, body: { error: { code: 'notReady', message: `not ready: ${reasons}` }, waiting: status.waiting } };
    },
    { access: 'open' },
  );
}
