"""`profilemesh report`: one self-contained HTML page over the query views.

- `history`: what the page shows, read from the views (or the N-1 fallback) a reader chose: runs,
  drift events and every column's numeric metrics, per table, within a window;
- `figures`: each table's health and its trend data, aligned on the table's runs (plain data, no HTML);
- `page`: the HTML (a Jinja2 template) with plotly.js inlined once; the charts are drawn by plotly.js
  in the browser from the embedded data, so the file needs no network and stays small;
- `build`: `write_report`, the three in order, and what was written (`ReportResult`).
"""
