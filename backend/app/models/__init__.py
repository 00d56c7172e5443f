"""Every ORM model, imported here so that `Base.metadata` knows them all (Alembic reads it)."""

from app.models.assets import Asset, AssetKind, AssetPrice
from app.models.fx import Currency, FxRate

__all__ = ["Asset", "AssetKind", "AssetPrice", "Currency", "FxRate"]
