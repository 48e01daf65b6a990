"""The modern SOGS API (SOGS-API.md): one module per resource; `routes.SOGS` is its table."""
