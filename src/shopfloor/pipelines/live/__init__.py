"""The live pipeline: a YAML spec of registered components, run over a live source or a store.

* :mod:`.registry` / :mod:`.components`: the components a spec may name.
* :mod:`.spec`: the spec file, validated on load.
* :mod:`.windows`: blocks of a channel into windows, by sequence number.
* :mod:`.ledger`: window results and dead letters on disk (idempotent).
* :mod:`.runtime`: the asyncio service; :mod:`.offline`: the same spec over stored data.
"""
