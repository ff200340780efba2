"""`verify serve`: the published site, the JSON API and the read-only SPARQL endpoint.

app           create_app: the FastAPI app, its error shape and the body cap, from the parts below
claims_api    /api/claims, /api/sources, /api/environments, read through verify.sitedata
sparql_api    GET and POST /sparql: read the query from the request, answer results or an error
static        the site's files, never outside the site folder
models        the API's response models and its one error shape
limits        every cap (time, memory, rows, queue, body), the body-size middleware, admission
query         the query form and the result format (Accept), checked before any worker runs
endpoint      the worker pool: admission, time limit, memory cap, 503 when not answered
worker        the worker process: network guard, read-only store, memory cap, serialisation
federation    refuses SERVICE anywhere in a query's algebra (rdflib's parser)
sandbox       the seccomp filter that keeps a worker off the network
storecopy     the store copy the workers open, per server process, stale copies removed
errors        what the endpoint answers instead of results, with HTTP statuses

The server is read-only, fetches nothing for a client, and caps time, memory, rows and body
size. Its routes read only the data the site is built from; the only SPARQL it runs for a
client is the endpoint's.
"""
