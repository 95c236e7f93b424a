// mtukit page: live updates. Every change fetches an HTML fragment rendered
// by the server (the same templates as the first load) and swaps it in.
'use strict';
document.documentElement.classList.add('js');
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('calc');
  const stack = document.getElementById('stack');
  const $ = (id) => document.getElementById(id);
  let seq = 0, tseq = 0, ttimer = 0;

  // The spec of one builder row, from its controls.
  const layerSpec = (li) => {
    if (li.dataset.raw) return li.dataset.raw; // a layer that does not parse: kept as typed
    const args = [];
    li.querySelectorAll('[data-arg]').forEach((c) => {
      if (c.type === 'checkbox') { if (c.checked) args.push(c.value); }
      else if (c.tagName === 'SELECT') { if (c.value) args.push(c.value); }
      else if (c.value !== '') args.push(c.dataset.arg + '=' + c.value);
    });
    return li.dataset.name + (args.length ? '(' + args.join(',') + ')' : '');
  };
  const layers = () => [...document.querySelectorAll('#builder .layer')].map(layerSpec);

  const query = () => {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v !== '') q.set(k, v);
    return q;
  };

  const swap = (id, html) => { const el = $(id); if (el) { el.innerHTML = html; syncErrors(); } };

  // Each error shows once, next to its field: the panels carry them hidden
  // (data-param), the first one per field fills that field's slot.
  function syncErrors() {
    const got = {};
    document.querySelectorAll('#results .ferr[data-param], #tput .ferr[data-param], #sim .ferr[data-param]').forEach((p) => {
      if (!(p.dataset.param in got)) got[p.dataset.param] = p.textContent;
    });
    document.querySelectorAll('.field-err').forEach((slot) => {
      const msg = got[slot.dataset.field] || '';
      if (slot.textContent !== msg) slot.textContent = msg;
      const input = form.querySelector('[name="' + slot.dataset.field + '"]');
      if (input) { if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid'); }
    });
  }

  // The one-line summary of the inputs, shown when they are folded (phones).
  const inputs = $('inputs');
  function summarize() {
    $('sum-stack').textContent = stack.value || 'plain link';
    $('sum-mtu').textContent = $('mtu').value;
    // The preset picker follows the inputs: the preset they match, if any,
    // with its published figure and source.
    const pick = $('preset');
    if (!pick) return;
    const o = [...pick.options].find((o) => o.value && o.dataset.stack === stack.value &&
      o.dataset.mtu === $('mtu').value && o.dataset.family === $('family').value);
    pick.value = o ? o.value : '';
    document.querySelectorAll('#preset-src [data-preset]').forEach((p) => { p.hidden = !o || p.dataset.preset !== o.value; });
  }
  // On a phone, once a stack is set, the results come first: the inputs
  // fold to their summary line (a tap opens them).
  if (inputs && stack.value && matchMedia('(max-width: 760px)').matches) inputs.open = false;

  // refresh re-renders the results (and the builder when its shape changed),
  // keeping the focus on the control that had it.
  async function refresh(withBuilder) {
    const q = query();
    history.replaceState(null, '', '?' + q);
    const mine = ++seq;
    if (withBuilder) q.set('builder', '1');
    const active = document.activeElement;
    const focus = active && active.dataset.focus;
    const inBuilder = active && active.closest && active.closest('#builder');
    let html;
    try {
      const r = await fetch('/calc/fragment?' + q);
      if (!r.ok) return; // rate limited or down: keep what is shown
      html = await r.text();
    } catch (e) { return; }
    if (mine !== seq) return; // a newer request wins
    if (withBuilder) {
      const t = document.createElement('div');
      t.innerHTML = html;
      swap('builder', t.querySelector('#f-builder').innerHTML);
      swap('results', t.querySelector('#f-results').innerHTML);
      const f = focus && document.querySelector('[data-focus="' + focus + '"]');
      if (f) f.focus();
      else if (inBuilder) $('add-layer').focus(); // its row is gone: go to "Add layer"
    } else swap('results', html);
    summarize();
    // One short sentence for screen readers instead of the whole panel.
    const err = document.querySelector('.field-err:not(:empty), #results .err');
    // (An error is announced by its field's slot, a live alert.)
    $('announce').textContent = err ? '' : $('mss4') ?
      'MSS ' + $('mss4').textContent + ' IPv4, ' + $('mss6').textContent + ' IPv6; tunnel MTU ' + $('tmtu').textContent + '; ' + $('status').textContent : '';
    tabs();
    tputSoon();
  }

  // The heavy panels (tput, sim) follow after a pause in typing.
  function tputSoon() {
    if (!$('tput') || !$('tput').innerHTML.trim()) return;
    clearTimeout(ttimer);
    ttimer = setTimeout(() => {
      const mine = ++tseq, q = query();
      ['tput', 'sim'].forEach(async (id) => {
        try {
          const r = await fetch('/' + id + '/fragment?' + q);
          if (r.status === 429 || r.status === 503) { if (mine === tseq) setTimeout(tputSoon, 1500); return; }
          const html = await r.text();
          if (mine === tseq && r.ok) swap(id, html);
        } catch (e) { /* keep the old panel */ }
      });
    }, 250);
  }

  const setLayers = (ls) => { stack.value = ls.join('/'); refresh(true); };

  form.addEventListener('submit', (e) => { e.preventDefault(); refresh(true); });
  form.addEventListener('input', (e) => {
    const t = e.target;
    if (t.id === 'preset') {
      const o = t.selectedOptions[0];
      if (o && o.value) { stack.value = o.dataset.stack; $('mtu').value = o.dataset.mtu; $('family').value = o.dataset.family; }
      refresh(true);
      return;
    }
    if (t === stack) { refresh(false); return; }
    if (t.closest('#builder')) { stack.value = layers().join('/'); refresh(false); return; }
    if (['rtt', 'loss', 'window', 'rate', 'icmp', 'tunnel', 'step'].includes(t.id)) { history.replaceState(null, '', '?' + query()); tputSoon(); return; }
    if (t.name) refresh(false);
  });
  // A typed spec rebuilds the builder once the user leaves the field.
  stack.addEventListener('change', () => refresh(true));

  form.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (!b) return;
    if (b.dataset.mtu) { $('mtu').value = b.dataset.mtu; refresh(false); return; }
    if (b.id === 'add-btn') { setLayers([...layers(), $('add-layer').value]); return; }
    const li = b.closest('.layer');
    if (!li || !b.dataset.op) return;
    const ls = layers(), i = +li.dataset.i;
    if (b.dataset.op === 'remove') ls.splice(i, 1);
    else if (b.dataset.op === 'up' && i > 0) { [ls[i - 1], ls[i]] = [ls[i], ls[i - 1]]; b.dataset.focus = 'L' + (i - 1) + '-up'; }
    else if (b.dataset.op === 'down' && i < ls.length - 1) { [ls[i + 1], ls[i]] = [ls[i], ls[i + 1]]; b.dataset.focus = 'L' + (i + 1) + '-down'; }
    setLayers(ls);
  });

  // Vendor tabs (WAI-ARIA tabs pattern) and copy buttons.
  function tabs() {
    document.querySelectorAll('.tabs').forEach((box) => {
      const list = [...box.querySelectorAll('[role=tab]')];
      const show = (tab, focus) => {
        list.forEach((t) => {
          const on = t === tab;
          t.setAttribute('aria-selected', on);
          t.tabIndex = on ? 0 : -1;
          $(t.getAttribute('aria-controls')).hidden = !on;
        });
        if (focus) tab.focus();
      };
      list.forEach((t, i) => {
        t.onclick = () => show(t, false);
        t.onkeydown = (e) => {
          const n = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: list.length - 1 }[e.key];
          if (n === undefined) return;
          e.preventDefault();
          show(list[(n + list.length) % list.length], true);
        };
      });
      const sel = list.find((t) => t.getAttribute('aria-selected') === 'true') || list[0];
      if (sel) show(sel, false);
    });
  }
  document.addEventListener('click', async (e) => {
    const b = e.target.closest('button.copy');
    if (!b) return;
    const text = b.parentElement.querySelector('pre').textContent;
    try { await navigator.clipboard.writeText(text); b.textContent = 'Copied'; }
    catch (err) {
      const r = document.createRange(); r.selectNodeContents(b.parentElement.querySelector('pre'));
      const s = getSelection(); s.removeAllRanges(); s.addRange(r);
      b.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { b.textContent = 'Copy'; }, 1500);
  });

  // Capture upload.
  const up = $('upload');
  up.addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $('analysis');
    out.textContent = 'Analysing…';
    try {
      const r = await fetch(up.action, { method: 'POST', body: new FormData(up) });
      if (r.status === 429) out.textContent = 'Too many requests: wait a moment and try again.';
      else out.innerHTML = await r.text();
    } catch (err) { out.textContent = 'Upload failed: ' + err; }
  });

  tabs();
  syncErrors();
});
