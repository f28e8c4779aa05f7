// services.releases: the platform add-ons, then every enabled service whose chart the bundle carries, as Helm releases
// installed from the bundle's chart archives with the plan's values — `helm upgrade --install --rollback-on-failure
// --wait` — followed by a wait until every pod of the service's namespace is ready.
//
// Where the work happens: helm runs on THIS machine (the installer's), through the HelmClient the factory receives,
// against the admin kubeconfig k8s.kubeconfig saved here. The step's target is the first control plane only so the
// journal has a host to key it on and the pod checks can run there read-only (`kubectl` with admin.conf through
// ctx.query); nothing is written to any node through ctx.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import type { BundleParts } from "../bundleParts.js";
import { adminReady, firstControlPlane, kubectl, sleep } from "../k8s/kube.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { parseServicePods, remedyForPods, unreadyPods } from "./health.js";
import { missingImages, renderedImages } from "./images.js";
import type { HelmClient } from "./ports.js";
import { bundleValues, mergeValues, planReleases, releaseHash, releaseLabels, releaseState, wantsBundleValues, type AddonSpec, type PlannedRelease } from "./releasePlan.js";

export interface ServicesReleasesOptions {
  helm: HelmClient;
  parts: BundleParts;
  /** Platform add-ons installed before the services (charts of the bundle). */
  addons?: readonly AddonSpec[];
  /** helm's --timeout per release (default 10 minutes). */
  timeoutMs?: number;
  /** How long to wait after a release for its namespace's pods to be ready (default 5 minutes). */
  readyTimeoutMs?: number;
  pollMs?: number;
}

/** Builds the step. */
export function servicesReleases(o: ServicesReleasesOptions): Step<Plan> {
  const id = "services.releases";
  const timeoutMs = o.timeoutMs ?? 10 * 60_000;
  const readyTimeoutMs = o.readyTimeoutMs ?? 5 * 60_000;
  const pollMs = o.pollMs ?? 2000;
  let releases: PlannedRelease[] = [];
  let withoutChart: string[] = [];
  let kubeVersion: string | null = null;
  // Final values per release (plan values + global.omstack when the chart asks for it); Chart.yaml is read once.
  const finals = new Map<string, Promise<{ values: Record<string, unknown>; hash: string }>>();

  const final = (r: PlannedRelease) => {
    const key = `${r.namespace}/${r.release}`;
    let p = finals.get(key);
    if (!p) {
      p = (async () => {
        const values = wantsBundleValues(await o.helm.showChart(r.chart.source)) ? mergeValues(r.values, bundleValues(o.parts.version, o.parts.images)) : r.values;
        return { values, hash: releaseHash(r, values) };
      })();
      p.catch(() => finals.delete(key));
      finals.set(key, p);
    }
    return p;
  };

  const notePlain = (ctx: ReadCtx) => {
    if (withoutChart.length) ctx.note(`enabled service(s) ${withoutChart.join(", ")}: bundle ${o.parts.version} carries no chart for them (omstack-<service>), so they are not installed`);
  };

  const unavailableError = (why: string) =>
    new OmstackError("E_HELM_UNAVAILABLE", `helm cannot run on this machine: ${why}`, {
      remedy: /bin\/helm/.test(why) ? "install from a bundle that carries bin/helm (omstack bundle inspect lists its files)" : "run the install again from k8s.kubeconfig (omstack install --from-step k8s.kubeconfig)",
    });

  /** Problems of every planned release's namespace (pods not ready); empty when all are healthy. */
  async function podProblems(ctx: ReadCtx, namespaces: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const ns of namespaces) {
      const r = await ctx.query(kubectl("-n", ns, "get", "pods", "-o", "json", "--request-timeout=30s"), { timeoutMs: 60_000 });
      out.push(...unreadyPods(ns, parseServicePods(r.stdout, ctx.host)));
    }
    return out;
  }

  /** Polls one namespace until its pods are ready; E_SERVICE_NOT_READY naming them when the wait ends. */
  async function waitPods(ctx: ReadCtx, r: PlannedRelease) {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const problems = await podProblems(ctx, [r.namespace]);
      if (problems.length === 0) return;
      if (Date.now() >= deadline) {
        throw new OmstackError("E_SERVICE_NOT_READY", `${ctx.host}: ${r.kind} ${r.owner} (release ${r.namespace}/${r.release}) was deployed, but within ${Math.round(readyTimeoutMs / 1000)} s: ${problems.join("; ")}`, {
          host: ctx.host,
          remedy: remedyForPods(problems, r.namespace),
        });
      }
      await sleep(pollMs);
    }
  }

  return {
    id,
    title: "Install the platform add-ons and enabled services (helm)",
    needsEveryHost: true,
    targets: (plan) => {
      ({ releases, withoutChart } = planReleases(plan.services, o.parts, o.addons ?? []));
      kubeVersion = plan.cluster.kubernetesVersion;
      return releases.length || withoutChart.length ? [firstControlPlane(plan).host] : [];
    },
    inputs: () => ({
      releases: releases.map((r) => ({ release: r.release, namespace: r.namespace, chart: r.chart.sha256, values: r.values })),
      bundle: o.parts.version,
      images: o.parts.images.map((i) => `${i.name}@${i.digest}`),
      kubeVersion,
    }),
    async check(ctx): Promise<CheckResult> {
      notePlain(ctx);
      if (releases.length === 0) return "done";
      const why = await o.helm.unavailable();
      if (why) return { pending: `helm cannot run yet: ${why}` };
      const pending: string[] = [];
      for (const r of releases) {
        const { hash } = await final(r);
        const st = releaseState(await o.helm.release(r.release, r.namespace), r, hash);
        if (st.state !== "current") pending.push(st.why);
      }
      if (pending.length === 0) {
        if (!(await adminReady(ctx))) return { pending: "the cluster's admin kubectl is not available on the control plane" };
        pending.push(...(await podProblems(ctx, releases.map((r) => r.namespace))));
      }
      return pending.length ? { pending: pending.slice(0, 4).join("; ") + (pending.length > 4 ? `; … (${pending.length} in all)` : "") } : "done";
    },
    async apply(ctx) {
      const why = await o.helm.unavailable();
      if (why) throw unavailableError(why);
      for (const r of releases) {
        const { values, hash } = await final(r);
        const st = releaseState(await o.helm.release(r.release, r.namespace), r, hash);
        if (st.state !== "current") {
          // Offline, an image the bundle lacks never arrives: say so now instead of after helm's timeout.
          const missing = missingImages(renderedImages(await o.helm.template({ release: r.release, namespace: r.namespace, chartPath: r.chart.source, values, kubeVersion })), o.parts.images);
          if (missing.length) {
            throw new OmstackError("E_SERVICE_IMAGE_MISSING", `${r.kind} ${r.owner}: chart ${r.chart.name} ${r.chart.version} with the plan's values runs ${missing.join(", ")}, which bundle ${o.parts.version} does not carry (nothing is pulled offline)`, {
              remedy: "use a bundle built with these images (omstack images lock lists what the charts need), or correct the image in the service's values",
            });
          }
          if (st.state === "reinstall") {
            ctx.note(`${st.why}: removing it before installing again`);
            await o.helm.uninstall(r.release, r.namespace, timeoutMs);
          } else if (st.state === "unstick") {
            ctx.note(`${st.why}: rolling it back to its last revision before upgrading`);
            await o.helm.rollback(r.release, r.namespace, timeoutMs);
          }
          await o.helm.upgradeInstall({ release: r.release, namespace: r.namespace, chartPath: r.chart.source, values, labels: releaseLabels(r, hash), timeoutMs });
        }
        await waitPods(ctx, r);
      }
    },
    async verify(ctx) {
      const problems: string[] = [];
      for (const r of releases) {
        const { hash } = await final(r);
        const st = releaseState(await o.helm.release(r.release, r.namespace), r, hash);
        if (st.state !== "current") problems.push(st.why);
      }
      problems.push(...(await podProblems(ctx, releases.map((r) => r.namespace))));
      if (problems.length) {
        throw verifyFailed(ctx.host, id, `every planned release must be deployed from the bundle's chart with the plan's values, and its pods ready; ${problems.join("; ")}`, remedyForPods(problems, releases[0]?.namespace ?? "omstack-<service>"));
      }
    },
    describe: () => [
      ...releases.map(
        (r) =>
          `on this machine: helm upgrade --install ${r.release} ${r.chart.source} (${r.chart.name} ${r.chart.version}) -n ${r.namespace} --create-namespace --rollback-on-failure --wait=watcher --timeout ${Math.round(timeoutMs / 1000)}s` +
          ` with ${r.kind === "service" ? `the plan's values for ${r.owner}` : `add-on values`}: ${JSON.stringify(r.values)}; then wait until every pod in ${r.namespace} is ready`,
      ),
      ...(withoutChart.length ? [`not installed (no chart in bundle ${o.parts.version}): ${withoutChart.join(", ")}`] : []),
    ],
  };
}
