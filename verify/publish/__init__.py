"""`verify publish`: the static claims site, built from kg's read API into a folder.

build        the folder: templates, assets, raw records (hard links), an atomic swap
sitedata     everything the pages show, gathered once from kg.api
pages        which template each page uses and what it is given
claimpage    what one claim's page says; charts: the inline SVG charts
incremental  which claims' files can be taken from the previous site unchanged
runcsv       the measurements download, from per-environment parts in the cache
"""
