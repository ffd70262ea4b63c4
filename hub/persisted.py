"""Persisted queries: a client sends a document's SHA-256 instead of the document.

Both common forms are understood: automatic persisted queries (`extensions.persistedQuery`
with `sha256Hash`: a client sends the hash alone, and on PERSISTED_QUERY_NOT_FOUND once more
with the document, which registers it) and persisted documents by id (`documentId` of the form
`sha256:<hex>`, for documents registered that way). The registry is per process and bounded; a
hub process that has not seen a document answers PERSISTED_QUERY_NOT_FOUND and the client
sends it again. A document is only ever stored under its own hash, so no client can make a
hash stand for another document.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass

KEPT = 2048
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PersistedQueryError:
    code: str
    message: str
    status: int = 200


NOT_FOUND = PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")


def document_hash(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._documents: OrderedDict[str, str] = OrderedDict()

    def resolve(self, payload: dict) -> str | PersistedQueryError | None:
        """The document a request names by hash (None: it sends its document as usual)."""
        wanted = self._wanted_hash(payload)
        if wanted is None or isinstance(wanted, PersistedQueryError):
            return wanted
        query = payload.get("query")
        if isinstance(query, str):
            if document_hash(query) != wanted:
                return PersistedQueryError("BAD_USER_INPUT", "the document does not have the hash it is sent with", 400)
            self._keep(wanted, query)
            return None
        document = self._documents.get(wanted)
        if document is None:
            return NOT_FOUND
        self._documents.move_to_end(wanted)
        return document

    def _wanted_hash(self, payload: dict) -> str | PersistedQueryError | None:
        extensions = payload.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        document_id = payload.get("documentId")
        if persisted is None and document_id is None:
            return None
        if persisted is not None:
            if not isinstance(persisted, dict) or persisted.get("version", 1) != 1:
                return PersistedQueryError("BAD_USER_INPUT", "persistedQuery: only version 1 is supported", 400)
            wanted = persisted.get("sha256Hash")
        else:
            wanted = document_id[len("sha256:"):] if isinstance(document_id, str) and document_id.startswith("sha256:") else None
        if not isinstance(wanted, str) or not _HEX.fullmatch(wanted):
            return PersistedQueryError("BAD_USER_INPUT", "a persisted query is named by a SHA-256 hash in lower-case hex", 400)
        return wanted

    def _keep(self, digest: str, query: str) -> None:
        self._documents[digest] = query
        self._documents.move_to_end(digest)
        while len(self._documents) > self.kept:
            self._documents.popitem(last=False)
