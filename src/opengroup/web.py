"""The page at `/`: what this server is and how to join its rooms."""

from __future__ import annotations

from html import escape

from .context import ServerContext
from .store import rooms as room_store


def index_page(ctx: ServerContext) -> str:
    with ctx.db.read() as tx:
        rooms = room_store.list_rooms(tx)
    items = []
    for room in rooms:
        url = ctx.join_url(room.id)
        link = f"<br><code>{escape(url)}</code>" if url else ""
        items.append(f"<li><strong>{escape(room.name)}</strong> ({escape(room.id)}){link}</li>")
    room_list = "\n".join(items) or "<li>No rooms yet.</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>opengroup: Session open group server</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto;
 padding: 0 1rem">
<h1>Session open group server</h1>
<p>This server hosts open groups for the <a href="https://getsession.org">Session</a> messenger.
To join a room, copy its join URL into Session: <em>+</em> &rarr; <em>Join Community</em>
(or <em>Join Open Group</em>).</p>
<h2>Rooms</h2>
<ul>
{room_list}
</ul>
<p>Server public key: <code>{ctx.keys.public_hex}</code></p>
</body></html>
"""
