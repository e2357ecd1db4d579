"""Alembic revision scripts (one linear chain; see faqbot/migrations/__init__.py)."""
