"""`verify serve`: the published site, the JSON API and the read-only SPARQL endpoint."""
