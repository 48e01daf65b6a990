"""Endpoints: one module per resource. Each validates input and shapes replies exactly as
PROTOCOL.md section 4 says; `routes.ROUTES` is the one table every transport dispatches through."""
