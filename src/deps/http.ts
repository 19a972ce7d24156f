/**
 * HTTP for `tsdbt deps`: JSON from the dbt Hub API and tarball downloads,
 * through Node's built-in fetch (undici). As dbt
 * (`connection_exception_retry`), a connection error or a 5xx answer is
 * retried (here 3 attempts, 0.5 s then 1 s apart); a 4xx answer is final.
 */
import { TsdbtError } from '../errors.ts';
import { maskUrlCredentials } from '../secrets.ts';

/** Fetches `url` and returns the body. Errors: TsdbtError `deps-download` (runtime, exit 1) naming the URL. */
export async function httpGet(url: string, what: string, display: string = maskUrlCredentials(url)): Promise<Buffer> {
  let lastError = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const resp = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) });
      if (resp.ok) return Buffer.from(await resp.arrayBuffer());
      lastError = `HTTP ${resp.status} ${resp.statusText}`.trim();
      if (resp.status < 500) break;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      lastError = err.cause?.code ?? err.cause?.message ?? err.message;
    }
    if (attempt < 3) await new Promise((r) => setTimeout(r, 500 * attempt));
  }
  throw new TsdbtError('deps-download', `could not download ${what} from ${display}: ${String(lastError).split(url).join(display)}`, {
    kind: 'runtime',
    hint: 'check the URL and the network (a hub package: is the version published? DBT_PACKAGE_HUB_URL sets the hub)',
  });
}

/** {@link httpGet} parsed as JSON. Errors: `deps-download`, or `deps-bad-response` when the body is not JSON. */
export async function httpGetJson(url: string, what: string): Promise<unknown> {
  const body = await httpGet(url, what);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new TsdbtError('deps-bad-response', `the answer for ${what} from ${url} is not JSON`, {
      kind: 'runtime',
      hint: 'is DBT_PACKAGE_HUB_URL pointing at a dbt Hub (it serves api/v1/index.json)?',
    });
  }
}
