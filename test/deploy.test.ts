/**
 * docker-compose.yml and deploy/kubernetes cannot run here; these checks keep them consistent with the code:
 * every setting they pass is one the server reads, every node can reach what its role needs (database, secret,
 * its own address, the shared evidence volume), and every volume or claim they mount exists.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const ROLES = ['api', 'ingest', 'analytics', 'all'];

/** Every non-test TypeScript source of the server side, concatenated (where settings are read). */
const sources = (() => {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(readFileSync(p, 'utf8'));
    }
  };
  for (const d of ['server', 'ingest', 'analytics']) walk(join(root, d));
  return out.join('\n');
})();
const serverReads = (name: string) => new RegExp(`\\b${name}\\b`).test(sources);

type Env = Record<string, string>;

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Env; ports?: string[]; volumes?: string[]; image?: string; healthcheck?: unknown; depends_on?: Record<string, unknown> }>;
    volumes: Record<string, unknown>;
  };
  const nodes = Object.entries(compose.services).filter(([name]) => name !== 'postgres');

  it('runs every StreetEye node from one image with the database, the shared secret, a role and a health check', () => {
    expect(nodes.length).toBeGreaterThanOrEqual(4);
    for (const [name, s] of nodes) {
      expect(s.image, name).toBe('streeteye:latest');
      expect(ROLES, name).toContain(s.environment?.STREETEYE_ROLE);
      expect(s.environment?.DATABASE_URL, name).toMatch(/^postgres:\/\/.+@postgres:5432\//);
      expect(s.environment?.STREETEYE_SECRET, name).toMatch(/STREETEYE_SECRET/);
      expect(s.healthcheck, name).toBeTruthy();
      expect(Object.keys(s.depends_on ?? {}), name).toContain('postgres');
    }
    expect(nodes.filter(([, s]) => s.environment?.STREETEYE_ROLE === 'ingest').length).toBeGreaterThanOrEqual(2);
  });

  it('passes only settings the server reads', () => {
    for (const [name, s] of nodes) {
      for (const key of Object.keys(s.environment ?? {})) expect(serverReads(key), `${name}: ${key}`).toBe(true);
    }
  });

  it('gives every video node its own published port and the address browsers reach it on', () => {
    const ports = new Set<string>();
    for (const [name, s] of nodes.filter(([, x]) => ['ingest', 'analytics'].includes(x.environment!.STREETEYE_ROLE))) {
      const published = (s.ports ?? []).map((p) => p.split(':')[0]);
      expect(published, name).toHaveLength(1);
      expect(ports.has(published[0]), `${name} port ${published[0]} taken twice`).toBe(false);
      ports.add(published[0]);
      expect(s.environment!.STREETEYE_NODE_ADDRESS, name).toMatch(new RegExp(`:${published[0]}$`));
    }
  });

  it('shares one evidence volume between the analytics nodes that write it and the API that serves it', () => {
    const evidenceMount = (s: { environment?: Env; volumes?: string[] }) => {
      const dir = s.environment?.EVIDENCE_DIR;
      return dir ? (s.volumes ?? []).find((v) => v.split(':')[1] === dir)?.split(':')[0] : undefined;
    };
    const writers = nodes.filter(([, s]) => s.environment!.STREETEYE_ROLE === 'analytics');
    const readers = nodes.filter(([, s]) => s.environment!.STREETEYE_ROLE === 'api');
    const volumes = new Set([...writers, ...readers].map(([, s]) => evidenceMount(s)));
    expect(volumes.size).toBe(1);
    const [volume] = volumes;
    expect(volume).toBeTruthy();
    expect(Object.keys(compose.volumes)).toContain(volume);
    // and every other named volume mounted is declared
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const src = v.split(':')[0];
        if (!src.startsWith('.') && !src.startsWith('/')) expect(Object.keys(compose.volumes), `${name}: ${src}`).toContain(src);
      }
    }
  });
});

describe('deploy/kubernetes', () => {
  type Container = { env?: Array<{ name: string; value?: string }>; volumeMounts?: Array<{ name: string; mountPath: string }> };
  type Doc = { kind: string; metadata: { name: string }; data?: Env; spec?: any };
  const docs = parseAllDocuments(readFileSync(join(root, 'deploy/kubernetes/streeteye.yaml'), 'utf8')).map((d) => d.toJS() as Doc);
  const byKind = (k: string) => docs.filter((d) => d.kind === k);
  const workloads = [...byKind('Deployment'), ...byKind('StatefulSet')];
  const config = byKind('ConfigMap')[0].data!;

  it('passes only settings the server reads, with a role on every workload', () => {
    for (const key of Object.keys(config)) expect(serverReads(key), `ConfigMap: ${key}`).toBe(true);
    for (const w of workloads) {
      const env = (w.spec.template.spec.containers as Container[]).flatMap((c) => c.env ?? []);
      expect(ROLES, w.metadata.name).toContain(env.find((e) => e.name === 'STREETEYE_ROLE')?.value);
      // POD_NAME is Kubernetes' own, used to build the node address
      for (const e of env) if (e.name !== 'POD_NAME') expect(serverReads(e.name), `${w.metadata.name}: ${e.name}`).toBe(true);
    }
  });

  it('mounts only declared volumes, claims only declared PVCs, and shares the evidence claim between API and analytics', () => {
    const claims = new Set(byKind('PersistentVolumeClaim').map((c) => c.metadata.name));
    const evidenceClaims = new Map<string, string>();
    for (const w of workloads) {
      const spec = w.spec.template.spec;
      const volumes = new Map<string, { persistentVolumeClaim?: { claimName: string } }>((spec.volumes ?? []).map((v: { name: string }) => [v.name, v]));
      for (const c of spec.containers as Container[]) {
        for (const m of c.volumeMounts ?? []) {
          expect(volumes.has(m.name), `${w.metadata.name}: volume ${m.name}`).toBe(true);
          if (m.mountPath === config.EVIDENCE_DIR) evidenceClaims.set(w.metadata.name, volumes.get(m.name)!.persistentVolumeClaim!.claimName);
        }
      }
      for (const v of volumes.values()) if (v.persistentVolumeClaim) expect(claims, w.metadata.name).toContain(v.persistentVolumeClaim.claimName);
    }
    expect([...evidenceClaims.keys()].sort()).toEqual(['streeteye-analytics', 'streeteye-api']);
    expect(new Set(evidenceClaims.values()).size).toBe(1);
  });

  it('routes every addressable pod: one Service per pod and an Ingress rule for its host', () => {
    const services = new Set(byKind('Service').map((s) => s.metadata.name));
    const hosts = new Map<string, string>((byKind('Ingress')[0].spec.rules as Array<{ host: string; http: { paths: Array<{ backend: { service: { name: string } } }> } }>)
      .map((r) => [r.host, r.http.paths[0].backend.service.name]));
    for (const w of byKind('StatefulSet')) {
      for (let i = 0; i < w.spec.replicas; i++) {
        const pod = `${w.metadata.name}-${i}`;
        expect(services, pod).toContain(pod);
        expect(hosts.get(`${pod}.video.example.gov.cn`), pod).toBe(pod);
      }
    }
  });
});
