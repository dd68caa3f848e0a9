// shopfloor dashboard: live updates over server-sent events, alert actions, envelope plot.
// Served by the service itself (no CDN); no framework, so nothing to build.
"use strict";

(function () {
  const main = document.getElementById("main");
  const i18n = main && main.dataset.i18n ? JSON.parse(main.dataset.i18n) : {};
  const canOperate = main ? main.dataset.operate === "yes" : false;
  const onFleetPage = document.getElementById("fleet-page") !== null;

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value;
    return el;
  }

  async function post(url, body) {
    const r = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!r.ok) {
      const doc = await r.json().catch(() => ({}));
      window.alert((doc && doc.detail) || r.statusText);
      return false;
    }
    return true;
  }

  // Alert actions (event delegation, so rows added by the live feed work too).
  document.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button.ack, button.verdict");
    if (!b) return;
    const id = b.dataset.event;
    let ok;
    if (b.classList.contains("ack")) {
      ok = await post(`/api/v1/events/${encodeURIComponent(id)}/acknowledge`, { note: "" });
    } else {
      const note = b.dataset.resolution === "confirmed" ? window.prompt(b.textContent) : "";
      if (note === null) return;
      ok = await post(`/api/v1/events/${encodeURIComponent(id)}/close`, {
        resolution: b.dataset.resolution, note: note,
      });
    }
    if (ok) {
      document.querySelectorAll(`tr[data-event="${CSS.escape(id)}"]`).forEach((row) => {
        row.dataset.acted = b.classList.contains("ack") ? "acknowledged" : "closed";
        const st = row.querySelector(".status");
        if (st) st.textContent = row.dataset.acted;
        const ack = row.querySelector("button.ack");
        if (ack) ack.remove();
      });
    }
  });

  // Models page (admins): re-baseline a monitor from the labels; roll a target back.
  document.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button.rebaseline, button.rollback");
    if (!b) return;
    b.disabled = true;
    const ok = b.classList.contains("rebaseline")
      ? await post(`/api/v1/models/${encodeURIComponent(b.dataset.model)}/rebaseline`, { activate: true })
      : await post(`/api/v1/models/deployments/${encodeURIComponent(b.dataset.target)}/rollback`, { note: "" });
    if (ok) window.location.reload();
    else b.disabled = false;
  });

  // Comments on an alert: stored in the event's history, shown at once.
  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form.comment");
    if (!form) return;
    ev.preventDefault();
    const id = form.dataset.event;
    const area = form.querySelector("textarea");
    const note = area.value.trim();
    if (!note) return;
    if (await post(`/api/v1/events/${encodeURIComponent(id)}/comment`, { note: note })) {
      const list = document.querySelector(`ul[data-history="${CSS.escape(id)}"]`);
      if (list) {
        const li = text("li", "", "step-commented");
        li.appendChild(text("time", new Date().toISOString().slice(0, 19).replace("T", " ")));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(text("b", main.dataset.user || ""));
        li.appendChild(document.createTextNode(" commented: "));
        li.appendChild(text("span", note, "note"));
        list.appendChild(li);
      }
      area.value = "";
    }
  });

  function alertRow(e) {
    const tr = document.createElement("tr");
    tr.className = `sev-${e.severity}`;
    tr.dataset.event = e.id;
    const sev = document.createElement("td");
    sev.appendChild(text("span", i18n[e.severity] || e.severity, `badge sev-${e.severity}`));
    tr.appendChild(sev);
    const asset = document.createElement("td");
    const a = text("a", e.asset_id);
    a.href = `/assets/${encodeURIComponent(e.asset_id)}`;
    asset.appendChild(a);
    tr.appendChild(asset);
    tr.appendChild(text("td", e.summary + (e.occurrences > 1 ? ` ×${e.occurrences}` : "")));
    tr.appendChild(text("td", e.start.replace("T", " ").slice(0, 19)));
    tr.appendChild(text("td", i18n[e.status] || e.status, "status"));
    if (canOperate) {
      const td = document.createElement("td");
      td.className = "actions";
      const buttons = e.status === "open" ? [["ack", null, i18n.ack]] : [];
      buttons.push(["verdict", "confirmed", i18n.confirmed], ["verdict", "false_alarm", i18n.false_alarm]);
      for (const [cls, res, label] of buttons) {
        const b = text("button", label, cls);
        b.dataset.event = e.id;
        if (res) b.dataset.resolution = res;
        td.appendChild(b);
      }
      tr.appendChild(td);
    }
    return tr;
  }

  function applyFleet(msg) {
    for (const a of msg.assets) {
      let cell = document.querySelector(`.cell[data-asset="${CSS.escape(a.id)}"]`);
      if (!cell) {
        // an asset registered after the page was rendered (a machine just came online):
        // add its cell rather than wait for a reload
        const grid = document.getElementById("grid");
        if (!grid) continue;
        cell = document.createElement("a");
        cell.href = `/assets/${encodeURIComponent(a.id)}`;
        cell.dataset.asset = a.id;
        cell.title = a.name || a.id;
        cell.append(text("span", a.id, "name"), text("span", "", "state"), text("span", "", "n"));
        grid.appendChild(cell);
      }
      cell.className = `cell state-${a.state}`;
      cell.dataset.state = a.state;
      cell.querySelector(".state").textContent = i18n[a.state] || a.state;
      cell.querySelector(".n").textContent = a.open_alerts ? String(a.open_alerts) : "";
    }
    const badge = document.getElementById("asset-state");
    const mine = badge && msg.assets.find((a) => a.id === badge.dataset.asset);
    if (mine) {
      badge.className = `badge state-${mine.state}`;
      badge.textContent = i18n[mine.state] || mine.state;
    }
    document.querySelectorAll("[data-count]").forEach((el) => {
      el.textContent = String(msg.counts[el.dataset.count] || 0);
    });
    const body = document.querySelector("#alerts tbody");
    if (body && onFleetPage) {
      body.replaceChildren(...msg.open_events.map(alertRow));
      if (!msg.open_events.length) {
        const tr = document.createElement("tr");
        tr.className = "empty";
        const td = text("td", i18n.none);
        td.colSpan = 6;
        tr.appendChild(td);
        body.appendChild(tr);
      }
    }
  }

  const live = document.getElementById("live");
  if (live) {
    const source = new EventSource("/api/v1/stream");
    source.addEventListener("open", () => { live.classList.add("on"); live.textContent = live.dataset.live; });
    source.addEventListener("error", () => { live.classList.remove("on"); live.textContent = live.dataset.offline; });
    source.addEventListener("fleet", (ev) => applyFleet(JSON.parse(ev.data)));
  }

  // Envelope spectrum with the bearing's defect-frequency markers.
  const canvas = document.getElementById("envelope");
  if (canvas) {
    const assetId = document.getElementById("asset-page").dataset.asset;
    fetch(`/api/v1/assets/${encodeURIComponent(assetId)}/envelope`, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((doc) => drawEnvelope(canvas, doc));
  }

  // Live trends (asset page): window results read from the store, refreshed every 2 s.
  const trends = document.getElementById("trends");
  function fmtSeconds(s) {
    if (s === null || s === undefined) return "-";
    if (s >= 2 * 86400) return `${(s / 86400).toFixed(1)} d`;
    if (s >= 2 * 3600) return `${(s / 3600).toFixed(1)} h`;
    if (s >= 120) return `${(s / 60).toFixed(1)} min`;
    return `${s.toFixed(0)} s`;
  }

  // One chart: lines [{t_ms, v, colour, dash}], an optional band {t_ms, lo, hi}, a title.
  // log: plot log10 of the values (an anomaly score spans decades once a fault grows).
  function drawChart(c, title, lines, band, unit, log) {
    if (log) {
      const tr = (v) => (v === null ? null : Math.log10(Math.max(v, 1e-9)));
      lines = lines.map((l) => ({ ...l, v: l.v.map(tr) }));
      unit = (v) => `1e${v.toFixed(1)}`;
      title += " (log)";
    }
    const ctx = c.getContext("2d");
    ctx.clearRect(0, 0, c.width, c.height);
    const pad = 34, w = c.width - pad - 8, h = c.height - 2 * pad;
    const pts = lines.flatMap((l) => l.v).concat(band ? band.lo.concat(band.hi) : []).filter((v) => v !== null && isFinite(v));
    const ts = lines.flatMap((l) => l.t_ms).concat(band ? band.t_ms : []);
    ctx.fillStyle = "#333";
    ctx.fillText(title, pad, 14);
    if (!pts.length || !ts.length) {
      ctx.fillText("-", pad, pad + 20);
      c.dataset.points = "0";
      return;
    }
    let lo = Math.min(...pts), hi = Math.max(...pts);
    if (hi === lo) { hi += Math.abs(hi) * 0.1 + 1e-9; lo -= Math.abs(lo) * 0.1 + 1e-9; }
    const t0 = Math.min(...ts), t1 = Math.max(...ts) || t0 + 1;
    const x = (t) => pad + ((t - t0) / Math.max(1, t1 - t0)) * w;
    const y = (v) => pad + h - ((v - lo) / (hi - lo)) * h;
    ctx.strokeStyle = "#bbb";
    ctx.strokeRect(pad, pad, w, h);
    ctx.fillText(unit ? unit(hi) : hi.toPrecision(3), 2, pad + 4);
    ctx.fillText(unit ? unit(lo) : lo.toPrecision(3), 2, pad + h);
    ctx.fillText(`${((t1 - t0) / 1000).toFixed(0)} s`, pad + w - 40, c.height - 8);
    if (band && band.t_ms.length) {
      ctx.fillStyle = "rgba(21, 101, 192, 0.15)";
      ctx.beginPath();
      band.t_ms.forEach((t, i) => (i ? ctx.lineTo(x(t), y(band.hi[i])) : ctx.moveTo(x(t), y(band.hi[i]))));
      for (let i = band.t_ms.length - 1; i >= 0; i--) ctx.lineTo(x(band.t_ms[i]), y(band.lo[i]));
      ctx.closePath();
      ctx.fill();
    }
    for (const l of lines) {
      if (!l.t_ms.length) continue;
      ctx.strokeStyle = l.colour;
      ctx.setLineDash(l.dash ? [5, 4] : []);
      ctx.beginPath();
      l.t_ms.forEach((t, i) => (i ? ctx.lineTo(x(t), y(l.v[i])) : ctx.moveTo(x(t), y(l.v[i]))));
      ctx.stroke();
    }
    ctx.setLineDash([]);
    c.dataset.points = String(lines.reduce((n, l) => n + l.t_ms.length, 0));
  }

  function series(ch, name, colour, dash) {
    const s = ch.series[name] || { t_ms: [], v: [] };
    return { t_ms: s.t_ms, v: s.v, colour: colour, dash: dash };
  }

  function showTrends(doc) {
    const ch = doc.channels.find((c) => c.series && (c.series.rms || c.series.anomaly_score)) || doc.channels[0];
    const note = document.getElementById("trends-note");
    if (!ch) {
      note.textContent = i18n.no_trends || "-";
      return;
    }
    note.textContent = `${ch.channel_id} · ${ch.pipeline} · ${ch.end.replace("T", " ").slice(0, 19)}`;
    drawChart(document.getElementById("trend-rms"), "RMS", [series(ch, "rms", "#263238")]);
    drawChart(document.getElementById("trend-kurtosis"), "kurtosis", [series(ch, "kurtosis", "#6a1b9a")]);
    drawChart(document.getElementById("trend-anomaly"), i18n.anomaly_score || "anomaly score", [
      series(ch, "anomaly_score", "#c62828"), series(ch, "anomaly_threshold", "#555", true),
    ], null, null, true);
    const r = ch.series;
    const band = r.rul_lower_s && r.rul_upper_s && r.rul_lower_s.t_ms.length === r.rul_upper_s.t_ms.length
      ? { t_ms: r.rul_lower_s.t_ms, lo: r.rul_lower_s.v, hi: r.rul_upper_s.v } : null;
    drawChart(document.getElementById("trend-rul"), i18n.rul || "RUL", [series(ch, "rul_s", "#1565c0")], band, fmtSeconds);
    const a = ch.anomaly || {};
    const contrib = (a.contributors || []).map((c) => `${c.feature} ${(100 * c.share).toFixed(0)} %`).join(" · ");
    const anomalyText = document.getElementById("anomaly-now");
    anomalyText.textContent = a.state === "scoring" && a.score !== null
      ? `${(a.score).toPrecision(3)} / ${(a.threshold).toPrecision(3)} (×${(a.margin).toFixed(2)})${a.alarm ? " ALARM" : ""}${contrib ? " — " + contrib : ""}`
      : (a.state ? `${a.state} ${a.seen || 0}/${a.baseline_windows || "?"}` : "-");
    anomalyText.dataset.contributors = (a.contributors || []).map((c) => c.feature).join(",");
    const u = ch.rul || {};
    document.getElementById("rul-now").textContent = u.remaining_s !== null && u.remaining_s !== undefined
      ? `${fmtSeconds(u.remaining_s)} [${fmtSeconds(u.lower_s)} – ${fmtSeconds(u.upper_s)}] (${u.state})`
      : (u.state || "-");
  }

  if (trends) {
    const assetId = trends.dataset.asset;
    const refresh = () => fetch(`/api/v1/assets/${encodeURIComponent(assetId)}/trends?since_s=900`, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((doc) => { if (doc) showTrends(doc); })
      .catch(() => {});
    refresh();
    window.setInterval(refresh, 2000);
  }

  function drawEnvelope(c, doc) {
    const legend = document.getElementById("envelope-legend");
    const ctx = c.getContext("2d");
    ctx.clearRect(0, 0, c.width, c.height);
    if (!doc || !doc.freqs_hz.length) {
      legend.textContent = "-";
      return;
    }
    const pad = 30, w = c.width - 2 * pad, h = c.height - 2 * pad;
    const fmax = doc.freqs_hz[doc.freqs_hz.length - 1];
    const amax = Math.max(...doc.amplitude) || 1;
    const x = (f) => pad + (f / fmax) * w;
    const y = (a) => pad + h - (a / amax) * h;
    ctx.strokeStyle = "#999";
    ctx.strokeRect(pad, pad, w, h);
    ctx.fillStyle = "#333";
    ctx.fillText("0", pad, c.height - 10);
    ctx.fillText(`${fmax.toFixed(0)} Hz`, pad + w - 40, c.height - 10);
    const colours = { bpfo: "#c62828", bpfi: "#6a1b9a", bsf2: "#ef6c00", ftf: "#1565c0" };
    const parts = [];
    for (const [name, f] of Object.entries(doc.markers_hz)) {
      if (f > fmax) continue;
      ctx.strokeStyle = colours[name] || "#000";
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(x(f), pad);
      ctx.lineTo(x(f), pad + h);
      ctx.stroke();
      ctx.fillStyle = colours[name] || "#000";
      ctx.fillText(name.toUpperCase(), x(f) + 2, pad + 10);
      parts.push(`${name.toUpperCase()} ${f.toFixed(1)} Hz`);
    }
    ctx.setLineDash([]);
    ctx.strokeStyle = "#263238";
    ctx.beginPath();
    doc.freqs_hz.forEach((f, i) => (i ? ctx.lineTo(x(f), y(doc.amplitude[i])) : ctx.moveTo(x(f), y(doc.amplitude[i]))));
    ctx.stroke();
    legend.textContent = `${doc.channel}, ${doc.seconds.toFixed(1)} s, ${doc.unit}: ${parts.join(" · ")}`;
    c.dataset.markers = Object.keys(doc.markers_hz).join(",");
  }
})();
