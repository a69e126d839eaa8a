"""Product search in the PRIP DB: a ``$filter`` tree and paging options → one page of
product versions, and the count if asked.

``clauses`` translates the tree into SQL (with ``boxes`` and ``likes``, its two custom
clauses) and ``statements`` keeps the statements built from it. ``plan`` chooses one path
per query, each a module: ``plain``, ``rectangles``, ``footprints`` and ``evaluated``.
Rows are read by column label (``keys`` names the sort keys ``key<i>``), never by position.
"""

from prip_ray.db.search.pages import MAX_SHAPE_CANDIDATES, SearchPage
from prip_ray.db.search.plan import search_page

__all__ = ["MAX_SHAPE_CANDIDATES", "SearchPage", "search_page"]
