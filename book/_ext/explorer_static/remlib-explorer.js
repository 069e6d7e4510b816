/* The explorers of remlib.widgets in the static online book, with no Python.
 *
 * Each <div class="remlib-explorer"> holds a payload made at build time by
 * remlib/_static_explorer.py: the explorer's model run over a grid of control values, with
 * for every combination the status line and the pixels of the figure's moving parts. This
 * script builds native controls (<input type=range>, <select>, each with a <label> and an
 * <output>), and on every input looks the combination up and strokes its stored pixels over
 * the figure's static image. It evaluates no formula of the model.
 */
(function () {
  "use strict";
  var QUANTUM = 10;  // stored coordinates are tenths of a pixel

  function decode(text) {
    var bytes = Uint8Array.from(atob(text.trim()), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).text().then(JSON.parse);
  }

  function points(data, index) {  // delta-coded ints -> [x0, y0, x1, y1, ...] in pixels
    var flat = data.arrays[index], out = new Float64Array(flat.length), x = 0, y = 0;
    for (var i = 0; i < flat.length; i += 2) {
      x += flat[i]; y += flat[i + 1];
      out[i] = x / QUANTUM; out[i + 1] = y / QUANTUM;
    }
    return out;
  }

  function marker(ctx, kind, x, y, size) {
    var r = size / 2;
    ctx.beginPath();
    if (kind === "o") ctx.arc(x, y, r, 0, 2 * Math.PI);
    else if (kind === ".") ctx.arc(x, y, r / 2, 0, 2 * Math.PI);
    else if (kind === "s") ctx.rect(x - r, y - r, size, size);
    else if (kind === "_") { ctx.moveTo(x - r, y); ctx.lineTo(x + r, y); }
    if (kind !== "_") ctx.fill();
    ctx.stroke();
  }

  var BASELINE = {top: "top", center: "middle", center_baseline: "middle", bottom: "bottom", baseline: "alphabetic"};

  function drawState(ctx, data, state) {
    ctx.setLineDash([]);
    if (state.k === "line") {
      ctx.strokeStyle = state.c; ctx.lineWidth = state.w; ctx.lineJoin = "round"; ctx.lineCap = "butt";
      if (state.d) ctx.setLineDash(state.d);
      state.p.forEach(function (index) {
        var xy = points(data, index);
        ctx.beginPath(); ctx.moveTo(xy[0], xy[1]);
        for (var i = 2; i < xy.length; i += 2) ctx.lineTo(xy[i], xy[i + 1]);
        ctx.stroke();
      });
      ctx.setLineDash([]);
      if (state.m && state.mp >= 0) {
        var m = points(data, state.mp);
        ctx.fillStyle = state.mf; ctx.strokeStyle = state.me; ctx.lineWidth = state.mw;
        for (var j = 0; j < m.length; j += 2) marker(ctx, state.m, m[j], m[j + 1], state.ms);
      }
    } else if (state.k === "patch") {
      var poly = points(data, state.poly);
      ctx.beginPath(); ctx.moveTo(poly[0], poly[1]);
      for (var k = 2; k < poly.length; k += 2) ctx.lineTo(poly[k], poly[k + 1]);
      ctx.closePath();
      ctx.fillStyle = state.f; ctx.fill();
      if (state.e) { ctx.strokeStyle = state.e; ctx.lineWidth = state.w; ctx.stroke(); }
    } else if (state.k === "text") {
      ctx.fillStyle = state.c;
      ctx.font = state.s + "px 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";
      ctx.textAlign = state.ha === "center" ? "center" : state.ha === "right" ? "right" : "left";
      ctx.textBaseline = BASELINE[state.va] || "alphabetic";
      ctx.fillText(state.t, state.x, state.y);
    }
  }

  function Explorer(root, data) {
    this.root = root; this.data = data;
    this.index = data.controls.map(function (c) { return c.default; });
    root.textContent = "";
    var title = document.createElement("div");
    title.className = "remlib-explorer-title"; title.textContent = data.title;
    var controls = document.createElement("div");
    controls.className = "remlib-explorer-controls";
    root.append(title, controls);
    var self = this, uid = "remlib-explorer-" + (Explorer.count = (Explorer.count || 0) + 1);
    this.inputs = data.controls.map(function (control, i) {
      var box = document.createElement("div"), label = document.createElement("label"), input;
      box.className = "remlib-explorer-control";
      label.textContent = control.label;
      label.htmlFor = uid + "-" + control.name;
      if (control.kind === "select") {
        input = document.createElement("select");
        control.labels.forEach(function (text, j) { input.add(new Option(text, String(j))); });
      } else {
        input = document.createElement("input");
        input.type = "range"; input.min = 0; input.max = control.labels.length - 1; input.step = 1;
      }
      input.id = uid + "-" + control.name;
      input.dataset.control = control.name;
      input.value = String(control.default);
      box.append(label, input);
      if (control.kind !== "select") {
        var output = document.createElement("output");
        output.htmlFor = input.id;
        box.append(output);
        input.output = output;
      }
      input.addEventListener("input", function () { self.index[i] = Number(input.value); self.draw(); });
      controls.append(box);
      return input;
    });
    var figure = document.createElement("div");
    figure.className = "remlib-explorer-figure";
    this.canvases = data.panels.map(function (box) {
      var canvas = document.createElement("canvas"), w = box[2] - box[0];
      canvas.width = w; canvas.height = box[3] - box[1];
      canvas.style.flex = w + " 1 0px";
      canvas.style.width = "0px";  // the flex rule sets the width; min-width below wraps narrow windows
      canvas.style.minWidth = "min(100%, 200px)";  // a row on a page column, one per row on a phone
      canvas.style.maxWidth = Math.round(w / (data.scale || 1)) + "px";  // at most the live figure's size
      canvas.setAttribute("role", "img");
      figure.append(canvas);
      return canvas;
    });
    this.status = document.createElement("div");
    this.status.className = "remlib-explorer-status";
    this.status.setAttribute("aria-live", "polite");
    var sampling = document.createElement("div");
    sampling.className = "remlib-explorer-sampling";
    sampling.textContent = "Precomputed by remlib when the book was built. Values: " + data.controls.map(
      function (c) { return c.label + ": " + c.sampling; }).join("; ") + ".";
    root.append(figure, this.status, sampling);
    this.background = new Image();
    this.background.onload = function () { self.draw(); };
    this.background.src = data.background;
  }

  Explorer.prototype.frame = function () {
    var k = 0, stride = 1, controls = this.data.controls;
    for (var i = 0; i < controls.length; i++) { k += this.index[i] * stride; stride *= controls[i].labels.length; }
    return k;
  };

  Explorer.prototype.draw = function () {
    var data = this.data, k = this.frame(), states = data.frames[k], self = this;
    this.inputs.forEach(function (input, i) {
      var text = data.controls[i].labels[self.index[i]];
      if (input.output) { input.output.value = text; input.setAttribute("aria-valuetext", text); }
    });
    this.status.innerHTML = data.summaries[k];
    if (!this.background.complete) return;
    this.canvases.forEach(function (canvas, p) {
      var box = data.panels[p], ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(self.background, box[0], box[1], w, h, 0, 0, w, h);  // this panel's part only
      ctx.setTransform(1, 0, 0, 1, -box[0], -box[1]);  // the stored pixels are the whole figure's
      var clip = data.clips[p];
      states.forEach(function (s, a) {
        if (s < 0 || data.artists[a] !== p) return;
        var state = data.states[s];
        ctx.save();
        if (state.k !== "text") { ctx.beginPath(); ctx.rect(clip[0], clip[1], clip[2] - clip[0], clip[3] - clip[1]); ctx.clip(); }
        drawState(ctx, data, state);
        ctx.restore();
      });
      data.legends.forEach(function (l) {  // legends stay on top of the moving lines
        if (l[0] === p) ctx.drawImage(self.background, l[1], l[2], l[3] - l[1], l[4] - l[2], l[1], l[2], l[3] - l[1], l[4] - l[2]);
      });
      canvas.setAttribute("aria-label", data.title + " (panel " + (p + 1) + "): " + self.status.textContent);
    });
    this.root.dataset.frame = String(k);
  };

  function start() {
    document.querySelectorAll(".remlib-explorer").forEach(function (root) {
      var payload = root.querySelector('script[type="application/vnd.remlib.explorer+json"]');
      if (!payload || root.explorer) return;
      decode(payload.textContent).then(function (data) {
        root.explorer = new Explorer(root, data);
        root.dataset.ready = "true";
      }).catch(function (error) {
        root.dataset.error = String(error);
        console.error("remlib explorer: " + error);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
