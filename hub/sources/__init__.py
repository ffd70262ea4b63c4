"""The federated sources: one package each (tables, bindings); this registry names them."""

from __future__ import annotations

from hub.bindings import Binding


def bindings_of(source: str) -> tuple[Binding, ...]:
    if source == "ministry":
        from hub.sources.ministry.bindings import BINDINGS
    elif source == "city":
        from hub.sources.city.bindings import BINDINGS
    else:
        raise KeyError(source)
    return BINDINGS
