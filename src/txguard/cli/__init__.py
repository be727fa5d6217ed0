"""The ``txguard`` command. Each command group lives in its own module; heavy imports
(pandas, SQLAlchemy) happen inside the commands so ``txguard --help`` stays fast."""
