/* The address bar follows the page's view, and Back/Forward restore it (dash_app/filters.py). */
(function () {
  var last = { source: null, at: 0 };
  var REPEAT_MS = 1000;

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    view: {
      /* view: {search, nav: [{id, href}], source, merge}; source is the control that changed
         it ("id.prop"), merge says its quick repeats share an entry (a slider's keyboard steps). */
      write: function (view) {
        if (!view) return window.dash_clientside.no_update;
        var target = window.location.pathname + view.search;
        if (window.location.pathname + window.location.search !== target) {
          var now = Date.now();
          // The first normalization of a URL, and a slider's quick repeats (keyboard steps),
          // replace the entry; every other change, however quick, adds one.
          var repeat =
            !view.source ||
            (view.merge && view.source === last.source && now - last.at < REPEAT_MS);
          if (repeat) {
            window.history.replaceState(window.history.state, "", target);
          } else {
            window.history.pushState({}, "", target);
          }
          last = { source: view.source, at: now };
        }
        (view.nav || []).forEach(function (link) {
          window.dash_clientside.set_props(link.id, { href: link.href });
        });
        return view.search;
      },
    },
  });

  window.addEventListener("popstate", function () {
    var marker = document.querySelector(".view-marker[data-view]");
    // Another page's address is Dash's router's to render.
    if (!marker || marker.getAttribute("data-path") !== window.location.pathname) return;
    last = { source: null, at: 0 };
    window.dash_clientside.set_props(
      { view: "pop", page: marker.getAttribute("data-view") },
      { data: window.location.search + "#" + Date.now() }
    );
  });
})();
