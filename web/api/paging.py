"""Long lists come a page at a time: `?limit` items from `?offset` on, newest first as each list is ordered, and a
`Link` header (RFC 8288) to the next page when more follow. A list cut at a fixed length said nothing of what it
left out: a search or an export missed the rest without anyone knowing."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Response, jsonify, request, url_for

from web.inputs import whole_arg

# The most items one page holds unless a list says otherwise.
MOST = 500
# Far enough for any list, near enough for every database's OFFSET.
FURTHEST = 10 ** 9

PARAMS = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MOST}},
          {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": FURTHEST,
                                                       "default": 0}}]
SAID = ("A page at a time: `limit` items from `offset` on; when more follow, a `Link` header (RFC 8288) gives the "
        "next page's address (`rel=\"next\"`).")


def page(default: int) -> tuple[int, int]:
    """The page asked for: (limit, offset)."""
    return whole_arg("limit", default, least=1, most=MOST), whole_arg("offset", 0, most=FURTHEST)


def paged(read: Callable[[int, int], Sequence], shown: Callable[[object], dict], default: int) -> Response:
    """The page of the list `read(limit, offset)` gives, each item as `shown` gives it; one more item than asked for
    is read, to know whether a next page exists."""
    limit, offset = page(default)
    found = read(limit + 1, offset)
    response = jsonify([shown(item) for item in found[:limit]])
    if len(found) > limit:
        link_next(response, offset=offset + limit)
    return response


def link_next(response: Response, **changes) -> None:
    """Point the response at the next page: this address with `changes` to its arguments."""
    following = url_for(request.endpoint, **{**(request.view_args or {}), **request.args.to_dict(), **changes})
    response.headers["Link"] = f'<{following}>; rel="next"'
