"""The family diary site and printable paper, built from the hub's database.

The site: who may see what, page data, templates, Frozen-Flask builds and atomic publishing (docs/site.md).
    access    the one place that decides which children a family's link shows, and which links are live
    links     issuing, rotating, revoking and exporting the links
    data      the journal of the classes a build needs, loaded once per build
    pages     page contexts: weeks, subjects with average and forecast, period marks, tests, teachers
    forecast  the weighted average and the forecast rule
    render    the Frozen-Flask app that renders the templates into files
    publish   the output folder: atomic swap of a link's page set, removal, robots.txt, CSS
    build     incremental (the DirtyFamily queue), full rebuild and the sweep that removes stale pages
    worker    the loop that keeps the site fresh beside the hub
    status    the record of builds (.state.json): last build, day of the last full rebuild
    parallel  a full rebuild on several cores
    serve     WhiteNoise for the hub: pages added or removed after start-up, private headers
    paper/    printable slips and journal copies (its own package)
"""
