"""The web pages a person sees: `/` lists the rooms with their join URL and QR code; `/<room>`
is one room's page (what opens when someone follows a join URL in a browser). No JavaScript.

The join URL shown is built from `base_url`; when that is not set, from the address the server
listens on (the page says so) — never from the request's `Host`, which anyone can set: a page
built from it would put their address in join URLs and QR codes, and each new `Host` would
cost the QR codes of every room again. Room images come from `/static/images/<room>`.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from urllib.parse import urlsplit

import segno
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from opengroup.errors import OpenGroupError
from opengroup.rules.ids import is_valid_room_id
from opengroup.rules.images import image_media_type
from opengroup.usecases import rooms as room_cases
from opengroup.usecases.context import ServerContext
from opengroup.usecases.rooms import Room
from opengroup.web.message_text import MessageText, read_stored, short_id
from opengroup.web.outage import DATABASE

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
DEFAULT_NAME = "Session community"
# The page's icon: a speech bubble in Session's green, drawn in SVG (no binary to ship).
FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    b'<rect width="64" height="64" rx="14" fill="#00f782"/>'
    b'<path d="M14 18h36a6 6 0 0 1 6 6v16a6 6 0 0 1-6 6H30l-10 8v-8h-6a6 6 0 0 1-6-6V24'
    b'a6 6 0 0 1 6-6z" fill="#0a0a0a"/></svg>'
)
IMAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=3600",
}


# -- what the pages show ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    base_url: str  # no trailing slash
    derived: bool  # True: base_url is not configured; taken from the request
    public_key: str
    list_rooms: bool


@dataclass(frozen=True, slots=True)
class RecentMessage:
    author: str  # shortened id
    posted: float
    text: MessageText


@dataclass(frozen=True, slots=True)
class RoomView:
    id: str
    name: str
    join_url: str
    image_url: str | None
    description: str | None = None
    recent: tuple[RecentMessage, ...] | None = None  # None: not shown (setting, permissions)


def listening_base(host: str, port: int) -> str:
    """The server's own address, for pages when `base_url` is not set."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def site_for(ctx: ServerContext) -> Site:
    configured = ctx.config.base_url.strip().rstrip("/")
    base = configured or listening_base(ctx.config.host, ctx.config.port)
    # Without server_name: the public host name when base_url gives one, never a bare
    # listening address (127.0.0.1 says nothing to a visitor).
    name = ctx.config.server_name.strip() or (
        (urlsplit(configured).hostname or DEFAULT_NAME) if configured else DEFAULT_NAME
    )
    return Site(name, base, not configured, ctx.keys.public_hex, ctx.config.web_index)


def join_url(site: Site, room_id: str) -> str:
    return f"{site.base_url}/{room_id}?public_key={site.public_key}"


def image_type(ctx: ServerContext, file_id: int) -> str | None:
    """The media type of a stored image, from its first bytes; None if not a known image."""
    try:
        with ctx.blobs.path(file_id).open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    return image_media_type(head)


def room_view(
    ctx: ServerContext,
    site: Site,
    room: Room,
    description: str | None = None,
    recent: tuple[RecentMessage, ...] | None = None,
) -> RoomView:
    image_url = None
    if room.image_id is not None and image_type(ctx, room.image_id):
        image_url = f"/static/images/{room.id}?v={room.image_id}"
    return RoomView(room.id, room.name, join_url(site, room.id), image_url, description, recent)


def recent_messages(ctx: ServerContext, room_id: str) -> tuple[RecentMessage, ...] | None:
    """The newest messages as text, when `web_show_recent` is on and an anonymous reader may
    read the room; None otherwise (the page then has no such section)."""
    if not ctx.config.web_show_recent:
        return None
    rows = room_cases.public_recent_messages(ctx, room_id)
    if rows is None:
        return None
    return tuple(
        RecentMessage(short_id(row.session_id), row.posted, read_stored(row.data)) for row in rows
    )


@lru_cache(maxsize=2048)
def qr_svg(text: str, label: str) -> str:
    """An inline SVG QR code of `text`, drawn dark on light whatever the colour scheme."""
    code = segno.make(text, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=1,
        border=4,
        dark="#000",
        light="#fff",
        omitsize=True,
        svgclass="qr-code",
        lineclass=None,
        title=label,
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)


# -- HTML ------------------------------------------------------------------------------------

CSS = """
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --text: #16181d;
  --muted: #5b6270; --line: #dde1e7; --accent: #00a86b; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #111318; --card: #1b1e25; --text: #e8eaef; --muted: #a2a9b6;
    --line: #2c313b; --accent: #2fd39a; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 60rem; margin: 0 auto; padding: 1rem; }
header h1 { margin: 1rem 0 0; font-size: 1.8rem; overflow-wrap: anywhere; }
header p { margin: 0; color: var(--muted); }
a { color: var(--accent); }
.rooms { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); }
.room, .panel { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  padding: 1rem; }
.room-head { display: flex; gap: .75rem; align-items: center; }
.room h2 { margin: 0; font-size: 1.2rem; overflow-wrap: anywhere; }
.room-id { margin: 0; color: var(--muted); font-size: .9rem; }
.avatar { width: 56px; height: 56px; border-radius: 50%; object-fit: cover; flex: none;
  background: var(--line); display: grid; place-items: center; font-weight: 700;
  font-size: 1.4rem; color: var(--muted); }
.qr { background: #fff; border-radius: 8px; padding: .5rem; margin: 1rem auto;
  width: min(100%, 16rem); }
.single .qr { width: min(100%, 22rem); }
.qr-code { display: block; width: 100%; height: auto; shape-rendering: crispEdges; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: .85rem; overflow-wrap: anywhere; word-break: break-all; }
.join-url { background: var(--bg); border: 1px solid var(--line); border-radius: 8px;
  padding: .5rem; margin: 0; user-select: all; overflow-x: auto; }
/* One line that scrolls, never broken mid-URL; long-press the link to copy it on a phone. */
.join-url code { white-space: nowrap; word-break: normal; overflow-wrap: normal; }
.join-url a { color: inherit; text-decoration: none; }
.note { border-left: 4px solid var(--accent); padding: .5rem .75rem; background: var(--card); }
.warning { border-left-color: #e0a100; }
.how-to, .not-found, .recent { margin-top: 1.5rem; }
.room-description { white-space: pre-line; overflow-wrap: anywhere; margin: .75rem 0 0; }
.recent ol { list-style: none; padding: 0; margin: 0; }
.recent li { border-top: 1px solid var(--line); padding: .5rem 0; }
.recent .meta { color: var(--muted); font-size: .85rem; }
.recent .text { white-space: pre-line; overflow-wrap: anywhere; margin: .25rem 0 0; }
footer { color: var(--muted); font-size: .9rem; }
"""


def _page(title: str, site: Site, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{escape(title)}</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{escape(site.name)}</h1>
<p>Session open group server</p>
</header>
<main>
{body}
</main>
<footer>
<p>Server public key: <code class="public-key">{site.public_key}</code></p>
</footer>
</body>
</html>
"""


def _derived_note(site: Site) -> str:
    if not site.derived:
        return ""
    return (
        '<p class="note warning">This server has no <code>base_url</code> configured, so the '
        "join URLs here are built from the address it listens on "
        f"(<code>{escape(site.base_url)}</code>). If other people reach the server under "
        "another address, use that one instead.</p>"
    )


def _how_to_join(single: bool) -> str:
    target = "this room's" if single else "a room's"
    return f"""<section class="panel how-to">
<h2>How to join</h2>
<ol>
<li>Install <a href="https://getsession.org">Session</a> on your phone or computer.</li>
<li>In Session, tap <strong>+</strong> and choose <strong>Join Community</strong>
(older versions: <strong>Join Open Group</strong>).</li>
<li>Scan {target} QR code, or paste its join URL.</li>
</ol>
</section>"""


def _avatar(room: RoomView) -> str:
    if room.image_url:
        return f'<img class="avatar" src="{escape(room.image_url)}" alt="" width="56" height="56">'
    return f'<div class="avatar" aria-hidden="true">{escape(room.name[:1].upper())}</div>'


def _description(room: RoomView) -> str:
    if not room.description:
        return ""
    return f'<p class="room-description">{escape(room.description)}</p>'


def _recent_item(message: RecentMessage) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(message.posted))
    count = message.text.attachments
    attached = ""
    if count:
        plural = "s" if count > 1 else ""
        attached = f' · <span class="attachments">{count} attachment{plural}</span>'
    text = f'<p class="text">{escape(message.text.body)}</p>' if message.text.body else ""
    return (
        f'<li class="message"><span class="meta"><code class="author">{escape(message.author)}'
        f"</code> · <time>{when}</time>{attached}</span>{text}</li>"
    )


def _recent(room: RoomView) -> str:
    if room.recent is None:
        return ""
    if not room.recent:
        return '<section class="panel recent"><h2>Recent messages</h2><p>None yet.</p></section>'
    items = "\n".join(_recent_item(message) for message in room.recent)
    return f"""<section class="panel recent">
<h2>Recent messages</h2>
<ol>
{items}
</ol>
</section>"""


def _room_card(room: RoomView, single: bool) -> str:
    heading = escape(room.name) if single else f'<a href="/{room.id}">{escape(room.name)}</a>'
    qr = qr_svg(room.join_url, f"QR code of the join URL of {room.name}")
    return f"""<section class="room{" single" if single else ""}" id="room-{room.id}">
<div class="room-head">
{_avatar(room)}
<div><h2 class="room-name">{heading}</h2><p class="room-id">{room.id}</p></div>
</div>
{_description(room)}
<div class="qr">{qr}</div>
<p class="join-url"><a href="{escape(room.join_url)}"><code>{escape(room.join_url)}</code></a></p>
</section>"""


def render_index(site: Site, rooms: list[RoomView]) -> str:
    if not site.list_rooms:
        body = (
            '<p class="panel">This server does not list its rooms. Ask the person who invited '
            "you for the room's join URL or QR code.</p>\n" + _how_to_join(single=False)
        )
        return _page(site.name, site, body)
    cards = "\n".join(_room_card(room, single=False) for room in rooms)
    if not cards:
        cards = '<p class="panel">No rooms yet.</p>'
    body = f"""{_derived_note(site)}
<h2>Rooms</h2>
<div class="rooms">
{cards}
</div>
{_how_to_join(single=False)}"""
    return _page(site.name, site, body)


def render_room(site: Site, room: RoomView, given_key: str | None) -> str:
    mismatch = ""
    if given_key is not None and given_key.strip().lower() != site.public_key:
        mismatch = (
            '<p class="note warning">The link you followed carries a different public key '
            f"(<code>{escape(given_key[:80])}</code>) than this server's. Session would refuse "
            "to join with it: use the join URL below.</p>"
        )
    back = '<p><a href="/">All rooms</a></p>' if site.list_rooms else ""
    body = f"""{mismatch}{_derived_note(site)}
{_room_card(room, single=True)}
{_recent(room)}
{_how_to_join(single=True)}
{back}"""
    return _page(f"{room.name} · {site.name}", site, body)


def render_not_found(site: Site, room_id: str) -> str:
    back = '<a href="/">the list of rooms</a>' if site.list_rooms else "the join URL you were given"
    body = f"""<section class="panel not-found">
<h2>No such room</h2>
<p>This server has no room <code>{escape(room_id[:100])}</code>. Check {back}.</p>
</section>"""
    return _page(f"Not found · {site.name}", site, body)


# -- data access (run in a worker thread) ----------------------------------------------------


def index_html(ctx: ServerContext) -> str:
    site = site_for(ctx)
    rooms: list[RoomView] = []
    if site.list_rooms:
        listed = room_cases.list_room_infos(ctx)
        rooms = [room_view(ctx, site, info.room, info.description) for info in listed]
    return render_index(site, rooms)


def room_html(ctx: ServerContext, room_id: str, given_key: str | None) -> tuple[int, str]:
    site = site_for(ctx)
    info = room_cases.find_room_info(ctx, room_id) if is_valid_room_id(room_id) else None
    recent = recent_messages(ctx, room_id) if info is not None else None
    if info is None:
        return 404, render_not_found(site, room_id)
    view = room_view(ctx, site, info.room, info.description, recent)
    return 200, render_room(site, view, given_key)


def room_image(ctx: ServerContext, room_id: str) -> tuple[bytes, str] | None:
    if not is_valid_room_id(room_id):
        return None
    room = room_cases.find_room(ctx, room_id)
    if room is None or room.image_id is None:
        return None
    kind = image_type(ctx, room.image_id)
    content = ctx.blobs.read(room.image_id) if kind else None
    return (content, kind) if content is not None and kind else None


# -- HTTP ------------------------------------------------------------------------------------


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def render_unavailable(site: Site) -> str:
    body = """<section class="card">
<h2>Temporarily unavailable</h2>
<p>This server cannot reach its database right now. Session clients keep retrying on their
own; this page works again as soon as it is back. Try again in a minute.</p>
</section>"""
    return _page(f"Unavailable · {site.name}", site, body)


def _unavailable(request: Request, error: OpenGroupError) -> Response:
    """The friendly 503 page of a database outage (logged once, without a traceback)."""
    DATABASE.failed("web page", error)
    html = render_unavailable(site_for(_ctx(request)))
    headers = {**PAGE_HEADERS, "Retry-After": "30", "Cache-Control": "no-store"}
    return HTMLResponse(html, status_code=503, headers=headers)


async def index(request: Request) -> Response:
    try:
        html = await run_in_threadpool(index_html, _ctx(request))
    except OpenGroupError as error:
        return _unavailable(request, error)
    DATABASE.answered()
    return HTMLResponse(html, headers=PAGE_HEADERS)


async def room_page(request: Request) -> Response:
    try:
        status, html = await run_in_threadpool(
            room_html,
            _ctx(request),
            request.path_params["room_id"],
            request.query_params.get("public_key"),
        )
    except OpenGroupError as error:
        return _unavailable(request, error)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


async def image(request: Request) -> Response:
    try:
        found = await run_in_threadpool(room_image, _ctx(request), request.path_params["room_id"])
    except OpenGroupError:
        return Response(b"unavailable", 503, media_type="text/plain", headers=IMAGE_HEADERS)
    if found is None:
        return Response(b"no image", 404, media_type="text/plain", headers=IMAGE_HEADERS)
    content, kind = found
    return Response(content, media_type=kind, headers=IMAGE_HEADERS)


# Order matters: `/{room_id}` catches every other single-segment path, so it comes last (and
# after every route of the app: see RESERVED_ROOM_IDS).
async def favicon(request: Request) -> Response:
    return Response(FAVICON, media_type="image/svg+xml", headers=IMAGE_HEADERS)


ROUTES = [
    Route("/", index, methods=["GET"]),
    Route("/favicon.ico", favicon, methods=["GET"]),
    Route("/static/images/{room_id}", image, methods=["GET"]),
    Route("/{room_id}", room_page, methods=["GET"]),
]
