"""An INSERT compiled once for the driver, for the writers that run on every scored request.

Executing a SQLAlchemy statement costs about 15 µs a row here in parameter processing
(``construct_params``, a dict per row, each column's type); the driver's own
``executemany`` with ready rows costs a few. The values still go through each column's
SQLAlchemy type (``bind_processor``), so a row written here reads back through the ORM
exactly as one written by it.
"""

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from sqlalchemy import Dialect, Insert, Table, bindparam

Processor = Callable[[Any], Any] | None
_NOTHING: Mapping[str, Any] = MappingProxyType({})


class CompiledInsert:
    """``statement`` (an INSERT into ``table``) with ``columns`` as its bound values."""

    def __init__(
        self, table: Table, statement: Insert, columns: Sequence[str], dialect: Dialect
    ) -> None:
        compiled = statement.values({n: bindparam(n) for n in columns}).compile(dialect=dialect)
        self.sql: str = compiled.string
        order = list(compiled.positiontup or columns) if compiled.positional else list(columns)
        self.positional = compiled.positional
        self._processors: dict[str, Processor] = {
            n: table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in order
        }

    def row(self, values: Mapping[str, Any], fixed: Mapping[str, Any] = _NOTHING) -> Any:
        """The driver's parameters for ``values``; ``fixed`` holds ready values (e.g. a time
        bound once for a whole batch) that take the place of ``values``' own."""
        out = []
        for name, process in self._processors.items():
            if name in fixed:
                out.append(fixed[name])
                continue
            value = values.get(name)
            out.append(value if value is None or process is None else process(value))
        return tuple(out) if self.positional else dict(zip(self._processors, out, strict=True))

    def bind(self, name: str, value: Any) -> Any:
        """``value`` as column ``name``'s type sends it to the driver."""
        process = self._processors[name]
        return value if value is None or process is None else process(value)
