// "2 minutes ago", as docker ps prints CREATED.

/** How long ago `then` was, in words; `now` for tests. */
export function timeAgo(then: Date | string, now: Date = new Date()): string {
  const t = typeof then === 'string' ? new Date(then) : then;
  const s = Math.floor((now.getTime() - t.getTime()) / 1000);
  if (!Number.isFinite(s)) return '-';
  if (s < 1) return 'Less than a second ago';
  if (s === 1) return '1 second ago';
  if (s < 60) return `${s} seconds ago`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute ago';
  if (m < 60) return `${m} minutes ago`;
  const h = Math.floor(m / 60);
  if (h === 1) return 'About an hour ago';
  if (h < 48) return `${h} hours ago`;
  const d = Math.floor(h / 24);
  if (d < 14) return `${d} days ago`;
  if (d < 60) return `${Math.floor(d / 7)} weeks ago`;
  if (d < 730) return `${Math.floor(d / 30)} months ago`;
  return `${Math.floor(d / 365)} years ago`;
}
