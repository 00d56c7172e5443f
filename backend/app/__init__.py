"""FX rates and assets: a reference FastAPI service on async SQLAlchemy."""

__version__ = "0.1.0"
