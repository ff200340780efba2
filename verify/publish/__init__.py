"""`verify publish`: the static claims site, built from kg's read API into a folder.

build          the publish: a previous site updated in place, else a new folder swapped in
writer         where files go: staged beside their places and renamed in, or into a new folder
sitedata       everything the pages show, gathered once from kg.api
pages          which template each page uses and what it is given
overview       the index's verdict heat-map and per-category status bars (inline SVG)
claimpage      what one claim's page says, from the parts below
checkview      each of a claim's checks (rule, verdict here, chart), the combined verdict
runstable      the compact runs table with its sparklines
evidencepairs  published numbers by matched pair, set against this machine's measurement
versionplot    the deciding cell's ratio against the framework version
charts         the inline SVG forest plot (speccurve: the specification curve)
incremental    which claims' files, environments' and sources' pages can be kept from the previous
               site unchanged
fragments      the rows of the pages that list every claim, run or flip, kept by their inputs
runcsv         the runs and measurements downloads, from per-environment parts in the cache
"""
