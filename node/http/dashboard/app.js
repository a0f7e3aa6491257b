/*
 * Simpul's monitoring dashboard: fetches GET /api/v1/dashboard for the scope named in the URL
 * hash (#national, #province:35, #region:35.77, #agency:kemenkes; "&channel=sms" keeps only the
 * complaints of one intake channel, through every drill-down) and draws it with the DOM
 * and inline SVG only: no framework, no CDN, works offline. Data is inserted as text, never as
 * HTML. Stable ids and data-* attributes (row-<scope>, data-field, data-value) let tests and
 * scripts read the rendered figures.
 */
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
  var REFRESH_MS = 60000;
  var TZ_OFFSET_H = { WIB: 7, WITA: 8, WIT: 9 };
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'Mei', 'Jun', 'Jul', 'Agu', 'Sep', 'Okt', 'Nov', 'Des'];
  var KIND = {
    national: 'Nasional', ministry: 'Kementerian', lembaga: 'Lembaga', province: 'Provinsi',
    kabupaten: 'Kabupaten', kota: 'Kota', opd: 'OPD'
  };
  var MEDIAN = {
    le_1h: '≤ 1 jam', le_4h: '≤ 4 jam', le_1d: '≤ 1 hari', le_2d: '≤ 2 hari', le_3d: '≤ 3 hari',
    le_5d: '≤ 5 hari', le_7d: '≤ 7 hari', le_14d: '≤ 14 hari', le_30d: '≤ 30 hari',
    gt_30d: '> 30 hari'
  };
  var CHANNELS = { web: 'Web', app: 'Aplikasi', sms: 'SMS 1708', whatsapp: 'WhatsApp', social: 'Media sosial',
                   'call-center': 'Call center 112', open311: 'Open311', email: 'E-mail' };
  var nf = new Intl.NumberFormat('id-ID');
  var nf1 = new Intl.NumberFormat('id-ID', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

  var state = { data: null, showEmpty: false, sort: {}, timer: null, loading: false };

  /* ---- small helpers ---- */

  function $(id) { return document.getElementById(id); }

  /* el('td', {class: 'num', 'data-value': 3}, 'text', childNode...) */
  function el(tag, attrs) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }

  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    setAttrs(e, attrs);
    for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }

  function setAttrs(e, attrs) {
    for (var k in attrs || {}) {
      if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k]);
    }
  }

  function append(e, c) {
    if (c === null || c === undefined || c === false) return;
    e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  function en(text) { return el('span', { class: 'en', lang: 'en' }, text); }

  function domId(scope) { return scope ? scope.replace(/[^A-Za-z0-9-]/g, '-') : 'other'; }

  /* ---- formatting ---- */

  function fmtInt(n) { return nf.format(n || 0); }

  function fmtPct(p) { return p === null || p === undefined ? '–' : nf1.format(p).replace(/,0$/, '') + '%'; }

  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return '–';
    var h = ms / 3600000;
    if (ms < 60000) return '< 1 mnt';
    if (h < 1) return Math.round(ms / 60000) + ' mnt';
    if (h < 48) return nf1.format(h) + ' jam';
    return nf1.format(h / 24) + ' hari';
  }

  /* A UTC instant (ISO string) as local time in a zone: "31 Mar 2025 14:02 WIB". */
  function fmtTime(iso, tz, withSeconds) {
    if (!iso) return '–';
    var zone = TZ_OFFSET_H[tz] ? tz : 'WIB';
    var d = new Date(Date.parse(iso) + TZ_OFFSET_H[zone] * 3600000);
    var hh = String(d.getUTCHours()).padStart(2, '0'), mm = String(d.getUTCMinutes()).padStart(2, '0');
    var t = hh + ':' + mm + (withSeconds ? ':' + String(d.getUTCSeconds()).padStart(2, '0') : '');
    return d.getUTCDate() + ' ' + MONTHS[d.getUTCMonth()] + ' ' + d.getUTCFullYear() + ' ' + t + ' ' + zone;
  }

  function fmtAgo(iso, nowIso) {
    if (!iso) return 'belum pernah';
    var s = Math.max(0, Math.round((Date.parse(nowIso) - Date.parse(iso)) / 1000));
    if (s < 60) return s + ' dtk lalu';
    if (s < 3600) return Math.round(s / 60) + ' mnt lalu';
    if (s < 172800) return Math.round(s / 3600) + ' jam lalu';
    return Math.round(s / 86400) + ' hari lalu';
  }

  /* "2025-03-03" -> "3 Mar" */
  function fmtWeek(ymd) {
    var p = ymd.split('-');
    return Number(p[2]) + ' ' + MONTHS[Number(p[1]) - 1];
  }

  /* ---- charts ---- */

  /* A row's sparkline: filed and completed per week as two lines. */
  function sparkline(trend, weeks) {
    var w = 112, h = 28, pad = 3, n = trend.filed.length;
    var max = Math.max(1, Math.max.apply(null, trend.filed.concat(trend.completed)));
    function pts(v) {
      return v.map(function (y, i) {
        var x = pad + (n > 1 ? i * (w - 2 * pad) / (n - 1) : (w - 2 * pad) / 2);
        return x.toFixed(1) + ',' + (h - pad - y * (h - 2 * pad) / max).toFixed(1);
      }).join(' ');
    }
    var label = 'Tren ' + n + ' minggu sejak ' + fmtWeek(weeks[0]) + '. Diajukan: ' +
      trend.filed.join(', ') + '. Selesai: ' + trend.completed.join(', ') + '.';
    return svg('svg', { class: 'spark', width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, role: 'img',
                        'aria-label': label },
      svg('title', null, label),
      svg('line', { x1: pad, x2: w - pad, y1: h - pad + 0.5, y2: h - pad + 0.5, class: 'axis' }),
      svg('polyline', { points: pts(trend.filed), class: 'l-filed' }),
      svg('polyline', { points: pts(trend.completed), class: 'l-completed' }));
  }

  /* The scope's weekly chart: grouped bars, filed and completed, with a value axis. */
  function trendChart(trend, weeks, width) {
    var n = weeks.length, W = Math.max(300, Math.round(width || 760)), H = 210, L = 40, R = 12, T = 14, B = 30;
    var max = Math.max(1, Math.max.apply(null, trend.filed.concat(trend.completed)));
    var step = niceStep(max), top = Math.ceil(max / step) * step;
    var gw = (W - L - R) / n, bw = Math.min(18, gw * 0.36);
    var every = Math.ceil(48 / gw); /* a date label needs about 48 px: label every n-th week */
    function y(v) { return T + (H - T - B) * (1 - v / top); }
    var g = svg('g');
    for (var v = 0; v <= top; v += step) {
      g.appendChild(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v ? 'grid' : 'axis' }));
      g.appendChild(svg('text', { x: L - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, fmtInt(v)));
    }
    for (var i = 0; i < n; i++) {
      var cx = L + gw * i + gw / 2;
      var wk = svg('g', { 'data-week': weeks[i], 'data-filed': trend.filed[i], 'data-completed': trend.completed[i] },
        svg('title', null, 'Minggu ' + fmtWeek(weeks[i]) + ': ' + trend.filed[i] + ' diajukan, ' +
            trend.completed[i] + ' selesai'),
        svg('rect', { x: cx - bw - 1, y: y(trend.filed[i]), width: bw, height: y(0) - y(trend.filed[i]), class: 'b-filed' }),
        svg('rect', { x: cx + 1, y: y(trend.completed[i]), width: bw, height: y(0) - y(trend.completed[i]), class: 'b-completed' }));
      if ((n - 1 - i) % every === 0) { /* the current week always has its label */
        wk.appendChild(svg('text', { x: cx, y: H - B + 16, class: 'tick', 'text-anchor': 'middle' }, fmtWeek(weeks[i])));
      }
      g.appendChild(wk);
    }
    var sumF = trend.filed.reduce(add, 0), sumC = trend.completed.reduce(add, 0);
    var label = 'Grafik ' + n + ' minggu: ' + sumF + ' aduan diajukan dan ' + sumC + ' selesai. Per minggu diajukan: ' +
      trend.filed.join(', ') + '; selesai: ' + trend.completed.join(', ') + '.';
    return svg('svg', { id: 'trend-svg', width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img',
                        'aria-label': label }, svg('title', null, label), g);
  }

  function add(a, b) { return a + b; }

  function niceStep(max) {
    var raw = max / 4, mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
    var s = [1, 2, 5, 10].map(function (m) { return m * mag; }).find(function (c) { return c >= raw; });
    return Math.max(1, s);
  }

  function legend() {
    return el('p', { class: 'legend' },
      el('span', { class: 'key k-filed' }), 'Diajukan ', en('filed'), ' ',
      el('span', { class: 'key k-completed' }), 'Selesai ', en('completed'));
  }

  /* ---- figures ---- */

  /* The first responses that were due: the answered ones, late or not, and those nobody gave
   * by the respond deadline (the share's denominator, docs/dashboard.md). */
  function responsesDue(r) { return (r.first_response || 0) + (r.unanswered_overdue || 0); }

  function missedTitle(r) {
    return fmtInt(r.first_response_in_sla) + ' tepat waktu dari ' + fmtInt(r.first_response) + ' tanggapan pertama; ' +
      fmtInt(r.unanswered_overdue) + ' aduan terdisposisi belum ditanggapi melewati tenggat';
  }

  function openTitle(o) {
    return 'Baru ' + o.filed + ', terverifikasi ' + o.verified + ', didisposisikan ' + o.dispositioned +
      ', ditindaklanjuti ' + o.in_progress + ', dialihkan ' + o.rerouted + ', banding ' + o.reopened;
  }

  /* The table's columns: how to show a row's value and what to sort it by. */
  var COLUMNS = [
    { key: 'filed', label: 'Diajukan', hint: 'filed', value: function (r) { return r.filed; },
      cell: function (r) { return fmtInt(r.filed); } },
    { key: 'in_progress', label: 'Dalam proses', hint: 'in progress', value: function (r) { return r.in_progress; },
      cell: function (r) { return fmtInt(r.in_progress); }, title: function (r) { return openTitle(r.open); } },
    { key: 'followed_up_in_sla', label: 'Ditindaklanjuti ≤ SLA', hint: 'followed up in SLA',
      value: function (r) { return r.followed_up_in_sla_pct === null ? -1 : r.followed_up_in_sla_pct; },
      cell: function (r) {
        return [fmtPct(r.followed_up_in_sla_pct), el('small', null, fmtInt(r.first_response_in_sla) + '/' + fmtInt(responsesDue(r)))];
      },
      title: function (r) { return missedTitle(r); },
      attrs: function (r) {
        return { 'data-count': r.first_response_in_sla, 'data-pct': r.followed_up_in_sla_pct, 'data-due': responsesDue(r),
                 'data-unanswered': r.unanswered_overdue };
      } },
    { key: 'completed', label: 'Selesai', hint: 'completed', value: function (r) { return r.completed; },
      cell: function (r) { return [fmtInt(r.completed), el('small', null, 'tuntas ' + fmtInt(r.resolved))]; },
      attrs: function (r) { return { 'data-resolved': r.resolved }; } },
    { key: 'overdue', label: 'Terlambat', hint: 'overdue now', value: function (r) { return r.overdue; },
      cell: function (r) { return r.overdue > 0 ? [el('span', { class: 'warn-icon', 'aria-hidden': 'true' }, '⚠ '), fmtInt(r.overdue)] : '0'; },
      cls: function (r) { return r.overdue > 0 ? 'overdue' : null; } },
    { key: 'response', label: 'Respons pertama', hint: 'first response: mean · median',
      value: function (r) { return r.response_mean_ms === null ? Infinity : r.response_mean_ms; },
      cell: function (r) {
        return [fmtDuration(r.response_mean_ms), el('small', null, r.response_median ? 'median ' + MEDIAN[r.response_median.bucket] : '')];
      },
      attrs: function (r) { return { 'data-mean-ms': r.response_mean_ms, 'data-median': r.response_median && r.response_median.bucket }; } },
    { key: 'satisfaction', label: 'Kepuasan', hint: 'satisfied · rating',
      value: function (r) { return r.satisfied_pct === null ? -1 : r.satisfied_pct; },
      cell: function (r) {
        return [fmtPct(r.satisfied_pct), el('small', null, r.rating_mean === null ? fmtInt(r.feedback) + ' umpan balik' : '★ ' + nf1.format(r.rating_mean))];
      },
      attrs: function (r) { return { 'data-pct': r.satisfied_pct, 'data-rating': r.rating_mean, 'data-feedback': r.feedback }; } }
  ];

  /* data-value: the raw figure behind a cell (null when there is none yet). */
  var RAW = {
    followed_up_in_sla: function (r) { return r.first_response_in_sla; },
    response: function (r) { return r.response_mean_ms; },
    satisfaction: function (r) { return r.satisfied_pct; }
  };

  function cellValue(col, r) { return RAW[col.key] ? RAW[col.key](r) : r[col.key]; }

  /* ---- tables ---- */

  function isEmpty(r) { return !r.filed && !r.in_progress && !r.completed && !r.overdue; }

  /* In the agency table a government appears as the holder of what it handles itself. */
  function holderName(r) {
    if (r.kind === 'province') return 'Pemerintah Provinsi ' + r.name;
    if (r.kind === 'kabupaten' || r.kind === 'kota') return 'Pemerintah ' + r.name;
    return r.name;
  }

  function nameCell(r, otherLabel) {
    var th = el('th', { scope: 'row', class: 'name' });
    if (!r.scope) {
      th.appendChild(el('span', { class: 'other' }, otherLabel));
      return th;
    }
    th.appendChild(el('a', { href: hashOf(r.scope) }, r.scope.indexOf('agency:') === 0 ? holderName(r) : r.name));
    var meta = el('span', { class: 'tag' }, (r.code ? r.code + ' · ' : '') + (KIND[r.kind] || r.kind) + ' · ' + r.timezone);
    th.appendChild(meta);
    return th;
  }

  function row(r, d, otherLabel) {
    var tr = el('tr', { id: 'row-' + domId(r.scope), 'data-scope': r.scope || 'other',
                        class: r.overdue > 0 ? 'has-overdue' : null });
    tr.appendChild(nameCell(r, otherLabel));
    COLUMNS.forEach(function (c) {
      var attrs = Object.assign({ class: 'num' + (c.cls && c.cls(r) ? ' ' + c.cls(r) : ''), 'data-field': c.key,
                                  'data-value': cellValue(c, r), title: c.title ? c.title(r) : null },
                                c.attrs ? c.attrs(r) : {});
      var td = el('td', attrs);
      [].concat(c.cell(r)).forEach(function (x) { append(td, x); });
      tr.appendChild(td);
    });
    tr.appendChild(el('td', { class: 'spark-cell', 'data-field': 'trend',
                              'data-filed': r.trend.filed.join(','), 'data-completed': r.trend.completed.join(',') },
      sparkline(r.trend, d.weeks)));
    return tr;
  }

  function header(table, firstLabel, firstHint, weeks) {
    var sort = state.sort[table.id] || {};
    var tr = el('tr');
    var cols = [{ key: 'name', label: firstLabel, hint: firstHint }].concat(COLUMNS);
    cols.forEach(function (c) {
      var dir = sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : null;
      var btn = el('button', { type: 'button', class: 'sort', 'data-key': c.key }, c.label, el('span', { class: 'hint', lang: 'en' }, c.hint));
      btn.addEventListener('click', function () { sortBy(table.id, c.key); });
      tr.appendChild(el('th', { scope: 'col', class: c.key === 'name' ? 'name' : 'num', 'aria-sort': dir }, btn));
    });
    tr.appendChild(el('th', { scope: 'col', class: 'spark-cell' }, 'Tren ' + weeks + ' minggu', el('span', { class: 'hint', lang: 'en' }, 'filed / completed')));
    return el('thead', null, tr);
  }

  function sortBy(tableId, key) {
    var s = state.sort[tableId] || {};
    state.sort[tableId] = { key: key, desc: s.key === key ? !s.desc : key !== 'name' };
    render(state.data);
  }

  function sorted(tableId, rows) {
    var s = state.sort[tableId];
    if (!s) return rows;
    var col = COLUMNS.find(function (c) { return c.key === s.key; });
    var copy = rows.slice();
    copy.sort(function (a, b) {
      if (!a.scope || !b.scope) return !a.scope - !b.scope; /* "other" stays last */
      var x = col ? col.value(a) : a.name, y = col ? col.value(b) : b.name;
      var c = typeof x === 'string' ? x.localeCompare(y, 'id') : x - y;
      return s.desc ? -c : c;
    });
    return copy;
  }

  function fillTable(table, rows, d, firstLabel, firstHint, otherLabel, caption, emptyText) {
    clear(table);
    table.appendChild(el('caption', { class: 'sr-only' }, caption));
    table.appendChild(header(table, firstLabel, firstHint, d.weeks.length));
    var body = el('tbody');
    sorted(table.id, rows).forEach(function (r) { body.appendChild(row(r, d, otherLabel)); });
    if (!rows.length) body.appendChild(el('tr', null, el('td', { colspan: COLUMNS.length + 2, class: 'empty' }, emptyText || 'Tidak ada data.')));
    table.appendChild(body);
  }

  /* ---- sections ---- */

  var CARDS = [
    { key: 'filed', label: 'Diajukan', hint: 'filed', main: function (s) { return fmtInt(s.filed); } },
    { key: 'in_progress', label: 'Dalam proses', hint: 'in progress', main: function (s) { return fmtInt(s.in_progress); } },
    { key: 'followed_up_in_sla', label: 'Ditindaklanjuti ≤ SLA', hint: 'followed up in SLA',
      main: function (s) { return fmtPct(s.followed_up_in_sla_pct); },
      sub: function (s) {
        return fmtInt(s.first_response_in_sla) + ' dari ' + fmtInt(responsesDue(s)) + ' yang jatuh tempo' +
          (s.unanswered_overdue > 0 ? ' (' + fmtInt(s.unanswered_overdue) + ' belum ditanggapi)' : '');
      },
      value: function (s) { return s.first_response_in_sla; } },
    { key: 'completed', label: 'Selesai', hint: 'completed', main: function (s) { return fmtInt(s.completed); },
      sub: function (s) { return 'tuntas ' + fmtInt(s.resolved) + ' · tepat waktu ' + fmtPct(s.completed_in_sla_pct); } },
    { key: 'overdue', label: 'Terlambat', hint: 'overdue now', main: function (s) { return fmtInt(s.overdue); },
      sub: function (s) { return s.overdue > 0 ? 'melewati tenggat saat ini' : 'tidak ada'; } },
    { key: 'response', label: 'Respons pertama', hint: 'first response, mean',
      main: function (s) { return fmtDuration(s.response_mean_ms); },
      sub: function (s) { return s.response_median ? 'median ' + MEDIAN[s.response_median.bucket] : 'belum ada tanggapan'; },
      value: function (s) { return s.response_mean_ms; } },
    { key: 'satisfaction', label: 'Kepuasan', hint: 'satisfaction', main: function (s) { return fmtPct(s.satisfied_pct); },
      sub: function (s) { return (s.rating_mean === null ? '' : '★ ' + nf1.format(s.rating_mean) + ' · ') + fmtInt(s.feedback) + ' umpan balik'; },
      value: function (s) { return s.satisfied_pct; } }
  ];

  function renderCards(s) {
    var ul = $('cards');
    clear(ul);
    CARDS.forEach(function (c) {
      var v = c.value ? c.value(s) : s[c.key];
      ul.appendChild(el('li', { id: 'sum-' + c.key, class: 'card' + (c.key === 'overdue' && s.overdue > 0 ? ' overdue' : ''),
                                'data-value': v === null ? null : v },
        el('span', { class: 'label' }, c.label, el('span', { class: 'en', lang: 'en' }, c.hint)),
        el('span', { class: 'value' }, c.main(s)),
        c.sub ? el('span', { class: 'sub' }, c.sub(s)) : null));
    });
  }

  function renderCrumbs(d) {
    var ol = $('crumbs');
    clear(ol);
    d.scope.path.forEach(function (p, i) {
      var last = i === d.scope.path.length - 1;
      var name = p.scope === 'national' ? 'Nasional' : p.name;
      ol.appendChild(el('li', null, last ? el('span', { 'aria-current': 'page' }, name) : el('a', { href: hashOf(p.scope) }, name)));
    });
  }

  function scopeTitle(d) {
    var s = d.scope;
    if (s.type === 'national') return 'Nasional';
    if (s.type === 'agency') return s.name;
    return s.name + (s.code ? ' (' + s.code + ')' : '');
  }

  function renderSummary(d) {
    $('scope-title').textContent = scopeTitle(d);
    var s = d.scope, kind = s.type === 'agency' ? 'Aduan yang dipegang instansi ini' : 'Aduan di wilayah ini';
    $('scope-sub').textContent = kind + ' · ' + (KIND[s.kind] || 'Wilayah') + (s.type === 'agency' ? ' · ' + s.id : '') +
      ' · zona waktu ' + s.timezone + (d.channel ? ' · hanya kanal ' + (CHANNELS[d.channel] || d.channel) : '');
    renderCards(d.summary);
    var chart = $('trend-chart');
    clear(chart);
    chart.appendChild(trendChart(d.summary.trend, d.weeks, chart.clientWidth));
    chart.appendChild(legend());
    $('trend-caption').firstChild.textContent = 'Tren ' + d.weeks.length + ' minggu terakhir (mulai ' + fmtWeek(d.weeks[0]) +
      '): aduan diajukan vs selesai ';
  }

  function renderRegions(d) {
    var t = d.scope.type, sec = $('sec-regions');
    sec.hidden = !(t === 'national' || t === 'province');
    if (sec.hidden) return;
    var title = t === 'national' ? 'Per provinsi' : 'Per kabupaten/kota';
    $('h-regions').textContent = title + ' ';
    $('h-regions').appendChild(en(t === 'national' ? 'by province' : 'by regency/city'));
    var other = t === 'national' ? 'Tingkat pusat / tanpa wilayah' : 'Lainnya (tingkat provinsi / tanpa simpul sendiri)';
    fillTable($('regions'), d.regions, d, t === 'national' ? 'Provinsi' : 'Kabupaten/kota', 'region', other, title);
  }

  function renderAgencies(d) {
    var rows = d.agencies, shown = state.showEmpty ? rows : rows.filter(function (r) { return !isEmpty(r); });
    var hiddenCount = rows.length - rows.filter(function (r) { return !isEmpty(r); }).length;
    var t = d.scope.type;
    $('sec-agencies').hidden = rows.length === 0;
    var title = t === 'national' ? 'Per instansi: kementerian dan lembaga' : t === 'agency' ? 'Perangkat daerah di bawahnya' : 'Per instansi: pemerintah daerah dan OPD';
    $('h-agencies').textContent = title + ' ';
    $('h-agencies').appendChild(en('by agency (holder)'));
    fillTable($('agencies'), shown, d, 'Instansi', 'agency', '', title, 'Belum ada aduan yang dipegang instansi di sini.');
    var btn = $('toggle-empty');
    btn.hidden = hiddenCount === 0;
    btn.textContent = state.showEmpty ? 'Sembunyikan instansi tanpa aduan' : 'Tampilkan ' + hiddenCount + ' instansi tanpa aduan';
    btn.setAttribute('aria-pressed', state.showEmpty ? 'true' : 'false');
  }

  function renderPeers(d) {
    var rep = d.replication || { peers: [] }, table = $('peers');
    var down = rep.peers.filter(function (p) { return !p.connected; }).length;
    $('replication-sub').textContent = 'Simpul ini (' + d.node + ') menyimpan ' + fmtInt(rep.events) + ' peristiwa; ' +
      rep.peers.length + ' rekan, ' + (down ? down + ' terputus' : 'semua terhubung') + (rep.forks ? '; ' + rep.forks + ' percabangan (fork) terdeteksi!' : '') + '.';
    clear(table);
    table.appendChild(el('caption', { class: 'sr-only' }, 'Rekan replikasi simpul ini'));
    var head = el('tr');
    [['Rekan', 'peer', 'name'], ['Status', 'link', ''], ['Tertinggal', 'lag (events)', 'num'],
     ['Kontak terakhir', 'last contact, local time', ''], ['Terkirim', 'sent', 'num'], ['Diterima', 'received', 'num'],
     ['Gagal', 'failures', 'num']].forEach(function (h) {
      head.appendChild(el('th', { scope: 'col', class: h[2] }, h[0], el('span', { class: 'hint', lang: 'en' }, h[1])));
    });
    table.appendChild(el('thead', null, head));
    var body = el('tbody');
    rep.peers.forEach(function (p) {
      var bad = !p.connected;
      body.appendChild(el('tr', { id: 'peer-' + domId(p.id), 'data-connected': String(!!p.connected), 'data-lag': p.lag,
                                  class: bad ? 'peer-down' : p.lag > 0 ? 'peer-lag' : null },
        el('th', { scope: 'row', class: 'name' }, el('span', null, p.name || p.id),
          el('span', { class: 'tag' }, p.id + ' · ' + (KIND[p.kind] || p.kind || '?'))),
        el('td', { 'data-field': 'connected' }, el('span', { class: 'pill ' + (bad ? 'pill-bad' : 'pill-ok') },
          bad ? '✗ Terputus' : '✓ Terhubung')),
        el('td', { class: 'num' + (p.lag > 0 ? ' lagging' : ''), 'data-field': 'lag', 'data-value': p.lag }, fmtInt(p.lag)),
        el('td', { 'data-field': 'last_contact', 'data-value': p.last_contact },
          fmtTime(p.last_contact, p.timezone, true), el('small', null, fmtAgo(p.last_contact, d.at))),
        el('td', { class: 'num', 'data-field': 'sent' }, fmtInt(p.sent_events)),
        el('td', { class: 'num', 'data-field': 'received' }, fmtInt(p.received_events)),
        el('td', { class: 'num', 'data-field': 'failures' }, fmtInt(p.failures))));
    });
    if (!rep.peers.length) body.appendChild(el('tr', null, el('td', { colspan: 7, class: 'empty' }, 'Simpul ini tidak punya rekan.')));
    table.appendChild(body);
  }

  function render(d) {
    if (!d) return;
    $('node-name').textContent = '· ' + d.node_name + ' (' + d.node + ')';
    $('updated').textContent = 'Diperbarui ' + fmtTime(d.at, d.scope.timezone, true);
    $('updated').setAttribute('data-at', d.at);
    $('raw-link').setAttribute('href', apiUrl(d.scope.param, d.channel));
    $('raw-link').textContent = '/api/v1/dashboard?scope=' + d.scope.param + (d.channel ? '&channel=' + d.channel : '');
    $('channel').value = d.channel || '';
    document.title = scopeTitle(d) + ' — Dasbor SP4N-LAPOR! (Simpul)';
    renderCrumbs(d);
    renderSummary(d);
    renderRegions(d);
    renderAgencies(d);
    renderPeers(d);
  }

  /* ---- loading ---- */

  /* The hash: "<scope>" or "<scope>&channel=<channel>". */
  function hashParts() {
    var h = decodeURIComponent(location.hash.replace(/^#/, '')).split('&channel=');
    var scope = /^(national|province:\d\d|region:\d\d(\.\d\d)?|agency:[A-Za-z0-9._-]+)$/.test(h[0]) ? h[0] : 'national';
    return { scope: scope, channel: Object.prototype.hasOwnProperty.call(CHANNELS, h[1] || '') ? h[1] : '' };
  }

  function currentScope() { return hashParts().scope; }

  function currentChannel() { return hashParts().channel; }

  /* The link to another scope keeps the channel filter. */
  function hashOf(scope) { return '#' + scope + (currentChannel() ? '&channel=' + currentChannel() : ''); }

  function apiUrl(scope, channel) {
    return '../api/v1/dashboard?scope=' + encodeURIComponent(scope) + '&weeks=12' +
      (channel ? '&channel=' + encodeURIComponent(channel) : '');
  }

  function setStatus(text, isError) {
    var s = $('status');
    s.textContent = text;
    s.className = isError ? 'error' : text ? 'info' : '';
    s.setAttribute('role', isError ? 'alert' : 'status');
  }

  function load(scopeChanged) {
    if (state.loading) return;
    state.loading = true;
    var scope = currentScope();
    if (scopeChanged) setStatus('Memuat data…');
    fetch(apiUrl(scope, currentChannel()), { headers: { Accept: 'application/json' }, cache: 'no-store' })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) throw new Error(body && body.message ? body.message : 'HTTP ' + res.status);
          return body;
        });
      })
      .then(function (d) {
        state.data = d;
        render(d);
        setStatus('');
        document.body.setAttribute('data-state', 'ready');
        document.body.setAttribute('data-scope', d.scope.param);
        document.body.setAttribute('data-channel', d.channel || '');
        if (scopeChanged) $('main').focus({ preventScroll: true });
      })
      .catch(function (e) {
        setStatus('Gagal memuat data (' + e.message + '). Data terakhir tetap ditampilkan; coba lagi sebentar.', true);
        document.body.setAttribute('data-state', 'error');
      })
      .then(function () { state.loading = false; });
  }

  function start() {
    $('refresh').addEventListener('click', function () { load(false); });
    var sel = $('channel');
    Object.keys(CHANNELS).forEach(function (c) { sel.appendChild(el('option', { value: c }, CHANNELS[c])); });
    sel.value = currentChannel();
    sel.addEventListener('change', function () {
      location.hash = currentScope() + (sel.value ? '&channel=' + sel.value : '');
    });
    $('toggle-empty').addEventListener('click', function () { state.showEmpty = !state.showEmpty; render(state.data); });
    window.addEventListener('hashchange', function () { state.sort = {}; load(true); });
    var resizing = null; /* the chart is drawn for the width it has: redraw after a resize */
    window.addEventListener('resize', function () {
      clearTimeout(resizing);
      resizing = setTimeout(function () { if (state.data) renderSummary(state.data); }, 200);
    });
    state.timer = setInterval(function () { if (!document.hidden) load(false); }, REFRESH_MS);
    load(false);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
