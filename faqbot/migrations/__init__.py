"""Alembic migrations for faqbot's database, shipped inside the package.

`faqbot.store_db.migrate(engine)` runs them at startup (script location = this folder).

The revision chain is linear; every new migration sets `down_revision` to the current head:

    0001_escalation_log   escalations, unanswered, feedback (the escalation log)
    (next)                moderators, moderator_sessions, audit_log, notes (moderation)

To add one, copy versions/0001_escalation_log.py to versions/0002_<name>.py, set
`revision = "0002_<name>"` and `down_revision = "0001_escalation_log"`, and add the models to
a module that subclasses `faqbot.store_models.Base`. Foreign keys to `escalations.id` should use
`ondelete="CASCADE"`: retention purges delete old escalations. `alembic` on the command line
works too: `alembic -c faqbot/migrations/alembic.ini -x url=sqlite:///var/faqbot.sqlite3 ...`.
"""
