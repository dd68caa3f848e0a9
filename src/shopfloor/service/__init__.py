"""The service: REST API with roles, live dashboard and metrics over the store (FastAPI).

Needs the ``service`` extra (``pip install shopfloor[service]``). Build the application with
:func:`shopfloor.service.app.create_app`; ``shopfloor serve`` runs it. Routes are thin: they
call the store's public API and :mod:`shopfloor.service.views` (grouping and counting only).
"""
