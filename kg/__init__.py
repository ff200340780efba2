"""fwclaims knowledge graph: the claims, their sources and checks, and the run records, as RDF.

Never imports verify, torch, tensorflow, keras or jax. Its modules stand in layers, each importing
only those below it (a contract in pyproject.toml):

    rowcache                           the read API's bulk rows kept between loads; new records' added
    doccache                           each claim's Turtle and JSON-LD, cached by what they are made of
    claimfile  export  evidence        writing claims, exports (also into a SPARQL server),
    benchjson                          published evidence; pytest-benchmark JSON both ways
    views  changes  lifecycle  frames  what a survey author asks of the graph; DataFrames
    api                                the one read API: typed rows for the CLI, the site, the server
    queries  runqueries  scaffold      the named queries (one per row shape: claims; runs, cells and
                                       environments); what a new claim needs
    load                               files -> validated store, cached (new records added to it)
    validate                           SHACL shapes and cross-file rules, one line per problem
    crossfile  checkrules              kinds, ids, closed vocabulary, duplicates; checks, parameters, tiers
    locate  shacl_fast                 where a node is written; SHACL Core compiled to SPARQL
    recordgraph store records ...      records as RDF; the store; the record format (with its schema);
                                       turtlecheck (prefixes, odd characters), paramschema (typed parameters)
    sparqlstore                        the graph on a SPARQL server instead (FWCLAIMS_STORE)
    environments  paths  fsutil        naming environments; where things live; atomic writes;
    checkspec                          a new claim's check as `verify claim new` reads it
    rows                               the rows the read API returns
    model  errors  ns                  labels, rules, checks, verdicts; the error tree; IRIs and ids
    textutil                           natural sort, did-you-mean, time stamps
"""
