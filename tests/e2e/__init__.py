"""End-to-end API tests: the real server as a subprocess, reached through both transports."""
