"""Loading a relationship in async code: through `AsyncAttrs.awaitable_attrs`, and through `run_sync`.

`run_sync` runs a plain function inside SQLAlchemy's child greenlet, where lazy loading works as in
sync code: those lines run in the child greenlet, the caller's after it returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String
from sqlalchemy.ext.asyncio import AsyncAttrs, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

logger = logging.getLogger(__name__)


class Base(AsyncAttrs, DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    books: Mapped[list[Book]] = relationship(back_populates="author", order_by="Book.title")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


@dataclass(frozen=True)
class Shelf:
    books: int
    pages: int


async def titles_by(*, session: AsyncSession, author_id: int) -> list[str] | None:
    author = await session.get(Author, author_id)
    if author is None:
        return None
    books = await author.awaitable_attrs.books
    titles = [book.title for book in books]
    logger.info("%s has %d books", author.name, len(titles))
    return titles


def _shelf(session: Session, author_id: int) -> Shelf | None:
    author = session.get(Author, author_id)
    if author is None:
        return None
    pages = sum(book.pages for book in author.books)  # a lazy load: fine inside run_sync
    return Shelf(books=len(author.books), pages=pages)


async def shelf_of(*, session: AsyncSession, author_id: int) -> Shelf | None:
    shelf = await session.run_sync(_shelf, author_id)
    if shelf is not None:
        logger.info("author %d: %d pages", author_id, shelf.pages)
    return shelf
