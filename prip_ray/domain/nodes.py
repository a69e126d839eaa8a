"""A product's Nodes (CDSE's ``Products(Id)/Nodes``): the tree of its package's members.

Ingestion records each member of the package (its path, size and where its bytes start in
the tar stream, domain/package.py ``Member``); this module turns that flat list into the
folders and files a client walks, ``Nodes(<root>)/Nodes(<folder>)/Nodes``. Folders a tar
lists only through their files' paths are nodes too; a folder's ContentLength is 0, as on
CDSE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from prip_ray.domain.package import Member
from prip_ray.errors import ProductNotFound

NodePath = tuple[str, ...]


@dataclass(frozen=True)
class Node:
    path: NodePath  # names from the root down, this node's own last
    content_length: int  # 0 for a folder
    children_number: int
    member: Member | None  # the file; None for a folder

    @property
    def name(self) -> str:
        return self.path[-1]


class NodeTree:
    """The folders and files of one package, built once from its member list."""

    def __init__(self, members: Sequence[Member]):
        self._children: dict[NodePath, list[str]] = {(): []}
        self._files: dict[NodePath, Member] = {}
        for member in members:
            path = PurePosixPath(member.path).parts
            if not path or path == (".",):
                continue  # the archive's own top folder ("tar -C PDI .")
            self._add(path)
            if not member.folder:
                self._files[path] = member

    def _add(self, path: NodePath) -> None:
        for depth in range(1, len(path) + 1):
            parent, here = path[: depth - 1], path[:depth]
            if here not in self._children:
                self._children[here] = []
                self._children[parent].append(here[-1])

    def children(self, path: NodePath = ()) -> list[Node]:
        """The nodes inside ``path`` (the root nodes for ``()``), in archive order."""
        if path and self.node(path).member is not None:
            raise ProductNotFound(f"{'/'.join(path)} is a file: it has no Nodes")
        return [self._node((*path, name)) for name in self._children[path]]

    def node(self, path: NodePath) -> Node:
        if not path or path not in self._children:
            raise ProductNotFound(f"the product has no node {'/'.join(path)!r}")
        return self._node(path)

    def file(self, path: NodePath) -> Member:
        """The member whose bytes ``Nodes(...)/$value`` sends: a file, not a folder."""
        member = self.node(path).member
        if member is None:
            raise ProductNotFound(f"{'/'.join(path)} is a folder: download its files")
        return member

    def _node(self, path: NodePath) -> Node:
        member = self._files.get(path)
        size = member.size if member is not None else 0
        return Node(path, size, len(self._children[path]), member)
