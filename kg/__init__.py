"""fwclaims knowledge graph: vocabulary, loading, validation, named queries, graph views, exports.

Never imports torch, tensorflow, keras or jax.
"""
