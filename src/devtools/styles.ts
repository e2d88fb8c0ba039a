/**
 * The panel's style sheet (inside its shadow root, so it neither leaks into the app nor inherits
 * the app's rules). Colours meet WCAG AA contrast (4.5:1) in the light and the dark scheme; the app
 * themes the panel through the `--ssd-*` custom properties and the `panel` / `summary` parts.
 */
export const DEVTOOLS_STYLES = `
:host {
  --ssd-bg: #ffffff;
  --ssd-fg: #1d232a;
  --ssd-muted: #4a5560;
  --ssd-line: #d5dbe1;
  --ssd-head: #eef2f6;
  --ssd-good: #0b6b2e;
  --ssd-warn: #7a5100;
  --ssd-bad: #a8001c;
  --ssd-focus: #1a56db;
  display: block;
  color: var(--ssd-fg);
  font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :host {
    --ssd-bg: #15191d;
    --ssd-fg: #e6e9ec;
    --ssd-muted: #aab3bc;
    --ssd-line: #39424b;
    --ssd-head: #222930;
    --ssd-good: #7ee29a;
    --ssd-warn: #f5c56b;
    --ssd-bad: #ff9a9a;
    --ssd-focus: #8ab4ff;
  }
}
:host([hidden]) { display: none; }
.panel {
  background: var(--ssd-bg);
  border: 1px solid var(--ssd-line);
  border-radius: 6px;
  box-shadow: 0 2px 8px #0003;
  max-height: var(--ssd-max-height, 70vh);
  overflow: auto;
}
summary { cursor: pointer; padding: 4px 8px; }
summary:focus-visible { outline: 2px solid var(--ssd-focus); outline-offset: -2px; }
.panel > summary {
  position: sticky;
  top: 0;
  background: var(--ssd-head);
  display: flex;
  gap: 8px;
  align-items: center;
  flex-wrap: wrap;
}
.panel > summary > strong { font-weight: 600; }
.summary-text { color: var(--ssd-muted); }
.badge { padding: 0 6px; border-radius: 99px; background: #ccd3dc; color: #1d232a; font-weight: 600; }
.badge[data-status='OPEN'] { background: #bfe8c4; }
.badge[data-status='CONNECTING'], .badge[data-status='CLOSING'] { background: #fde9a8; }
.badge[data-status='CLOSED'] { background: #f5c0c0; }
.sections > details { border-top: 1px solid var(--ssd-line); }
.sections > details > summary { font-weight: 600; }
.body { padding: 0 8px 6px; }
dl { display: flex; flex-wrap: wrap; gap: 1px 18px; margin: 0 0 4px; }
dl > div { display: flex; gap: 6px; min-width: 0; }
dt { color: var(--ssd-muted); white-space: nowrap; }
dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 2px 0 4px; }
caption { text-align: left; color: var(--ssd-muted); padding: 2px 0; }
th, td { text-align: left; padding: 1px 6px 1px 0; border-bottom: 1px solid var(--ssd-line); vertical-align: top; }
th { font-weight: 600; }
td { overflow-wrap: anywhere; }
[data-tone='good'] { color: var(--ssd-good); }
[data-tone='warn'] { color: var(--ssd-warn); }
[data-tone='bad'] { color: var(--ssd-bad); font-weight: 600; }
.empty { color: var(--ssd-muted); margin: 2px 0 4px; }
.log { margin: 0; padding-left: 3.2em; max-height: 16em; overflow: auto; }
.log li { white-space: pre-wrap; overflow-wrap: anywhere; }
`;
