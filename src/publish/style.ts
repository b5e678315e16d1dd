// The site's stylesheets and the one Content-Security-Policy builder for its pages. Each stylesheet is
// inlined in its pages under a CSP hash (no external loads, no inline style attributes). Plain CSS, no
// framework: readable on a phone (tables scroll sideways inside their box).
import { encodeBase64, utf8 } from '../tlog/encoding.js';
import { sha256 } from '../tlog/sha256.js';

export const SITE_CSS = `
:root{--fg:#1f2328;--muted:#59636e;--bg:#f4f6f8;--card:#fff;--line:#d0d7de;--soft:#eaeef2;--link:#0550ae;
--eq:#116329;--eq-bg:#dafbe1;--eq-line:#4ac26b;--ne:#a40e26;--ne-bg:#ffebe9;--ne-line:#ff8182;
--un:#7a4d00;--un-bg:#fff1c2;--un-line:#d4a72c;--fa:#5e2bb8;--fa-bg:#f0e9ff;--fa-line:#b39bf0;--no:#6e7781}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--link);text-decoration:none}
a:hover{text-decoration:underline}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
pre{background:#f6f8fa;border:1px solid var(--soft);border-radius:4px;padding:8px 10px;overflow-x:auto;margin:6px 0;white-space:pre}
header.site{background:#0f1b2b;color:#fff;border-bottom:3px solid #2f6fdd}
header.site .in{max-width:1200px;margin:0 auto;padding:10px 16px;display:flex;flex-wrap:wrap;align-items:center;gap:6px 28px}
header.site .brand{color:#fff;font-weight:700;font-size:17px;letter-spacing:.2px}
header.site .origin{display:block;color:#9fb3c8;font-size:12px;font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:400}
header.site nav{display:flex;flex-wrap:wrap;gap:4px 16px}
header.site nav a{color:#c9d6e3;font-size:14px;padding:2px 0;border-bottom:2px solid transparent}
header.site nav a:hover{color:#fff;text-decoration:none}
header.site nav a[aria-current=page]{color:#fff;border-bottom-color:#58a6ff}
main{max-width:1200px;margin:0 auto;padding:14px 16px 40px}
h1{font-size:22px;margin:10px 0 12px}
h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 8px}
p{margin:6px 0}
.muted{color:var(--muted)}
.small{font-size:13px}
.invisible{color:var(--ne);background:var(--ne-bg);border-radius:3px;padding:0 2px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(250px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:0}
.card h3{margin:0 0 6px;font-size:12px;text-transform:uppercase;letter-spacing:.6px;color:var(--muted)}
.card .big{font-size:24px;font-weight:650}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;background:var(--card);border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{padding:6px 10px;border-bottom:1px solid var(--soft);text-align:left;vertical-align:top;white-space:nowrap}
tr:last-child>td{border-bottom:0}
thead th{background:#f0f3f6;font-weight:600;color:#424a53;font-size:13px;border-bottom:1px solid var(--line)}
td.wrap,th.wrap{white-space:normal;overflow-wrap:anywhere}
.hash{white-space:normal;word-break:break-all}
table.kv{background:var(--card);border:1px solid var(--line);border-radius:6px;border-collapse:separate;border-spacing:0;overflow:hidden}
section.build table.kv{border:0;border-radius:0}
table.kv th{width:170px;background:#f6f8fa;font-weight:600;color:#424a53;font-size:13px}
table.kv td{white-space:normal;overflow-wrap:anywhere}
table.verdicts th.v,table.verdicts td.v{position:sticky;left:0;background:#fff;z-index:1;border-right:1px solid var(--line)}
table.verdicts thead th.v{background:#f0f3f6}
table.verdicts td.cell{text-align:center}
table.verdicts th.t{text-align:center}
.badge{display:inline-block;min-width:86px;text-align:center;padding:1px 8px;border-radius:12px;font-size:12.5px;font-weight:600;border:1px solid;white-space:nowrap}
.s-equal{color:var(--eq);background:var(--eq-bg);border-color:var(--eq-line)}
.s-unequal{color:var(--ne);background:var(--ne-bg);border-color:var(--ne-line)}
.s-unchecked{color:var(--un);background:var(--un-bg);border-color:var(--un-line)}
.s-failed{color:var(--fa);background:var(--fa-bg);border-color:var(--fa-line)}
.s-none{color:var(--no);background:transparent;border-color:transparent;font-weight:400}
a.badge:hover{text-decoration:none;filter:brightness(.96)}
.flag{color:var(--ne);font-weight:700;margin-left:4px}
.alarms{border:2px solid var(--ne);background:#fff6f6;border-radius:6px;padding:10px 16px;margin:6px 0 14px}
.alarms h2{color:var(--ne);border:0;margin:0 0 4px;padding:0;font-size:18px}
.alarms ol{margin:6px 0 2px;padding-left:22px}
.alarms li{margin:6px 0;overflow-wrap:anywhere}
.alarms .kind{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.5px;color:#fff;background:var(--ne);border-radius:3px;padding:0 6px;margin-right:6px}
.allclear{border:1px solid var(--eq-line);background:#f1fbf3;color:var(--eq);border-radius:6px;padding:10px 16px;margin:6px 0 14px}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0 10px;font-size:13px;color:var(--muted)}
.legend .badge{min-width:0}
.legend .s-none{border-color:var(--line)}
section.build{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:4px 14px 12px;margin:14px 0}
section.build.alarm{border:2px solid var(--ne)}
section.build h2{border:0;margin:10px 0 6px;display:flex;flex-wrap:wrap;gap:6px 12px;align-items:center}
footer{max-width:1200px;margin:0 auto;padding:10px 16px 30px;color:var(--muted);font-size:13px;border-top:1px solid var(--line)}
@media (max-width:640px){body{font-size:14px}main{padding:10px}h1{font-size:19px}table.kv th{width:110px}}
`.trim();

/**
 * The stylesheet of verify.html (src/publish/verify-page.ts): its own light and dark palette for the
 * verdict box and progress bar.
 */
export const VERIFY_PAGE_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #ffffff; --box: #f6f8fa; --line: #d0d7de;
  --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5; --run: #0969da; --run-bg: #ddf4ff; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --box: #161b22; --line: #30363d;
  --ok: #3fb950; --ok-bg: #0f2d1a; --bad: #f85149; --bad-bg: #3b1216; --warn: #d29922; --warn-bg: #2e2409; --run: #58a6ff; --run-bg: #0c2d4f; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 50rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 0.75rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 0.5rem; }
p { margin: 0.5rem 0; }
code { font: 0.9em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
a { color: var(--run); }
.muted, footer { color: var(--muted); font-size: 0.9rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 1rem 0; padding: 0.75rem 1rem;
  background: var(--box); border: 1px solid var(--line); border-radius: 6px; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; min-width: 0; }
.facts code, footer code { word-break: break-all; }
@media (max-width: 36rem) { .facts { grid-template-columns: 1fr; } .facts dd { margin-bottom: 0.5rem; } }
.status { margin: 1.25rem 0; padding: 1rem 1.25rem; border: 2px solid var(--line); border-left-width: 0.5rem; border-radius: 6px; }
#status-text { font-size: 1.2rem; font-weight: 700; margin: 0; overflow-wrap: anywhere; }
.status.running { border-color: var(--run); background: var(--run-bg); }
.status.verified { border-color: var(--ok); background: var(--ok-bg); }
.status.verified #status-text { color: var(--ok); }
.status.failed { border-color: var(--bad); background: var(--bad-bg); }
.status.failed #status-text { color: var(--bad); }
#history-text { font-weight: 700; margin: 0; overflow-wrap: anywhere; } .status.verified #history-text { color: var(--ok); } .status.failed #history-text { color: var(--bad); }
.status.unavailable { border-color: var(--warn); background: var(--warn-bg); }
progress { width: 100%; height: 0.75rem; margin-top: 0.75rem; accent-color: var(--run); }
#progress-text { margin: 0.25rem 0 0; color: var(--muted); font-size: 0.9rem; }
ul { margin: 0.25rem 0; padding-left: 1.25rem; }
li { margin: 0.25rem 0; overflow-wrap: anywhere; }
#problems li { color: var(--bad); }
#warnings li { color: var(--warn); }
footer { margin-top: 2rem; padding-top: 1rem; border-top: 1px solid var(--line); }
`;

/** The CSP source for an inline stylesheet (CSP Level 3 "hash-source"). */
export function styleHashSource(css: string = SITE_CSS): string {
  return `'sha256-${encodeBase64(sha256(utf8(css)))}'`;
}

/**
 * The Content-Security-Policy of a page of the site: nothing but its one inline stylesheet `css` (by
 * hash); with `scripts`, also scripts and fetches from the site itself ('self') and its images.
 */
export function contentSecurityPolicy(css: string, options: { readonly scripts?: boolean } = {}): string {
  return [
    "default-src 'none'",
    ...(options.scripts ? ["script-src 'self'", "connect-src 'self'"] : []),
    `style-src ${styleHashSource(css)}`,
    ...(options.scripts ? ["img-src 'self'"] : []),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}
