/**
 * rlink's web dashboard: a single page the job manager serves at `GET /`, plain TypeScript and DOM
 * (no framework, no CDN), bundled by esbuild at build time (dashboard/build.mjs).
 *
 *   #/                       cluster overview: task managers, slots, jobs by state
 *   #/jobs                   every job the job manager knows
 *   #/jobs/<id>[/…]          one job (pages/job.ts): DAG, vertices, checkpoints, exceptions
 *   #/taskmanagers           slots, memory, heartbeat age
 *
 * The current page polls the REST API every POLL_MS (the next poll starts when the previous one has
 * rendered, so a slow job manager is never flooded). The page logs nothing to the console: problems
 * show in the header's status and in notices.
 */
import { h, replace, setText } from './dom';
import { clearNotices, tokenControl } from './dialogs';
import { JobPage, type JobTab } from './pages/job';
import { JobsPage, OverviewPage, TaskManagersPage, type Page } from './pages/simple';

/** How often the current page reads the job manager, in ms (the issue asks for at least every 2 s). */
export const POLL_MS = 1000;

interface Route { key: string; make(): Page; update?(p: Page): void }

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((x) => x !== '').map((x) => decodeURIComponent(x));
  if (parts[0] === 'jobs' && parts[1]) {
    const id = parts[1];
    const tab: JobTab = parts[2] === 'checkpoints' ? 'checkpoints' : parts[2] === 'exceptions' ? 'exceptions' : 'graph';
    const vertex = parts[2] === 'vertices' ? parts[3] : undefined;
    return { key: `job:${id}`, make: () => new JobPage(id, tab, vertex), update: (p) => (p as JobPage).setRoute(tab, vertex) };
  }
  if (parts[0] === 'jobs') return { key: 'jobs', make: () => new JobsPage() };
  if (parts[0] === 'taskmanagers') return { key: 'taskmanagers', make: () => new TaskManagersPage() };
  return { key: 'overview', make: () => new OverviewPage() };
}

const main = h('main', { id: 'main', tabindex: -1 });
const status = h('span', { class: 'live', 'data-testid': 'live-status', role: 'status' }, 'connecting…');
const navLinks = [
  ['overview', '#/', 'Overview'],
  ['jobs', '#/jobs', 'Jobs'],
  ['taskmanagers', '#/taskmanagers', 'Task managers'],
] as const;
const nav = h('nav', { class: 'main-nav', 'aria-label': 'Sections' }, navLinks.map(([key, href, label]) => h('a', { href, 'data-nav': key, 'data-testid': `nav-${key}` }, label)));

let current: { key: string; page: Page } | undefined;
let generation = 0;
let timer: number | undefined;

async function poll(gen: number): Promise<void> {
  const page = current?.page;
  if (!page) return;
  try {
    await page.refresh();
    if (gen !== generation) return;
    const d = new Date();
    setText(status, `live · updated ${d.toLocaleTimeString()}`);
    status.className = 'live ok';
    status.setAttribute('data-updated', String(d.getTime()));
  } catch (e) {
    if (gen !== generation) return;
    setText(status, `not updated: ${e instanceof Error ? e.message : String(e)}`);
    status.className = 'live error';
  } finally {
    if (gen === generation) timer = window.setTimeout(() => void poll(gen), POLL_MS);
  }
}

function route(): void {
  const r = parseRoute(location.hash);
  const section = r.key.startsWith('job') ? 'jobs' : r.key;
  for (const a of nav.querySelectorAll('a')) {
    const on = a.getAttribute('data-nav') === section;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (current && current.key === r.key && r.update) {
    r.update(current.page);
  } else {
    current?.page.dispose?.();
    if (current) clearNotices();
    current = { key: r.key, page: r.make() };
    replace(main, current.page.element);
  }
  generation++;
  if (timer !== undefined) window.clearTimeout(timer);
  void poll(generation);
}

function start(): void {
  const root = document.getElementById('app');
  if (!root) return;
  replace(root,
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '#/' }, 'rlink'),
      nav,
      h('div', { class: 'right' }, status, tokenControl())),
    h('div', { id: 'notices', class: 'notices', 'aria-live': 'polite' }),
    main);
  window.addEventListener('hashchange', route);
  route();
}

start();
