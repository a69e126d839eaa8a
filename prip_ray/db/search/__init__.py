"""Product search in the PRIP DB: a ``$filter`` tree and paging options → one page of versions.

``clauses`` translates the tree into SQL (with ``boxes`` and ``likes``, its two custom
clauses), ``statements`` keeps the statements built from it, and each search path has its
module: ``rectangles`` (an area that is a rectangle, decided mostly in SQL).
"""
