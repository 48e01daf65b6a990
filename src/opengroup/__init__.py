"""opengroup: a self-hosted open group server for the Session messenger."""

__version__ = "0.1.0"
