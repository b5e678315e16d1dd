// Numbers for people: sizes in KiB/MiB/GiB next to the exact byte count, durations as `7 min 23 s`.
// Used by the site (src/publish/render.ts) and the CLI's summaries and progress lines.

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 68965341 -> "65.8 MiB"; under 1 KiB: "512 bytes". */
export function humanBytes(bytes: number | bigint): string {
  let value = Number(bytes);
  if (!Number.isFinite(value) || value < 1024) return `${bytes} byte${Number(bytes) === 1 ? '' : 's'}`;
  let unit = -1;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** The exact count with the readable size: "68965341 bytes (65.8 MiB)"; small sizes only as bytes. */
export function bytesWithHuman(bytes: number | bigint): string {
  return Number(bytes) < 1024 ? humanBytes(bytes) : `${bytes} bytes (${humanBytes(bytes)})`;
}

/** 443 -> "7 min 23 s"; 4000 -> "1 h 6 min"; 2.5 -> "2.5 s"; 0.25 -> "250 ms". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return `${seconds} s`;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${(Math.round(seconds * 10) / 10).toString()} s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/** The exact seconds with the readable duration past a minute: "1234 s (20 min 34 s)"; "42 s". */
export function secondsWithHuman(seconds: number): string {
  return seconds < 60 ? `${seconds} s` : `${seconds} s (${formatDuration(seconds)})`;
}

/** A rate for progress lines: "1,234 entries/s", "45.2 MiB/s". */
export function formatRate(count: number, seconds: number, unit: string): string {
  if (seconds <= 0) return '';
  const rate = count / seconds;
  if (unit === 'bytes') return `${humanBytes(Math.round(rate))}/s`;
  return `${Math.round(rate).toLocaleString('en-US')} ${unit}/s`;
}
