"""`verify publish`: the static claims site, built from kg's read API into a folder.

build      the folder: templates, assets, raw records, an atomic swap
sitedata   everything the pages show, gathered once from kg.api
pages      which template each page uses and what it is given
claimpage  what one claim's page says; charts: the inline SVG charts
overview   the index's verdict heat-map and per-category status bars (inline SVG)
"""
