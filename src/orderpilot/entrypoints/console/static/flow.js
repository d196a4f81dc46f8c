// The lifecycle board's graph (console/diagnosis.py): nodes and edges from #flow-data, edge
// width by orders, colour by p90 against the target; clicking an edge loads its slowest orders.
(function () {
  "use strict";
  var COLOURS = {on_target: "#2e7d32", slipping: "#f59e0b", over_target: "#c62828",
                 no_target: "#9aa5b1"};

  function draw() {
    var box = document.getElementById("flow-graph");
    var data = document.getElementById("flow-data");
    if (!box || !data || typeof cytoscape === "undefined") return;
    var graph = JSON.parse(data.textContent);
    var most = Math.max.apply(null, graph.edges.map(function (e) { return e.count; }).concat([1]));
    var elements = graph.nodes.map(function (n) {
      return {data: {id: n.id, label: n.label}};
    }).concat(graph.edges.map(function (e) {
      return {data: {id: e.from + ">" + e.to, source: e.from, target: e.to, from: e.from,
                     to: e.to, count: e.count, grade: e.grade,
                     width: 1.5 + 8.5 * e.count / most, colour: COLOURS[e.grade] || COLOURS.no_target}};
    }));
    var cy = cytoscape({
      container: box, elements: elements, wheelSensitivity: 0.2,
      layout: {name: "breadthfirst", directed: true, roots: graph.nodes.some(function (n) {
        return n.id === "placed"; }) ? ["placed"] : undefined, spacingFactor: 1.1, padding: 16},
      style: [
        {selector: "node", style: {"label": "data(label)", "font-size": 12,
          "background-color": "#1f4e79", "color": "#1b2733", "text-valign": "center",
          "text-halign": "right", "text-margin-x": 6, "width": 16, "height": 16}},
        {selector: "edge", style: {"width": "data(width)", "line-color": "data(colour)",
          "target-arrow-color": "data(colour)", "target-arrow-shape": "triangle",
          "arrow-scale": 0.6, "curve-style": "bezier", "label": "data(count)", "font-size": 10,
          "text-margin-x": -12,
          "text-background-color": "#fff", "text-background-opacity": 0.8}},
        {selector: "edge:selected", style: {"overlay-opacity": 0.15}}
      ]
    });
    cy.on("tap", "edge", function (event) {
      var edge = event.target.data();
      var query = box.dataset.query ? box.dataset.query + "&" : "";
      var url = box.dataset.slowest + "?" + query + "from=" + encodeURIComponent(edge.from) +
        "&to=" + encodeURIComponent(edge.to);
      if (window.htmx) {
        window.htmx.ajax("GET", url, {target: "#slowest", swap: "outerHTML"});
      } else {
        fetch(url, {credentials: "same-origin", headers: {"HX-Request": "true"}}).then(function (r) { return r.text(); })
          .then(function (html) { document.getElementById("slowest").outerHTML = html; });
      }
    });
    window.addEventListener("resize", function () { cy.resize(); cy.fit(undefined, 16); });
    window.flowGraph = cy;  // read by the browser test
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
