
/// The console's stylesheet: system fonts only, nothing fetched from elsewhere. Usable from
/// 320 px wide up: below 48rem the navigation collapses and tables turn into cards.
enum ConsoleStyles {
    static let source = #"""
:root { color-scheme: light; --accent: #1f4fa3; --danger: #a31f1f; --muted: #5b6270; --line: #d8dce3; --focus: #2f6fdf; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2129; background: #f6f7f9; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 10; }
header { display: flex; flex-wrap: wrap; gap: .25rem 1rem; justify-content: space-between; align-items: center; padding: .75rem 1.5rem; background: #101828; color: #fff; }
header a { color: #fff; }
header .brand { font-weight: 600; letter-spacing: .02em; }
.nav-toggle { display: none; margin: 0; padding: .3rem .75rem; background: transparent; border: 1px solid #fff; color: #fff; }
.layout { display: grid; grid-template-columns: 15rem minmax(0, 1fr); min-height: calc(100vh - 3rem); }
nav#nav { background: #fff; border-right: 1px solid var(--line); padding: 1rem 0; }
nav#nav ul { list-style: none; margin: 0; padding: 0; }
nav#nav a { display: block; padding: .45rem 1.25rem; text-decoration: none; color: #1d2129; }
nav#nav a[aria-current=page] { background: #e8eefb; color: var(--accent); font-weight: 600; border-left: 3px solid var(--accent); }
main { padding: 1.25rem 2rem 3rem; max-width: 80rem; }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .5rem 0; }
th, td { text-align: left; padding: .5rem .65rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
#tokens-table th, #tokens-table td { overflow-wrap: normal; word-break: normal; }
#tokens-table code { white-space: nowrap; }
thead th { background: #f0f2f5; font-size: .85rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); overflow-wrap: normal; }
.filters { display: flex; flex-wrap: wrap; gap: .75rem 1.25rem; align-items: flex-end; margin-bottom: 1rem; }
.field { display: flex; flex-direction: column; gap: .2rem; margin-bottom: .5rem; }
.field label { font-weight: 600; font-size: .9rem; }
input[type=text], input[type=search], input[type=email], input[type=number], input[type=datetime-local], select, textarea {
  font: inherit; padding: .4rem .5rem; border: 1px solid #9aa2b1; border-radius: 4px; min-width: 14rem; max-width: 100%; background: #fff; }
textarea { width: 100%; max-width: 40rem; font-family: ui-monospace, monospace; }
button { font: inherit; padding: .45rem 1rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; margin: .25rem .5rem .25rem 0; }
button[disabled] { opacity: .5; cursor: not-allowed; }
button.danger { background: var(--danger); border-color: var(--danger); }
button.secondary { background: #fff; color: var(--accent); }
ul.flags { margin: 0; padding-left: 1.1rem; }
li.flag.open { color: var(--danger); }
li.flag .flag-state { color: var(--muted); }
button.small { padding: 0.1rem 0.5rem; font-size: 0.85rem; }
button.quiet-danger { background: #fff; color: var(--danger); border-color: var(--danger); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
/* Headings and regions that take focus only so that screen readers announce them: no ring. */
[tabindex="-1"]:focus { outline: none; }
fieldset { border: 1px solid var(--line); border-radius: 6px; background: #fff; margin: .75rem 0; padding: .5rem 1rem .75rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.choice { display: flex; align-items: baseline; gap: .5rem; padding: .2rem 0; }
.choice-text { display: flex; flex-direction: column; }
.choice-text .hint { font-size: .85rem; }
.hint { color: var(--muted); font-size: .9rem; }
.hint.why { color: #7a4b00; }
.notice { position: sticky; top: .5rem; z-index: 5; display: flex; align-items: flex-start; justify-content: space-between; gap: 1rem;
  margin: 1rem 2rem 0; padding: .6rem 1rem; border-radius: 6px; box-shadow: 0 2px 6px rgba(16, 24, 40, .12); }
.notice[hidden] { display: none; }
.notice p { margin: 0; }
.notice.ok { background: #e7f6ec; border: 1px solid #9ad2ad; }
.notice.error { background: #fbeaea; border: 1px solid #e2a0a0; }
.notice .dismiss { margin: 0; padding: 0 .5rem; background: transparent; border: 0; color: inherit; font-size: 1.2rem; line-height: 1.4; }
dialog .notice { position: static; margin: 0 0 .75rem; box-shadow: none; }
.confirm { border: 1px solid #e2a0a0; background: #fdf4f4; border-radius: 6px; padding: .5rem 1rem; margin: .5rem 0; }
.confirm p { margin: .25rem 0 .5rem; }
.actions { margin-top: .5rem; }
.warning { background: #fff6e0; border: 1px solid #e7c36b; padding: .5rem 1rem; border-radius: 6px; }
.good { color: #17693a; }
.bad { color: var(--danger); font-weight: 600; }
dialog { border: 1px solid var(--line); border-radius: 8px; padding: 1.25rem 1.5rem; max-width: 70rem; width: 90vw; }
dialog::backdrop { background: rgba(16, 24, 40, .45); }
.secret { display: inline-block; font-family: ui-monospace, monospace; background: #fff6e0; padding: .3rem .5rem; border-radius: 4px; user-select: all; overflow-wrap: anywhere; }
.pager { display: flex; align-items: center; gap: .5rem; }
.greenlist { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .25rem 1rem .75rem; margin: .75rem 0; }

/* Narrow screens (phones, a half-width window): the navigation collapses behind Menu, forms
   stack, and each table row becomes a card whose cells carry their column's name. */
@media (max-width: 48rem) {
  header { padding: .6rem 1rem; }
  header .account { flex-basis: 100%; font-size: .9rem; overflow-wrap: anywhere; }
  .nav-toggle { display: inline-block; }
  .layout { grid-template-columns: minmax(0, 1fr); min-height: 0; }
  nav#nav { display: none; border-right: 0; border-bottom: 1px solid var(--line); padding: .25rem 0; }
  body.nav-open nav#nav { display: block; }
  main { padding: 1rem 1rem 2rem; }
  .notice { margin: .75rem 1rem 0; }
  .filters { flex-direction: column; align-items: stretch; gap: .25rem; }
  .filters button { margin-right: 0; }
  input[type=text], input[type=search], input[type=email], input[type=number], input[type=datetime-local], select { min-width: 0; width: 100%; }
  table.cards, .cards thead, .cards tbody, .cards tr, .cards th, .cards td { display: block; }
  table.cards { border: 0; background: transparent; }
  .cards caption { display: block; }
  .cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  .cards tbody tr { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 0 0 .5rem; padding: .4rem .75rem; }
  .cards th, .cards td { border: 0; padding: .15rem 0; }
  .cards td[data-label]::before, .cards th[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-weight: 600; font-size: .85rem; }
  dialog { width: 100vw; max-width: 100vw; max-height: 100vh; margin: 0; padding: 1rem; border-radius: 0; }
  .pager { flex-wrap: wrap; }
}
"""#
}
